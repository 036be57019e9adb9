/**
 * The local agent's SQLite schema. `start_ns` is TEXT because nanoseconds since the epoch do not
 * fit a double exactly; SQLite's CAST(start_ns AS INTEGER) is exact (int64) for ordering.
 * (trace_id, span_id) is the LLMObs event identity the intake de-duplicates on.
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
