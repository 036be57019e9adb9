import { StatementCache, Where, inSet } from './query_sql.js'
import type { Store } from './store.js'

export const DEFAULT_BUCKETS = 24
export const MAX_BUCKETS = 200
export const DEFAULT_WINDOW_MS = 24 * 3600 * 1000

export interface SummaryFilters { mlApp?: string, model?: string }

interface BucketRow { b: number, requests: number, errors: number, tokens: number, cost: number, unpriced: number, durations: string }

/**
 * The dashboard of one time range: requests (traces by start time), errors, root latency
 * percentiles, tokens and cost overall, over time and per model, top errors, slowest spans.
 * With `model`, traces are those containing a call of that model and per-model figures are that
 * model's. Percentiles are exact (nearest rank), computed from the range's root durations.
 */
export class SummaryQueries {
  private readonly cache: StatementCache

  constructor (private readonly store: Store) {
    this.cache = new StatementCache(store.db)
  }

  summary (f: SummaryFilters, sinceMs: number, untilMs: number, buckets: number): Record<string, unknown> {
    const since = BigInt(sinceMs) * 1_000_000n
    const until = BigInt(untilMs) * 1_000_000n
    const t = new Where().add('t.start_int >= ?', since).add('t.start_int < ?', until)
    if (f.mlApp !== undefined) t.add('t.ml_app = ?', f.mlApp)
    if (f.model !== undefined) t.add(inSet('t.models'), f.model)
    const width = (untilMs - sinceMs) / buckets
    // One row per bucket, not per trace (a day holds a quarter million): the bucket index is the
    // JS expression it replaces evaluated in SQL (the same double arithmetic; truncation equals
    // floor once clamped at 0), durations come as one list per bucket for the percentiles.
    const perBucket = this.cache.get(`SELECT b, COUNT(*) AS requests, SUM(errors > 0) AS errors, TOTAL(tokens) AS tokens,
      TOTAL(cost) AS cost, SUM(unpriced) AS unpriced, group_concat(duration) AS durations
      FROM (SELECT MIN(@last, MAX(0, CAST((t.start_int / 1e6 - @since_ms) / @width AS INTEGER))) AS b, t.duration,
        t.error_count AS errors, t.total_tokens AS tokens, t.cost_sum AS cost, t.unpriced FROM llm_traces t ${t.sql()})
      GROUP BY b`).all({ ...t.params, last: buckets - 1, since_ms: sinceMs, width }) as BucketRow[]

    const s = new Where().add('s.start_int >= ?', since).add('s.start_int < ?', until)
    if (f.mlApp !== undefined) s.add('s.ml_app = ?', f.mlApp)
    if (f.model !== undefined) s.add('s.model_name = ?', f.model)
    const spans = (this.cache.get(`SELECT COUNT(*) AS n FROM llmobs_spans s ${s.sql()}`).get(s.params) as { n: number }).n
    // The model calls' covering index in (model, provider) order: groups stream out of one index
    // scan, no table row and no sort of every call in the range (store_schema.ts, version 3).
    const models = this.cache.get(`SELECT s.model_name AS model, s.model_provider AS provider, COUNT(*) AS spans,
      TOTAL(s.input_tokens) AS input_tokens, TOTAL(s.output_tokens) AS output_tokens, TOTAL(s.total_tokens) AS total_tokens,
      TOTAL(s.cost_usd) AS cost, SUM(CASE WHEN s.priced = 0 THEN 1 ELSE 0 END) AS unpriced
      FROM llmobs_spans s INDEXED BY llmobs_spans_usage ${s.sql()} AND s.kind IN ('llm', 'embedding') GROUP BY s.model_name, s.model_provider
      ORDER BY total_tokens DESC, model`).all(s.params) as Array<Record<string, unknown>>
    const errs = s.copy().add("s.status = 'error'")
    const topErrors = this.cache.get(`SELECT s.error_message AS message, s.error_type AS type, COUNT(*) AS count,
      s.trace_id AS last_trace_id, MAX(s.start_int) AS last FROM llmobs_spans s ${errs.sql()}
      GROUP BY s.error_message, s.error_type ORDER BY count DESC, last DESC LIMIT 10`).all(errs.params) as Array<Record<string, unknown>>
    // Unfiltered, the longest spans come first in the duration index (which carries start_int
    // for the range): a few entries read instead of sorting every span of the range.
    const slowest = f.mlApp === undefined && f.model === undefined ? this.slowest(s) : this.cache.get(`SELECT s.trace_id, s.span_id, s.name, s.duration FROM llmobs_spans s
      ${s.sql()} ORDER BY s.duration DESC, s.trace_id, s.span_id LIMIT 10`).all(s.params)

    const series = Array.from({ length: buckets }, (_, i) => ({ t_ms: Math.round(sinceMs + i * width), requests: 0, errors: 0, total_tokens: 0, cost: 0, unpriced: 0, durations: new Float64Array(0) }))
    let errors = 0
    let requests = 0
    for (const r of perBucket) {
      const b = series[r.b]
      b.requests = r.requests
      b.errors = r.errors
      b.total_tokens = r.tokens
      b.cost = r.cost
      b.unpriced = r.unpriced
      b.durations = Float64Array.from(r.durations.split(','), Number).sort()
      errors += r.errors
      requests += r.requests
    }
    const durations = new Float64Array(requests)
    let at = 0
    for (const b of series) { durations.set(b.durations, at); at += b.durations.length }
    durations.sort()
    const byModel = models.map((m) => ({
      model: m.model,
      provider: m.provider,
      spans: m.spans,
      input_tokens: m.input_tokens,
      output_tokens: m.output_tokens,
      total_tokens: m.total_tokens,
      cost_usd: (m.unpriced as number) > 0 ? null : m.cost,
      price: m.model === null ? null : this.store.prices.ref(m.model as string),
    }))
    const sum = (k: string): number => models.reduce((a, m) => a + (m[k] as number), 0)
    const complete = models.every((m) => m.unpriced === 0)
    return {
      since_ms: sinceMs,
      until_ms: untilMs,
      requests,
      spans,
      errors,
      error_rate: requests === 0 ? 0 : errors / requests,
      latency_ms: { p50: pct(durations, 0.5), p95: pct(durations, 0.95), p99: pct(durations, 0.99) },
      input_tokens: sum('input_tokens'),
      output_tokens: sum('output_tokens'),
      total_tokens: sum('total_tokens'),
      cost_usd: complete ? sum('cost') : null,
      cost_complete: complete,
      series: series.map((b) => ({
        t_ms: b.t_ms,
        requests: b.requests,
        errors: b.errors,
        total_tokens: b.total_tokens,
        cost_usd: b.unpriced > 0 ? null : b.cost,
        p95_ms: pct(b.durations, 0.95),
      })),
      by_model: byModel,
      top_errors: topErrors.map((e) => ({ message: e.message, type: e.type, count: e.count, last_trace_id: e.last_trace_id })),
      slowest,
    }
  }

  /**
   * The 10 longest spans of the range (duration desc, then trace_id, span_id asc), without sorting
   * every span tied at the top duration (common: retries, timeouts): the 10th longest duration from
   * the duration index, the few spans above it, then the ties at it in index order.
   */
  private slowest (s: Where): unknown[] {
    const cache = this.cache
    const tenth = cache.get(`SELECT s.duration FROM llmobs_spans s INDEXED BY llmobs_spans_by_duration ${s.sql()}
      ORDER BY s.duration DESC LIMIT 1 OFFSET 9`).get(s.params) as { duration: number } | undefined
    const columns = 'SELECT s.trace_id, s.span_id, s.name, s.duration FROM llmobs_spans s INDEXED BY llmobs_spans_by_duration'
    if (tenth === undefined) return cache.get(`${columns} ${s.sql()} ORDER BY s.duration DESC, s.trace_id, s.span_id LIMIT 10`).all(s.params)
    const above = s.copy().add('s.duration > ?', tenth.duration)
    const rows = cache.get(`${columns} ${above.sql()} ORDER BY s.duration DESC, s.trace_id, s.span_id`).all(above.params)
    const at = s.copy().add('s.duration = ?', tenth.duration)
    return rows.concat(cache.get(`${columns} ${at.sql()} ORDER BY s.trace_id, s.span_id LIMIT ${10 - rows.length}`).all(at.params))
  }
}

/** Nearest-rank percentile of sorted ns durations, in ms (null for none). */
function pct (sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null
  return sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)] / 1e6
}
