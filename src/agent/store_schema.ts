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

/** The schema this code writes; `schema_version` holds the one a store file is at. */
export const SCHEMA_VERSION = 3

/**
 * Brings a store created by an older version up to date; runs on every open, in one
 * transaction, step by step from the version recorded in `schema_version` (none: a store of
 * version 1 or older, or a new one). `backfill` derives the version 2 columns, the full-text
 * index and the trace and session tables from the stored events (it runs after the last step,
 * so it reads and writes the current schema). Returns the evaluations deleted
 * as duplicates (an older agent stored a resent evaluation twice), for the
 * `evaluation_duplicates_suppressed` counter: the first copy stays.
 */
export function migrate (db: SqliteDatabase, backfill: () => void): number {
  return db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)')
    const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null }
    const from = row.v ?? 0
    if (from > SCHEMA_VERSION) throw new Error(`store schema version ${from} is newer than this agent's (${SCHEMA_VERSION}); use a newer llmobs-ts or another --db file`)
    let removed = 0
    if (from < 1) removed = uniqueEvaluations(db)
    if (from < 2) addV2(db)
    if (from < 3) addV3(db)
    // After every structural step: the backfill writes the latest shape (events in their own table).
    if (from < 2) backfill()
    if (from < SCHEMA_VERSION) {
      db.exec('DELETE FROM schema_version')
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(SCHEMA_VERSION)
    }
    return removed
  })()
}

function uniqueEvaluations (db: SqliteDatabase): number {
  const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'evaluations_identity'").get()
  if (exists !== undefined) return 0
  const removed = db.prepare(`DELETE FROM evaluations WHERE trace_id IS NOT NULL AND id NOT IN
    (SELECT MIN(id) FROM evaluations WHERE trace_id IS NOT NULL GROUP BY ${EVALUATION_IDENTITY})`).run().changes
  db.exec(`CREATE UNIQUE INDEX evaluations_identity ON evaluations (${EVALUATION_IDENTITY})`)
  return removed
}

/**
 * Version 2: columns derived from the event (span_derive.ts) so lists filter and sort on
 * indexes instead of json_extract over every row; `start_int` is start_ns as an int64 (exact,
 * ns fit until 2262). One row per trace and per session, maintained on insert (store_rollups.ts),
 * so a page of traces reads one index range instead of grouping every span. A full-text index
 * whose rowid is the span row's id.
 */
const V2_COLUMNS = [
  'start_int INTEGER NOT NULL DEFAULT 0', 'is_root INTEGER NOT NULL DEFAULT 0', 'session_id TEXT', 'model_name TEXT',
  'model_provider TEXT', 'input_tokens INTEGER NOT NULL DEFAULT 0', 'output_tokens INTEGER NOT NULL DEFAULT 0',
  'total_tokens INTEGER NOT NULL DEFAULT 0', 'usage_source TEXT', 'cost_usd REAL', 'priced INTEGER',
  'error_message TEXT', 'error_type TEXT',
]

function addV2 (db: SqliteDatabase): void {
  const have = new Set((db.prepare('PRAGMA table_info(llmobs_spans)').all() as Array<{ name: string }>).map((c) => c.name))
  for (const col of V2_COLUMNS) {
    if (!have.has(col.split(' ')[0])) db.exec(`ALTER TABLE llmobs_spans ADD COLUMN ${col}`)
  }
  db.exec(`
DROP INDEX IF EXISTS llmobs_spans_ml_app;
CREATE INDEX IF NOT EXISTS llmobs_spans_start ON llmobs_spans (start_int, trace_id, span_id);
CREATE INDEX IF NOT EXISTS llmobs_spans_duration ON llmobs_spans (duration, trace_id, span_id);
CREATE INDEX IF NOT EXISTS llmobs_spans_app ON llmobs_spans (ml_app, start_int, trace_id, span_id);
CREATE INDEX IF NOT EXISTS llmobs_spans_model ON llmobs_spans (model_name, start_int) WHERE model_name IS NOT NULL;
CREATE INDEX IF NOT EXISTS llmobs_spans_errors ON llmobs_spans (start_int) WHERE status = 'error';
CREATE TABLE IF NOT EXISTS llm_traces (
  trace_id TEXT PRIMARY KEY,
  root_span_id TEXT NOT NULL,
  root_name TEXT NOT NULL,
  root_is_root INTEGER NOT NULL,
  ml_app TEXT,
  status TEXT NOT NULL,
  session_id TEXT,
  span_count INTEGER NOT NULL,
  error_count INTEGER NOT NULL,
  start_int INTEGER NOT NULL,
  end_int INTEGER NOT NULL,
  duration INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  total_tokens INTEGER NOT NULL,
  cost_sum REAL NOT NULL,
  unpriced INTEGER NOT NULL,
  cost_sort REAL NOT NULL,
  models TEXT NOT NULL,
  kinds TEXT NOT NULL,
  paths TEXT NOT NULL,
  usage TEXT NOT NULL,
  evaluations INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS llm_traces_start ON llm_traces (start_int, trace_id);
CREATE INDEX IF NOT EXISTS llm_traces_duration ON llm_traces (duration, trace_id);
CREATE INDEX IF NOT EXISTS llm_traces_tokens ON llm_traces (total_tokens, trace_id);
CREATE INDEX IF NOT EXISTS llm_traces_cost ON llm_traces (cost_sort, trace_id);
CREATE INDEX IF NOT EXISTS llm_traces_app ON llm_traces (ml_app, start_int, trace_id);
CREATE INDEX IF NOT EXISTS llm_traces_session ON llm_traces (session_id, start_int) WHERE session_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS llm_traces_seq ON llm_traces (seq);
CREATE TABLE IF NOT EXISTS llm_sessions (
  session_id TEXT PRIMARY KEY,
  ml_app TEXT,
  traces INTEGER NOT NULL,
  spans INTEGER NOT NULL,
  first_seen INTEGER NOT NULL,
  last_seen INTEGER NOT NULL,
  duration INTEGER NOT NULL,
  input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL,
  total_tokens INTEGER NOT NULL,
  cost_sum REAL NOT NULL,
  unpriced INTEGER NOT NULL,
  cost_sort REAL NOT NULL,
  errors INTEGER NOT NULL,
  evaluations INTEGER NOT NULL,
  seq INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS llm_sessions_last ON llm_sessions (last_seen, session_id);
CREATE INDEX IF NOT EXISTS llm_sessions_first ON llm_sessions (first_seen, session_id);
CREATE VIRTUAL TABLE IF NOT EXISTS llmobs_fts USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2');
CREATE INDEX IF NOT EXISTS evaluations_label ON evaluations (label, trace_id);
CREATE INDEX IF NOT EXISTS evaluations_time ON evaluations (coalesce(timestamp_ms, received_at), id);
`)
}

/**
 * Version 3, for speed at a million spans. The event JSON (about 1 KiB a span, most of a row)
 * moves to its own table keyed by the span row's id: a span row shrinks to its derived columns,
 * so index lookups, rollups, summaries and list pages read a few small pages instead of walking
 * past the JSON (and its overflow pages); the JSON is read for the rows a page shows only.
 * Indexes no query uses are dropped (each costs every insert): EXPLAIN QUERY PLAN of every
 * query is in bench/store_explain.mjs. Two covering indexes serve the summary without
 * touching table rows (the traces of a range; the model calls of a range, by model).
 */
function addV3 (db: SqliteDatabase): void {
  db.exec('CREATE TABLE IF NOT EXISTS llmobs_events (id INTEGER PRIMARY KEY, event TEXT NOT NULL)')
  const have = new Set((db.prepare('PRAGMA table_info(llmobs_spans)').all() as Array<{ name: string }>).map((c) => c.name))
  if (have.has('event')) {
    db.exec('INSERT OR IGNORE INTO llmobs_events (id, event) SELECT id, event FROM llmobs_spans')
    db.exec('ALTER TABLE llmobs_spans DROP COLUMN event')
  }
  db.exec(`
DROP INDEX IF EXISTS llm_traces_start;
CREATE INDEX IF NOT EXISTS llm_traces_range ON llm_traces (start_int, trace_id, duration, error_count, total_tokens, cost_sum, unpriced);
CREATE INDEX IF NOT EXISTS llmobs_spans_usage ON llmobs_spans (model_name, model_provider, start_int, ml_app, input_tokens,
  output_tokens, total_tokens, cost_usd, priced, kind) WHERE kind IN ('llm', 'embedding');
CREATE VIRTUAL TABLE IF NOT EXISTS llmobs_fts_vocab USING fts5vocab (llmobs_fts, 'row');
DROP INDEX IF EXISTS llmobs_spans_duration;
CREATE INDEX IF NOT EXISTS llmobs_spans_by_duration ON llmobs_spans (duration, trace_id, span_id, start_int);
`)
}
