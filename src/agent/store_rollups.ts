import type { SqliteDatabase, SqliteStatement } from './sqlite.js'
import { MODEL_KINDS } from './span_derive.js'

/** The derived columns of one stored span that its trace's row is made of. */
interface SpanCols {
  id: number
  span_id: string
  name: string
  status: string
  duration: number
  ml_app: string | null
  session_id: string | null
  is_root: number
  /** start_int as decimal text: ns since the epoch do not fit a double. */
  start: string
  kind: string | null
  model_name: string | null
  input_tokens: number
  output_tokens: number
  total_tokens: number
  cost_usd: number | null
  priced: number | null
  path: string
  usage_source: string | null
}

const TRACE_COLUMNS = ['root_span_id', 'root_name', 'root_is_root', 'ml_app', 'status', 'session_id', 'span_count', 'error_count',
  'start_int', 'end_int', 'duration', 'input_tokens', 'output_tokens', 'total_tokens', 'cost_sum', 'unpriced', 'cost_sort',
  'models', 'kinds', 'paths', 'usage', 'evaluations', 'seq']

/**
 * The per-trace and per-session rows (llm_traces, llm_sessions) recomputed from the spans of
 * one trace (of one session) whenever a write touches it: a trace has few spans, and
 * recomputing beats incremental bookkeeping that a retention delete or a late root would have
 * to undo. A trace's row is computed here in JS from one read of its spans' (small) rows — one
 * statement per trace instead of a statement with eight sub-selects; an upsert touches only the
 * indexes whose columns changed. `seq` is the store's write sequence, for /api/changes.
 */
export class Rollups {
  private readonly spans: SqliteStatement
  private readonly evaluations: SqliteStatement
  private readonly dropTrace: SqliteStatement
  private readonly upsertTrace: SqliteStatement
  private readonly sessionOf: SqliteStatement
  private readonly dropSession: SqliteStatement
  private readonly session: SqliteStatement

  constructor (db: SqliteDatabase) {
    this.spans = db.prepare(`SELECT id, span_id, name, status, duration, ml_app, session_id, is_root, CAST(start_int AS TEXT) AS start,
      kind, model_name, input_tokens, output_tokens, total_tokens, cost_usd, priced, path, usage_source
      FROM llmobs_spans WHERE trace_id = ?`)
    this.evaluations = db.prepare('SELECT COUNT(*) AS n FROM evaluations WHERE trace_id = ?')
    this.dropTrace = db.prepare('DELETE FROM llm_traces WHERE trace_id = ?')
    this.upsertTrace = db.prepare(`INSERT INTO llm_traces (trace_id, ${TRACE_COLUMNS.join(', ')})
      VALUES (@trace_id, ${TRACE_COLUMNS.map((c) => '@' + c).join(', ')})
      ON CONFLICT (trace_id) DO UPDATE SET ${TRACE_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`)
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
      const spans = this.spans.all(t) as SpanCols[]
      if (spans.length === 0) {
        this.dropTrace.run(t)
        continue
      }
      const row = traceRow(spans, seq)
      row.trace_id = t
      row.evaluations = (this.evaluations.get(t) as { n: number }).n
      this.upsertTrace.run(row)
      if (typeof row.session_id === 'string') sessions.add(row.session_id)
    }
    for (const s of sessions) {
      this.dropSession.run({ s })
      this.session.run({ s, seq })
    }
  }
}

/**
 * A trace's row from its spans, as the SQL of schema version 2 computed it: the root is the
 * first of (root spans first, then by start, then by row id); ml_app and session_id are the
 * root's, else the greatest among the spans (SQLite's MAX, byte order); tokens and cost count
 * model calls only; sets are sorted in byte order.
 */
function traceRow (spans: SpanCols[], seq: number): Record<string, string | number | bigint | null> {
  let root = spans[0]
  let rootStart = BigInt(root.start)
  let startMin = rootStart
  let endMax = rootStart + BigInt(root.duration)
  let errors = 0
  let unpriced = 0
  let mlApp: string | null = null
  let sessionId: string | null = null
  let input = 0
  let output = 0
  let total = 0
  const cost = new Sum()
  const models = new Set<string>()
  const kinds = new Set<string>()
  const paths = new Set<string>()
  const usage = new Set<string>()
  for (const s of spans) {
    const start = s === spans[0] ? rootStart : BigInt(s.start)
    if (s !== spans[0] && (s.is_root > root.is_root || (s.is_root === root.is_root && (start < rootStart || (start === rootStart && s.id < root.id))))) {
      root = s
      rootStart = start
    }
    if (start < startMin) startMin = start
    const end = start + BigInt(s.duration)
    if (end > endMax) endMax = end
    if (s.status === 'error') errors++
    if (s.priced === 0) unpriced++
    mlApp = maxText(mlApp, s.ml_app)
    sessionId = maxText(sessionId, s.session_id)
    if (s.model_name !== null) models.add(s.model_name)
    if (s.kind !== null) kinds.add(s.kind)
    paths.add(s.path)
    if (s.kind !== null && MODEL_KINDS.has(s.kind)) {
      input += s.input_tokens
      output += s.output_tokens
      total += s.total_tokens
      if (s.cost_usd !== null) cost.add(s.cost_usd)
      if (s.usage_source !== null) usage.add(s.usage_source)
    }
  }
  const costSum = cost.value()
  return {
    trace_id: null,
    root_span_id: root.span_id,
    root_name: root.name,
    root_is_root: root.is_root,
    ml_app: root.ml_app ?? mlApp,
    status: root.status,
    session_id: root.session_id ?? sessionId,
    span_count: spans.length,
    error_count: errors,
    start_int: startMin,
    end_int: endMax,
    duration: root.is_root === 1 ? root.duration : Number(endMax - startMin),
    input_tokens: input,
    output_tokens: output,
    total_tokens: total,
    cost_sum: costSum,
    unpriced,
    cost_sort: unpriced > 0 ? -1 : costSum,
    models: set(models),
    kinds: set(kinds),
    paths: set(paths),
    usage: set(usage),
    evaluations: 0,
    seq,
  }
}

/** SQLite's text order (BINARY: UTF-8 bytes), which differs from JS's UTF-16 order past U+FFFF. */
function compareText (a: string, b: string): number {
  return a === b ? 0 : Buffer.compare(Buffer.from(a), Buffer.from(b))
}

function maxText (a: string | null, b: string | null): string | null {
  if (b === null) return a
  return a === null || compareText(b, a) > 0 ? b : a
}

/** A delimited set (\x1f around every member), so `instr(set, \x1f || x || \x1f)` tests membership. */
function set (members: Set<string>): string {
  return members.size === 0 ? '' : '\x1f' + [...members].sort(compareText).join('\x1f') + '\x1f'
}

/** Compensated summation (Kahan-Babuska-Neumaier), as SQLite's TOTAL() sums. */
class Sum {
  private s = 0
  private c = 0

  add (x: number): void {
    const t = this.s + x
    if (Math.abs(this.s) >= Math.abs(x)) this.c += (this.s - t) + x
    else this.c += (x - t) + this.s
    this.s = t
  }

  value (): number { return this.s + this.c }
}
