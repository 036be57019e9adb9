import type { SqliteDatabase, SqliteStatement } from './sqlite.js'

const MODEL = "kind IN ('llm', 'embedding')"
// A delimited set (\x1f around every member), so `instr(set, \x1f || x || \x1f)` tests membership.
const SET = (col: string, extra = ''): string => `(SELECT char(31) || group_concat(v, char(31)) || char(31) FROM
  (SELECT DISTINCT ${col} AS v FROM llmobs_spans WHERE trace_id = @t AND ${col} IS NOT NULL ${extra} ORDER BY v))`

/**
 * The per-trace and per-session rows (llm_traces, llm_sessions) recomputed from the spans of
 * one trace (of one session) whenever a write touches it: a trace has few spans, and
 * recomputing beats incremental bookkeeping that a retention delete or a late root would have
 * to undo. `seq` is the store's write sequence, for /api/changes.
 */
export class Rollups {
  private readonly dropTrace: SqliteStatement
  private readonly trace: SqliteStatement
  private readonly sessionOf: SqliteStatement
  private readonly dropSession: SqliteStatement
  private readonly session: SqliteStatement

  constructor (db: SqliteDatabase) {
    this.dropTrace = db.prepare('DELETE FROM llm_traces WHERE trace_id = @t')
    this.trace = db.prepare(`INSERT INTO llm_traces (trace_id, root_span_id, root_name, root_is_root, ml_app, status,
      session_id, span_count, error_count, start_int, end_int, duration, input_tokens, output_tokens, total_tokens,
      cost_sum, unpriced, cost_sort, models, kinds, paths, usage, evaluations, seq)
      SELECT @t, r.span_id, r.name, r.is_root, coalesce(r.ml_app, a.ml_app), r.status, coalesce(r.session_id, a.session_id),
        a.n, a.errors, a.start_min, a.end_max,
        CASE WHEN r.is_root = 1 THEN r.duration ELSE a.end_max - a.start_min END,
        a.input, a.output, a.total, a.cost, a.unpriced, CASE WHEN a.unpriced > 0 THEN -1 ELSE a.cost END,
        coalesce(${SET('model_name')}, ''), coalesce(${SET('kind')}, ''), coalesce(${SET('path')}, ''),
        coalesce(${SET('usage_source', `AND ${MODEL}`)}, ''),
        (SELECT COUNT(*) FROM evaluations WHERE trace_id = @t), @seq
      FROM (SELECT COUNT(*) AS n, SUM(status = 'error') AS errors, MIN(start_int) AS start_min,
          MAX(start_int + duration) AS end_max, MAX(ml_app) AS ml_app, MAX(session_id) AS session_id,
          TOTAL(CASE WHEN ${MODEL} THEN input_tokens END) AS input,
          TOTAL(CASE WHEN ${MODEL} THEN output_tokens END) AS output,
          TOTAL(CASE WHEN ${MODEL} THEN total_tokens END) AS total,
          TOTAL(CASE WHEN ${MODEL} THEN cost_usd END) AS cost,
          SUM(CASE WHEN priced = 0 THEN 1 ELSE 0 END) AS unpriced
        FROM llmobs_spans WHERE trace_id = @t) AS a
      JOIN (SELECT span_id, name, status, duration, ml_app, session_id, is_root FROM llmobs_spans
        WHERE trace_id = @t ORDER BY is_root DESC, start_int, id LIMIT 1) AS r`)
    this.sessionOf = db.prepare('SELECT session_id FROM llm_traces WHERE trace_id = ?')
    this.dropSession = db.prepare('DELETE FROM llm_sessions WHERE session_id = @s')
    this.session = db.prepare(`INSERT INTO llm_sessions (session_id, ml_app, traces, spans, first_seen, last_seen, duration,
      input_tokens, output_tokens, total_tokens, cost_sum, unpriced, cost_sort, errors, evaluations, seq)
      SELECT @s, (SELECT ml_app FROM llm_traces WHERE session_id = @s ORDER BY start_int LIMIT 1), COUNT(*), SUM(span_count),
        MIN(start_int), MAX(end_int), MAX(end_int) - MIN(start_int), TOTAL(input_tokens), TOTAL(output_tokens), TOTAL(total_tokens),
        TOTAL(cost_sum), SUM(unpriced), CASE WHEN SUM(unpriced) > 0 THEN -1 ELSE TOTAL(cost_sum) END,
        SUM(error_count), SUM(evaluations), @seq
      FROM llm_traces WHERE session_id = @s HAVING COUNT(*) > 0`)
  }

  /** Recomputes the rows of `traces` (inside the caller's transaction) and of their sessions, old and new. */
  refresh (traces: Iterable<string>, seq: number): void {
    const sessions = new Set<string>()
    for (const t of traces) {
      const before = this.sessionOf.get(t) as { session_id: string | null } | undefined
      if (typeof before?.session_id === 'string') sessions.add(before.session_id)
      this.dropTrace.run({ t })
      this.trace.run({ t, seq })
      const after = this.sessionOf.get(t) as { session_id: string | null } | undefined
      if (typeof after?.session_id === 'string') sessions.add(after.session_id)
    }
    for (const s of sessions) {
      this.dropSession.run({ s })
      this.session.run({ s, seq })
    }
  }
}
