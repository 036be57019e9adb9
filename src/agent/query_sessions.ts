import { invalid } from './json_checks.js'
import { TOTAL_CAP, encodeCursor, int64Key, type ListParams } from './query_params.js'
import { StatementCache, Where, checkFtsQuery, keyset, orderBy } from './query_sql.js'
import type { Page, TraceQueries } from './query_traces.js'
import type { SqliteParam } from './sqlite.js'
import type { Store } from './store.js'

export const SESSION_SORTS = ['last_seen', 'first_seen', 'duration', 'tokens', 'cost', 'traces'] as const
const SESSION_SORT_COLUMN: Record<string, string> = {
  last_seen: 'x.last_seen', first_seen: 'x.first_seen', duration: 'x.duration', tokens: 'x.total_tokens', cost: 'x.cost_sort', traces: 'x.traces',
}
const SESSION_COLUMNS = `x.session_id, x.ml_app, x.traces, x.spans, CAST(x.first_seen AS TEXT) AS first_seen_ns,
  CAST(x.last_seen AS TEXT) AS last_seen_ns, x.duration, x.input_tokens, x.output_tokens, x.total_tokens, x.cost_sum,
  x.unpriced, x.cost_sort, x.errors, x.evaluations`
/** A session page lists at most this many traces (and turns). */
const SESSION_TRACES = 1000

export interface SessionFilters { mlApp?: string, q?: string }

/** Sessions: traces grouped by session_id (llm_sessions, store_rollups.ts). */
export class SessionQueries {
  private readonly cache: StatementCache

  constructor (store: Store, private readonly traces: TraceQueries) {
    this.cache = new StatementCache(store.db)
  }

  list (filters: SessionFilters, p: ListParams): Page<Record<string, unknown>> {
    const f = filters.q === undefined ? filters : { ...filters, q: checkFtsQuery(this.cache, filters.q) }
    const where = new Where()
    if (f.mlApp !== undefined) where.add('x.ml_app = ?', f.mlApp)
    // Sessions active in the range: they overlap it.
    if (p.since !== undefined) where.add('x.last_seen >= ?', p.since)
    if (p.until !== undefined) where.add('x.first_seen < ?', p.until)
    if (f.q !== undefined) {
      where.add(`x.session_id IN (SELECT t.session_id FROM llm_traces t WHERE t.session_id IS NOT NULL AND t.trace_id IN
        (SELECT s.trace_id FROM llmobs_fts JOIN llmobs_spans s ON s.id = llmobs_fts.rowid WHERE llmobs_fts MATCH ?))`, f.q)
    }
    const cols = [SESSION_SORT_COLUMN[p.sort], 'x.session_id']
    const counted = where.copy()
    if (p.after !== undefined) {
      if (p.after.length !== 2 || typeof p.after[1] !== 'string') invalid('"cursor" is damaged (key)')
      const k0 = p.sort === 'cost' ? Number(p.after[0]) : int64Key(p.after[0], 'sort key')
      keyset(where, cols, p.order, [k0, p.after[1]])
    }
    const rows = this.cache.get(`SELECT ${SESSION_COLUMNS} FROM llm_sessions x ${where.sql()} ${orderBy(cols, p.order)} LIMIT ${p.limit + 1}`)
      .all(where.params) as Array<Record<string, unknown>>
    const more = rows.length > p.limit
    if (more) rows.length = p.limit
    const last = rows[rows.length - 1]
    const nextCursor = more ? encodeCursor('sessions', p.sort, p.order, [sortKey(last, p.sort), last.session_id as string]) : null
    const page: Page<Record<string, unknown>> = { rows: rows.map(row), nextCursor, more }
    if (p.after === undefined && !more) page.total = rows.length
    else {
      const n = (this.cache.get(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM llm_sessions x ${counted.sql()} LIMIT ${TOTAL_CAP + 1})`).get(counted.params) as { n: number }).n
      if (n <= TOTAL_CAP) page.total = n
    }
    return page
  }

  /** A session's row, its traces in start order, and the conversation across them (null: unknown). */
  one (sessionId: string): Record<string, unknown> | null {
    const r = this.cache.get(`SELECT ${SESSION_COLUMNS} FROM llm_sessions x WHERE x.session_id = ?`).get(sessionId) as Record<string, unknown> | undefined
    if (r === undefined) return null
    const traces = this.traces.ofSession(sessionId, SESSION_TRACES)
    const turn = this.cache.get(`SELECT span_id, name, start_ns, status, (SELECT event FROM llmobs_events e WHERE e.id = s.id) AS event
      FROM (SELECT id, span_id, name, CAST(start_int AS TEXT) AS start_ns, status FROM llmobs_spans
        WHERE trace_id = ? ORDER BY is_root DESC, (kind = 'llm') DESC, start_int, id LIMIT 3) AS s`)
    const turns = traces.map((t) => {
      const candidates = turn.all(t.trace_id as string) as Array<{ span_id: string, name: string, start_ns: string, status: string, event: string }>
      // The root's input/output when it has any, else the first model call's: the conversation as the user saw it.
      const parsed = candidates.map((c) => ({ c, meta: metaOf(c.event) }))
      const pick = parsed.find((x) => x.meta.input !== undefined || x.meta.output !== undefined) ?? parsed[0]
      const error = pick.meta.error as { message?: unknown } | undefined
      return {
        trace_id: t.trace_id,
        start_ns: t.start_ns,
        span_id: pick.c.span_id,
        name: pick.c.name,
        input: pick.meta.input ?? null,
        output: pick.meta.output ?? null,
        error: pick.c.status === 'error' ? (typeof error?.message === 'string' ? error.message : 'error') : null,
      }
    })
    return { ...row(r), trace_count: r.traces, traces, turns }
  }
}

function metaOf (event: string): Record<string, unknown> {
  try {
    const ev = JSON.parse(event) as { meta?: unknown }
    return ev.meta !== null && typeof ev.meta === 'object' ? ev.meta as Record<string, unknown> : {}
  } catch {
    return {}
  }
}

function row (r: Record<string, unknown>): Record<string, unknown> {
  const unpriced = r.unpriced as number
  return {
    session_id: r.session_id,
    ml_app: r.ml_app,
    traces: r.traces,
    spans: r.spans,
    first_seen_ns: r.first_seen_ns,
    last_seen_ns: r.last_seen_ns,
    duration_ns: r.duration,
    input_tokens: r.input_tokens,
    output_tokens: r.output_tokens,
    total_tokens: r.total_tokens,
    cost_usd: unpriced > 0 ? null : r.cost_sum,
    cost_complete: unpriced === 0,
    errors: r.errors,
    evaluations: r.evaluations,
  }
}

function sortKey (r: Record<string, unknown>, sort: string): SqliteParam {
  switch (sort) {
    case 'last_seen': return r.last_seen_ns as string
    case 'first_seen': return r.first_seen_ns as string
    case 'duration': return String(r.duration)
    case 'tokens': return String(r.total_tokens)
    case 'traces': return String(r.traces)
    default: return r.cost_sort as number
  }
}
