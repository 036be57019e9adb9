import type { SqliteDatabase, SqliteStatement } from './sqlite.js'
import { MODEL_KINDS } from './span_derive.js'

/** The derived columns of one stored span that its trace's row is made of. */
export interface SpanCols {
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
/** Positions in a trace row (traceRow): trace_id first, then TRACE_COLUMNS. */
const EVALUATIONS_AT = TRACE_COLUMNS.indexOf('evaluations') + 1
const SESSION_AT = TRACE_COLUMNS.indexOf('session_id') + 1
const SESSION_COLUMNS = ['ml_app', 'traces', 'spans', 'first_seen', 'last_seen', 'duration', 'input_tokens', 'output_tokens',
  'total_tokens', 'cost_sum', 'unpriced', 'cost_sort', 'errors', 'evaluations', 'seq']

/**
 * The per-trace and per-session rows (llm_traces, llm_sessions) recomputed from the spans of
 * one trace (of one session) whenever a write touches it: a trace has few spans, and
 * recomputing beats incremental bookkeeping that a retention delete or a late root would have
 * to undo. A trace's row is computed here in JS from one read of its spans' (small) rows — one
 * statement per trace instead of a statement with eight sub-selects; an upsert keeps the row (and
 * its primary key entry) in place. `seq` is the store's write sequence, for /api/changes.
 * A trace with no row yet has no stored span but the ones this commit inserted: the caller
 * hands those over (`fresh`), as SQLite would read them back, so a new trace costs no read.
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
    // Positional parameters: binding an object looks every name up, for each of 24 columns.
    this.upsertTrace = db.prepare(`INSERT INTO llm_traces (trace_id, ${TRACE_COLUMNS.join(', ')})
      VALUES (?, ${TRACE_COLUMNS.map(() => '?').join(', ')})
      ON CONFLICT (trace_id) DO UPDATE SET ${TRACE_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`)
    this.sessionOf = db.prepare('SELECT session_id FROM llm_traces WHERE trace_id = ?')
    this.dropSession = db.prepare('DELETE FROM llm_sessions WHERE session_id = @s')
    // An upsert: a session's row stays in place (its primary key entry untouched) while its traces change.
    this.session = db.prepare(`INSERT INTO llm_sessions (session_id, ${SESSION_COLUMNS.join(', ')})
      SELECT @s, (SELECT ml_app FROM llm_traces WHERE session_id = @s ORDER BY start_int LIMIT 1), COUNT(*), SUM(span_count),
        MIN(start_int), MAX(end_int), MAX(end_int) - MIN(start_int), TOTAL(input_tokens), TOTAL(output_tokens), TOTAL(total_tokens),
        TOTAL(cost_sum), SUM(unpriced), CASE WHEN SUM(unpriced) > 0 THEN -1 ELSE TOTAL(cost_sum) END,
        SUM(error_count), SUM(evaluations), @seq
      FROM llm_traces WHERE session_id = @s HAVING COUNT(*) > 0
      ON CONFLICT (session_id) DO UPDATE SET ${SESSION_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ')}`)
  }

  /**
   * Recomputes the rows of `traces` (inside the caller's transaction) and of their sessions, old
   * and new. `fresh`: the spans this commit inserted, by trace, in insertion order (null: read
   * that trace's spans back).
   */
  refresh (traces: Iterable<string>, seq: number, fresh?: ReadonlyMap<string, SpanCols[] | null>): void {
    const sessions = new Set<string>()
    for (const t of traces) {
      const before = this.sessionOf.get(t) as { session_id: string | null } | undefined
      if (typeof before?.session_id === 'string') sessions.add(before.session_id)
      const mine = before === undefined ? fresh?.get(t) : undefined
      const spans = byId(mine ?? this.spans.all(t) as SpanCols[])
      if (spans.length === 0) {
        this.dropTrace.run(t)
        continue
      }
      const row = traceRow(spans, seq)
      row[0] = t
      row[EVALUATIONS_AT] = (this.evaluations.get(t) as { n: number }).n
      this.upsertTrace.run(...row)
      const session = row[SESSION_AT]
      if (typeof session === 'string') sessions.add(session)
    }
    // No trace left in the session: the upsert selects nothing, and the row goes.
    for (const s of sessions) if (this.session.run({ s, seq }).changes === 0) this.dropSession.run({ s })
  }
}

/**
 * A trace's row from its spans, as the SQL of schema version 2 computed it: the root is the
 * first of (root spans first, then by start, then by row id); ml_app and session_id are the
 * root's, else the greatest among the spans (SQLite's MAX, byte order); tokens and cost count
 * model calls only; sets are sorted in byte order.
 */
function traceRow (spans: SpanCols[], seq: number): Array<string | number | bigint | null> {
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
  // trace_id, then TRACE_COLUMNS in order.
  return [
    null,
    root.span_id,
    root.name,
    root.is_root,
    root.ml_app ?? mlApp,
    root.status,
    root.session_id ?? sessionId,
    spans.length,
    errors,
    startMin,
    endMax,
    root.is_root === 1 ? root.duration : Number(endMax - startMin),
    input,
    output,
    total,
    costSum,
    unpriced,
    unpriced > 0 ? -1 : costSum,
    set(models),
    set(kinds),
    set(paths),
    set(usage),
    0,
    seq,
  ]
}

/**
 * The spans in row id order, whichever way they came (read back in index order, or handed over
 * in insertion order): the cost is a floating-point sum, so its order is fixed.
 */
function byId (spans: SpanCols[]): SpanCols[] {
  for (let i = 1; i < spans.length; i++) if (spans[i].id < spans[i - 1].id) return spans.sort((a, b) => a.id - b.id)
  return spans
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
