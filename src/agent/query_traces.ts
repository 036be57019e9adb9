import { invalid } from './json_checks.js'
import { TOTAL_CAP, encodeCursor, int64Key, type ListParams } from './query_params.js'
import { EVAL_VALUE, SNIPPET, SNIPPET_OF_ROW, StatementCache, Where, checkFtsQuery, ftsRowMatches, ftsPlan, inSet, keyset, orderBy, setMembers, snippetHtml } from './query_sql.js'
import type { SqliteParam } from './sqlite.js'
import type { Store } from './store.js'

export const TRACE_SORTS = ['start', 'duration', 'tokens', 'cost'] as const
const TRACE_SORT_COLUMN: Record<string, string> = { start: 't.start_int', duration: 't.duration', tokens: 't.total_tokens', cost: 't.cost_sort' }
export const SPAN_KINDS = ['llm', 'embedding', 'workflow', 'agent', 'tool', 'task', 'retrieval']

export interface TraceFilters {
  mlApp?: string
  status?: string
  kind?: string
  model?: string
  sessionId?: string
  name?: string
  evalLabel?: string
  evalValue?: string
  q?: string
}

export interface Page<T> {
  rows: T[]
  nextCursor: string | null
  total?: number
  more: boolean
}

/** Checks the filters every list shares; throws InvalidInput with the reason. */
export function checkFilters (cache: StatementCache, f: TraceFilters): TraceFilters {
  if (f.status !== undefined && f.status !== 'ok' && f.status !== 'error') invalid(`"status" must be ok or error, got ${JSON.stringify(f.status.slice(0, 64))}`)
  if (f.kind !== undefined && !SPAN_KINDS.includes(f.kind)) invalid(`"kind" must be one of ${SPAN_KINDS.join(', ')}, got ${JSON.stringify(f.kind.slice(0, 64))}`)
  if (f.evalValue !== undefined && f.evalLabel === undefined) invalid('"eval_value" needs "eval_label" (the evaluation whose value to match)')
  return f.q === undefined ? f : { ...f, q: checkFtsQuery(cache, f.q) }
}

/** Rows of llm_traces (store_rollups.ts) as the API shows them. */
export class TraceQueries {
  readonly cache: StatementCache

  constructor (store: Store) {
    this.cache = new StatementCache(store.db)
  }

  list (filters: TraceFilters, p: ListParams): Page<Record<string, unknown>> {
    const f = checkFilters(this.cache, filters)
    const where = new Where()
    if (f.mlApp !== undefined) where.add('t.ml_app = ?', f.mlApp)
    if (f.status === 'error') where.add('t.error_count > 0')
    if (f.status === 'ok') where.add('t.error_count = 0')
    if (f.kind !== undefined) where.add(inSet('t.kinds'), f.kind)
    if (f.model !== undefined) where.add(inSet('t.models'), f.model)
    if (f.sessionId !== undefined) where.add('t.session_id = ?', f.sessionId)
    if (f.name !== undefined) where.add('t.root_name = ?', f.name)
    if (f.evalLabel !== undefined) {
      if (f.evalValue !== undefined) where.add(`EXISTS (SELECT 1 FROM evaluations e WHERE e.label = ? AND e.trace_id = t.trace_id AND ${EVAL_VALUE})`, f.evalLabel, f.evalValue)
      else where.add('EXISTS (SELECT 1 FROM evaluations e WHERE e.label = ? AND e.trace_id = t.trace_id)', f.evalLabel)
    }
    if (p.since !== undefined) where.add('t.start_int >= ?', p.since)
    if (p.until !== undefined) where.add('t.start_int < ?', p.until)
    if (f.q !== undefined) {
      const plan = ftsPlan(this.cache, f.q)
      f.q = plan.q
      if (plan.sparse) where.add('t.trace_id IN (SELECT s.trace_id FROM llmobs_fts JOIN llmobs_spans s ON s.id = llmobs_fts.rowid WHERE llmobs_fts MATCH ?)', f.q)
      else where.add(`EXISTS (SELECT 1 FROM llmobs_spans s WHERE s.trace_id = t.trace_id AND ${ftsRowMatches('s.id')})`, f.q)
    }
    const cols = [TRACE_SORT_COLUMN[p.sort], 't.trace_id']
    const counted = where.copy()
    if (p.after !== undefined) {
      if (p.after.length !== 2 || typeof p.after[1] !== 'string') invalid('"cursor" is damaged (key)')
      const k0 = p.sort === 'cost' ? Number(p.after[0]) : int64Key(p.after[0], 'sort key')
      keyset(where, cols, p.order, [k0, p.after[1]])
    }
    const rows = this.cache.get(`SELECT ${TRACE_COLUMNS} FROM llm_traces t ${where.sql()} ${orderBy(cols, p.order)} LIMIT ${p.limit + 1}`)
      .all(where.params) as Array<Record<string, unknown>>
    const more = rows.length > p.limit
    if (more) rows.length = p.limit
    const out = rows.map((r) => this.row(r, f.q))
    const last = rows[rows.length - 1]
    const nextCursor = more ? encodeCursor('traces', p.sort, p.order, [sortKey(last, p.sort), last.trace_id as string]) : null
    const page: Page<Record<string, unknown>> = { rows: out, nextCursor, more }
    // Counting full-text matches costs as much as the page itself: past the first page they say `more`.
    const total = p.after === undefined && !more ? rows.length : f.q === undefined ? this.count(counted) : undefined
    if (total !== undefined) page.total = total
    return page
  }

  /** One trace's row (null when no span of it is stored). */
  one (traceId: string): Record<string, unknown> | null {
    const r = this.cache.get(`SELECT ${TRACE_COLUMNS} FROM llm_traces t WHERE t.trace_id = ?`).get(traceId) as Record<string, unknown> | undefined
    return r === undefined ? null : this.row(r, undefined)
  }

  /** Traces of one session, in start order. */
  ofSession (sessionId: string, limit: number): Array<Record<string, unknown>> {
    const rows = this.cache.get(`SELECT ${TRACE_COLUMNS} FROM llm_traces t WHERE t.session_id = ? ORDER BY t.start_int, t.trace_id LIMIT ?`)
      .all(sessionId, limit) as Array<Record<string, unknown>>
    return rows.map((r) => this.row(r, undefined))
  }

  private count (where: Where): number | undefined {
    const n = (this.cache.get(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM llm_traces t ${where.sql()} LIMIT ${TOTAL_CAP + 1})`).get(where.params) as { n: number }).n
    return n > TOTAL_CAP ? undefined : n
  }

  private row (r: Record<string, unknown>, q: string | undefined): Record<string, unknown> {
    const traceId = r.trace_id as string
    const unpriced = r.unpriced as number
    const usage = setMembers(r.usage)
    const out: Record<string, unknown> = {
      trace_id: traceId,
      root_name: r.root_name,
      root_span_id: r.root_span_id,
      ml_app: r.ml_app,
      status: r.status,
      span_count: r.span_count,
      error_count: r.error_count,
      start_ns: r.start_ns,
      duration: r.duration,
      input_tokens: r.input_tokens,
      output_tokens: r.output_tokens,
      total_tokens: r.total_tokens,
      paths: setMembers(r.paths),
      session_id: r.session_id,
      models: setMembers(r.models),
      kinds: setMembers(r.kinds),
      cost_usd: unpriced > 0 ? null : r.cost_sum,
      cost_complete: unpriced === 0,
      usage_source: usage.length === 0 ? null : usage.length === 1 ? usage[0] : 'mixed',
      evaluations: r.evaluations === 0
        ? []
        : this.cache.get('SELECT label, metric_type, value FROM evaluations WHERE trace_id = ? ORDER BY id LIMIT 20').all(traceId)
          .map((e) => ({ ...(e as Record<string, unknown>), value: JSON.parse((e as { value: string }).value) as unknown })),
      evaluation_count: r.evaluations,
    }
    if (q !== undefined) out.snippet = this.snippet(traceId, q)
    return out
  }

  /** The first (in start order) span of the trace that matches `q`, as highlighted HTML. */
  snippet (traceId: string, q: string): string | null {
    const ids = this.cache.get('SELECT id FROM llmobs_spans WHERE trace_id = ? ORDER BY start_int, id').all(traceId) as Array<{ id: number }>
    const st = this.cache.get(`SELECT ${SNIPPET} AS s FROM llmobs_fts WHERE llmobs_fts ${SNIPPET_OF_ROW}`)
    for (const { id } of ids) {
      const hit = st.get(q, id) as { s: string } | undefined
      if (hit !== undefined) return snippetHtml(hit.s)
    }
    return null
  }
}

const TRACE_COLUMNS = `t.trace_id, t.root_name, t.root_span_id, t.ml_app, t.status, t.span_count, t.error_count,
  CAST(t.start_int AS TEXT) AS start_ns, t.duration, t.input_tokens, t.output_tokens, t.total_tokens, t.paths, t.session_id,
  t.models, t.kinds, t.cost_sum, t.unpriced, t.cost_sort, t.usage, t.evaluations`

function sortKey (r: Record<string, unknown>, sort: string): SqliteParam {
  switch (sort) {
    case 'start': return r.start_ns as string
    case 'duration': return String(r.duration)
    case 'tokens': return String(r.total_tokens)
    default: return r.cost_sort as number
  }
}
