import type { SqliteDatabase } from './sqlite.js'

/**
 * The local agent's SQLite schema. `start_ns` is TEXT because nanoseconds since the epoch do not
 * fit a double exactly; SQLite's CAST(start_ns AS INTEGER) is exact (int64) for ordering.
 * (trace_id, span_id) is the LLMObs event identity the intake de-duplicates on; evaluations
 * have theirs too (EVALUATION_IDENTITY, created by `migrate`).
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS llmobs_spans (
  id INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL,
  span_id TEXT NOT NULL,
  parent_id TEXT,
  name TEXT NOT NULL,
  kind TEXT,
  ml_app TEXT,
  status TEXT NOT NULL,
  start_ns TEXT NOT NULL,
  duration INTEGER NOT NULL,
  path TEXT NOT NULL,
  event TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  UNIQUE (trace_id, span_id)
);
CREATE INDEX IF NOT EXISTS llmobs_spans_ml_app ON llmobs_spans (ml_app);
CREATE TABLE IF NOT EXISTS apm_chunks (
  id INTEGER PRIMARY KEY,
  trace_id TEXT NOT NULL,
  root_name TEXT NOT NULL,
  service TEXT NOT NULL,
  priority INTEGER,
  kept INTEGER NOT NULL,
  span_count INTEGER NOT NULL,
  error INTEGER NOT NULL,
  llmobs_spans INTEGER NOT NULL,
  endpoint TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS apm_chunks_trace_id ON apm_chunks (trace_id);
CREATE TABLE IF NOT EXISTS evaluations (
  id INTEGER PRIMARY KEY,
  trace_id TEXT,
  span_id TEXT,
  label TEXT NOT NULL,
  metric_type TEXT NOT NULL,
  value TEXT NOT NULL,
  ml_app TEXT,
  timestamp_ms INTEGER,
  path TEXT NOT NULL,
  event TEXT NOT NULL,
  received_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS evaluations_span ON evaluations (trace_id, span_id);
CREATE TABLE IF NOT EXISTS counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
`

/**
 * An evaluation's identity: (trace_id, span_id, label, ml_app, timestamp_ms) of a span-joined
 * metric. quote() makes a missing ml_app or timestamp a value of its own (NULLs would never
 * conflict, and 'NULL' the string is quoted differently). Tag-joined metrics have a NULL
 * trace_id, and NULLs never conflict in a UNIQUE index, so those are all kept.
 */
const EVALUATION_IDENTITY = 'trace_id, span_id, label, quote(ml_app), quote(timestamp_ms)'

/**
 * Brings a store created by an older version up to date; runs on every open, in one
 * transaction. Returns the evaluations deleted as duplicates (an older agent stored a resent
 * evaluation twice), for the `evaluation_duplicates_suppressed` counter: the first copy stays.
 */
export function migrate (db: SqliteDatabase): number {
  return db.transaction(() => {
    const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'evaluations_identity'").get()
    if (exists !== undefined) return 0
    const removed = db.prepare(`DELETE FROM evaluations WHERE trace_id IS NOT NULL AND id NOT IN
      (SELECT MIN(id) FROM evaluations WHERE trace_id IS NOT NULL GROUP BY ${EVALUATION_IDENTITY})`).run().changes
    db.exec(`CREATE UNIQUE INDEX evaluations_identity ON evaluations (${EVALUATION_IDENTITY})`)
    return removed
  })()
}
