// EXPLAIN QUERY PLAN of every statement the bench's queries prepare, on a store file
// (bench/store_gen.mjs makes one): what each query reads, before/after a schema change.
//   node bench/store_explain.mjs <file>
// Statements are captured by wrapping the store's `prepare`, so the plans are those of the
// SQL the query API really runs, whatever shape its filters give it.
import { Store } from '../dist/src/agent/store.js'
import { queryApi } from '../dist/src/agent/query_api.js'
import { listParams } from '../dist/src/agent/query_params.js'

const file = process.argv[2]
if (file === undefined) { console.error('usage: node bench/store_explain.mjs <file>'); process.exit(2) }
const store = new Store(file)
const seen = new Map()
let current = ''
const prepare = store.db.prepare.bind(store.db)
store.db.prepare = (sql) => {
  const key = sql.replace(/\s+/g, ' ').trim()
  if (!seen.has(key)) seen.set(key, current)
  return prepare(sql)
}
const api = queryApi(store)
const url = (q) => new URL(`http://x/?${q}`)
const run = (name, fn) => {
  current = name
  const t = performance.now()
  const c = process.cpuUsage()
  const out = fn()
  const cpu = process.cpuUsage(c)
  console.log(`${name}: ${((cpu.user + cpu.system) / 1000).toFixed(1)} ms CPU, ${(performance.now() - t).toFixed(1)} ms wall (one cold run)`)
  return out
}
const first = run('traces list', () => api.traces.list({}, listParams(url('limit=100'), 'traces', ['start'])))
run('traces list, cursor', () => api.traces.list({}, listParams(url(`limit=100&cursor=${first.nextCursor}`), 'traces', ['start'])))
run('traces list, ml_app + status=ok', () => api.traces.list({ mlApp: 'bench', status: 'ok' }, listParams(url('limit=100'), 'traces', ['start'])))
const id = first.rows[0].trace_id
run('one trace', () => { api.spans.ofTrace(id); api.traces.one(id); store.queries.listEvaluations({ traceId: id, limit: 1000 }) })
run('fts traces q=refund', () => api.traces.list({ q: 'refund' }, listParams(url('limit=100'), 'traces', ['start'])))
run('fts traces q="full refund"', () => api.traces.list({ q: '"full refund"' }, listParams(url('limit=50'), 'traces', ['start'])))
run('fts spans q=warranty*', () => api.spans.list({ q: 'warranty*' }, listParams(url('limit=100'), 'spans', ['start'])))
run('spans list', () => api.spans.list({}, listParams(url('limit=100'), 'spans', ['start'])))
run('summary 24 h', () => api.summary.summary({}, Date.now() - 86_400_000, Date.now(), 24))
store.db.prepare = prepare
for (const [sql, name] of seen) {
  if (!/^(WITH|SELECT)/i.test(sql)) continue
  // Parameters must be bound even for EXPLAIN: all NULL (the plan does not depend on them).
  const names = [...new Set(sql.match(/@\w+/g) ?? [])].map((n) => n.slice(1))
  const positional = (sql.replace(/'[^']*'/g, '').match(/\?/g) ?? []).length
  const st = store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`)
  const rows = names.length > 0 ? st.all(Object.fromEntries(names.map((n) => [n, null]))) : st.all(...Array(positional).fill(null))
  const parents = new Map(rows.map((r) => [r.id, r.parent]))
  const depth = (r) => { let d = 0; for (let p = r.parent; p !== 0 && d < 8; p = parents.get(p) ?? 0) d++; return d }
  console.log(`\n[${name}] ${sql.length > 300 ? sql.slice(0, 300) + ' …' : sql}\n${rows.map((r) => `  ${'  '.repeat(depth(r))}${r.detail}`).join('\n')}`)
}
store.close()
