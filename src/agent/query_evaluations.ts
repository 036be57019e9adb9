import { invalid } from './json_checks.js'
import { TOTAL_CAP, encodeCursor, type ListParams } from './query_params.js'
import { EVAL_VALUE, StatementCache, Where, keyset, orderBy } from './query_sql.js'
import type { Page } from './query_traces.js'
import type { Store } from './store.js'

/** One sort: the evaluation's timestamp (its `timestamp_ms`, else when it was received). */
export const EVALUATION_SORTS = ['timestamp'] as const
const TS = 'coalesce(e.timestamp_ms, e.received_at)'

export interface EvaluationFilters {
  traceId?: string
  spanId?: string
  label?: string
  value?: string
  metricType?: string
  mlApp?: string
}

export class EvaluationQueries {
  private readonly cache: StatementCache

  constructor (store: Store) {
    this.cache = new StatementCache(store.db)
  }

  list (f: EvaluationFilters, p: ListParams): Page<Record<string, unknown>> {
    const where = new Where()
    if (f.traceId !== undefined) where.add('e.trace_id = ?', f.traceId)
    if (f.spanId !== undefined) where.add('e.span_id = ?', f.spanId)
    if (f.label !== undefined) where.add('e.label = ?', f.label)
    if (f.value !== undefined) where.add(EVAL_VALUE, f.value)
    if (f.metricType !== undefined) where.add('e.metric_type = ?', f.metricType)
    if (f.mlApp !== undefined) where.add('e.ml_app = ?', f.mlApp)
    if (p.since !== undefined) where.add(`${TS} >= ?`, Number(p.since / 1_000_000n))
    if (p.until !== undefined) where.add(`${TS} < ?`, Number(p.until / 1_000_000n))
    const cols = [TS, 'e.id']
    const counted = where.copy()
    if (p.after !== undefined) {
      if (p.after.length !== 2 || typeof p.after[0] !== 'number' || typeof p.after[1] !== 'number') invalid('"cursor" is damaged (key)')
      keyset(where, cols, p.order, [p.after[0], p.after[1]])
    }
    const rows = this.cache.get(`SELECT e.id, e.trace_id, e.span_id, e.label, e.metric_type, e.value, e.ml_app, e.timestamp_ms, e.path,
      e.event, e.received_at, ${TS} AS ts FROM evaluations e ${where.sql()} ${orderBy(cols, p.order)} LIMIT ${p.limit + 1}`)
      .all(where.params) as Array<Record<string, unknown>>
    const more = rows.length > p.limit
    if (more) rows.length = p.limit
    const last = rows[rows.length - 1]
    const nextCursor = more ? encodeCursor('evaluations', p.sort, p.order, [last.ts as number, last.id as number]) : null
    const out = rows.map((r) => ({
      trace_id: r.trace_id,
      span_id: r.span_id,
      label: r.label,
      metric_type: r.metric_type,
      value: JSON.parse(r.value as string) as unknown,
      ml_app: r.ml_app,
      timestamp_ms: r.timestamp_ms,
      path: r.path,
      event: JSON.parse(r.event as string) as unknown,
      received_at: r.received_at,
    }))
    const page: Page<Record<string, unknown>> = { rows: out, nextCursor, more }
    if (p.after === undefined && !more) page.total = rows.length
    else {
      const n = (this.cache.get(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM evaluations e ${counted.sql()} LIMIT ${TOTAL_CAP + 1})`).get(counted.params) as { n: number }).n
      if (n <= TOTAL_CAP) page.total = n
    }
    return page
  }
}
