import { invalid } from './json_checks.js'
import { TOTAL_CAP, encodeCursor, int64Key, type ListParams } from './query_params.js'
import { EVAL_VALUE, SNIPPET, SNIPPET_OF_ROW, StatementCache, Where, ftsRowMatches, ftsPlan, keyset, orderBy, snippetHtml } from './query_sql.js'
import { type Page, type TraceFilters, checkFilters } from './query_traces.js'
import type { SqliteParam } from './sqlite.js'
import type { Store } from './store.js'

export const SPAN_SORTS = ['start', 'duration', 'tokens', 'cost'] as const
const SPAN_SORT_COLUMN: Record<string, string> = { start: 's.start_int', duration: 's.duration', tokens: 's.total_tokens', cost: 'coalesce(s.cost_usd, -1)' }

export interface SpanFilters extends TraceFilters { traceId?: string, path?: string }

// No event: it is read by row id for the rows of the page only (a sort without an index would
// otherwise carry every candidate's JSON through the sorter).
const SPAN_COLUMNS = `s.id, s.trace_id, s.span_id, s.parent_id, s.name, s.kind, s.ml_app, s.status, s.start_ns, s.duration, s.path,
  s.received_at, CAST(s.start_int AS TEXT) AS start_key, s.session_id, s.model_name, s.model_provider, s.input_tokens,
  s.output_tokens, s.total_tokens, s.usage_source, s.cost_usd, s.priced`

/** Span rows of the query API: the stored record plus the derived columns (span_derive.ts). */
export class SpanQueries {
  readonly cache: StatementCache

  constructor (private readonly store: Store) {
    this.cache = new StatementCache(store.db)
  }

  list (filters: SpanFilters, p: ListParams): Page<Record<string, unknown>> {
    const f: SpanFilters = { ...filters, ...checkFilters(this.cache, filters) }
    const where = new Where()
    if (f.mlApp !== undefined) where.add('s.ml_app = ?', f.mlApp)
    if (f.status !== undefined) where.add('s.status = ?', f.status)
    if (f.kind !== undefined) where.add('s.kind = ?', f.kind)
    if (f.model !== undefined) where.add('s.model_name = ?', f.model)
    if (f.sessionId !== undefined) where.add('s.session_id = ?', f.sessionId)
    if (f.name !== undefined) where.add('s.name = ?', f.name)
    if (f.traceId !== undefined) where.add('s.trace_id = ?', f.traceId)
    if (f.path !== undefined) where.add('s.path = ?', f.path)
    if (f.evalLabel !== undefined) {
      if (f.evalValue !== undefined) where.add(`EXISTS (SELECT 1 FROM evaluations e WHERE e.trace_id = s.trace_id AND e.span_id = s.span_id AND e.label = ? AND ${EVAL_VALUE})`, f.evalLabel, f.evalValue)
      else where.add('EXISTS (SELECT 1 FROM evaluations e WHERE e.trace_id = s.trace_id AND e.span_id = s.span_id AND e.label = ?)', f.evalLabel)
    }
    if (p.since !== undefined) where.add('s.start_int >= ?', p.since)
    if (p.until !== undefined) where.add('s.start_int < ?', p.until)
    if (f.q !== undefined) {
      const plan = ftsPlan(this.cache, f.q)
      f.q = plan.q
      if (plan.sparse) where.add('s.id IN (SELECT rowid FROM llmobs_fts WHERE llmobs_fts MATCH ?)', f.q)
      else where.add(ftsRowMatches('s.id'), f.q)
    }
    const cols = [SPAN_SORT_COLUMN[p.sort], 's.trace_id', 's.span_id']
    const counted = where.copy()
    if (p.after !== undefined) {
      if (p.after.length !== 3 || typeof p.after[1] !== 'string' || typeof p.after[2] !== 'string') invalid('"cursor" is damaged (key)')
      const k0 = p.sort === 'cost' ? Number(p.after[0]) : int64Key(p.after[0], 'sort key')
      keyset(where, cols, p.order, [k0, p.after[1], p.after[2]])
    }
    const rows = this.cache.get(`SELECT ${SPAN_COLUMNS} FROM llmobs_spans s ${where.sql()} ${orderBy(cols, p.order)} LIMIT ${p.limit + 1}`)
      .all(where.params) as Array<Record<string, unknown>>
    const more = rows.length > p.limit
    if (more) rows.length = p.limit
    const last = rows[rows.length - 1]
    const nextCursor = more ? encodeCursor('spans', p.sort, p.order, [sortKey(last, p.sort), last.trace_id as string, last.span_id as string]) : null
    const snippet = f.q === undefined ? undefined : this.cache.get(`SELECT ${SNIPPET} AS s FROM llmobs_fts WHERE llmobs_fts ${SNIPPET_OF_ROW}`)
    const out = rows.map((r) => {
      const row = this.row(r)
      if (snippet !== undefined) {
        const hit = snippet.get(f.q as string, r.id as number) as { s: string } | undefined
        row.snippet = hit === undefined ? null : snippetHtml(hit.s)
      }
      return row
    })
    const page: Page<Record<string, unknown>> = { rows: out, nextCursor, more }
    // Counting full-text matches costs as much as the page itself: past the first page they say `more`.
    const total = p.after === undefined && !more ? rows.length : f.q === undefined ? this.count(counted) : undefined
    if (total !== undefined) page.total = total
    return page
  }

  /** The spans of one trace in start order. */
  ofTrace (traceId: string): Array<Record<string, unknown>> {
    const rows = this.cache.get(`SELECT ${SPAN_COLUMNS} FROM llmobs_spans s WHERE s.trace_id = ? ORDER BY s.start_int, s.id`).all(traceId) as Array<Record<string, unknown>>
    return rows.map((r) => this.row(r))
  }

  private count (where: Where): number | undefined {
    const n = (this.cache.get(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM llmobs_spans s ${where.sql()} LIMIT ${TOTAL_CAP + 1})`).get(where.params) as { n: number }).n
    return n > TOTAL_CAP ? undefined : n
  }

  private row (r: Record<string, unknown>): Record<string, unknown> {
    const priced = r.priced as number | null
    const ev = this.cache.get('SELECT event FROM llmobs_events WHERE id = ?').get(r.id as number) as { event: string } | undefined
    return {
      trace_id: r.trace_id,
      span_id: r.span_id,
      parent_id: r.parent_id,
      name: r.name,
      kind: r.kind,
      ml_app: r.ml_app,
      status: r.status,
      start_ns: r.start_ns,
      duration: r.duration,
      path: r.path,
      event: ev === undefined ? null : JSON.parse(ev.event) as unknown,
      received_at: r.received_at,
      session_id: r.session_id,
      model_name: r.model_name,
      model_provider: r.model_provider,
      input_tokens: r.input_tokens,
      output_tokens: r.output_tokens,
      total_tokens: r.total_tokens,
      usage_source: r.usage_source,
      cost_usd: r.cost_usd,
      // A model call's price row (null: "no price"); spans that call no model have no price to show.
      price: priced === 1 ? this.store.prices.ref(r.model_name as string) : null,
    }
  }
}

function sortKey (r: Record<string, unknown>, sort: string): SqliteParam {
  switch (sort) {
    case 'start': return r.start_key as string
    case 'duration': return String(r.duration)
    case 'tokens': return String(r.total_tokens)
    default: return (r.cost_usd as number | null) ?? -1
  }
}
