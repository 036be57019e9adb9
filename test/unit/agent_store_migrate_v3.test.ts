import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../../src/agent/sqlite.js'
import { Store, newBatch } from '../../src/agent/store.js'
import { SCHEMA_VERSION } from '../../src/agent/store_schema.js'
import { queryApi } from '../../src/agent/query_api.js'
import { listParams } from '../../src/agent/query_params.js'
import { llmEvent } from '../helpers/llm_events.js'

/** The span, trace and full-text tables of a version 2 store (the event JSON inside the span row). */
const V2_SCHEMA = `
CREATE TABLE llmobs_spans (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_id TEXT,
  name TEXT NOT NULL, kind TEXT, ml_app TEXT, status TEXT NOT NULL, start_ns TEXT NOT NULL, duration INTEGER NOT NULL,
  path TEXT NOT NULL, event TEXT NOT NULL, received_at INTEGER NOT NULL, start_int INTEGER NOT NULL DEFAULT 0,
  is_root INTEGER NOT NULL DEFAULT 0, session_id TEXT, model_name TEXT, model_provider TEXT, input_tokens INTEGER NOT NULL DEFAULT 0,
  output_tokens INTEGER NOT NULL DEFAULT 0, total_tokens INTEGER NOT NULL DEFAULT 0, usage_source TEXT, cost_usd REAL, priced INTEGER,
  error_message TEXT, error_type TEXT, UNIQUE (trace_id, span_id));
CREATE INDEX llmobs_spans_start ON llmobs_spans (start_int, trace_id, span_id);
CREATE INDEX llmobs_spans_duration ON llmobs_spans (duration, trace_id, span_id);
CREATE TABLE apm_chunks (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, root_name TEXT NOT NULL, service TEXT NOT NULL,
  priority INTEGER, kept INTEGER NOT NULL, span_count INTEGER NOT NULL, error INTEGER NOT NULL, llmobs_spans INTEGER NOT NULL,
  endpoint TEXT NOT NULL, received_at INTEGER NOT NULL);
CREATE TABLE evaluations (id INTEGER PRIMARY KEY, trace_id TEXT, span_id TEXT, label TEXT NOT NULL, metric_type TEXT NOT NULL,
  value TEXT NOT NULL, ml_app TEXT, timestamp_ms INTEGER, path TEXT NOT NULL, event TEXT NOT NULL, received_at INTEGER NOT NULL);
CREATE UNIQUE INDEX evaluations_identity ON evaluations (trace_id, span_id, label, quote(ml_app), quote(timestamp_ms));
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE llm_traces (trace_id TEXT PRIMARY KEY, root_span_id TEXT NOT NULL, root_name TEXT NOT NULL, root_is_root INTEGER NOT NULL,
  ml_app TEXT, status TEXT NOT NULL, session_id TEXT, span_count INTEGER NOT NULL, error_count INTEGER NOT NULL, start_int INTEGER NOT NULL,
  end_int INTEGER NOT NULL, duration INTEGER NOT NULL, input_tokens INTEGER NOT NULL, output_tokens INTEGER NOT NULL,
  total_tokens INTEGER NOT NULL, cost_sum REAL NOT NULL, unpriced INTEGER NOT NULL, cost_sort REAL NOT NULL, models TEXT NOT NULL,
  kinds TEXT NOT NULL, paths TEXT NOT NULL, usage TEXT NOT NULL, evaluations INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE INDEX llm_traces_start ON llm_traces (start_int, trace_id);
CREATE TABLE llm_sessions (session_id TEXT PRIMARY KEY, ml_app TEXT, traces INTEGER NOT NULL, spans INTEGER NOT NULL,
  first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL, duration INTEGER NOT NULL, input_tokens INTEGER NOT NULL,
  output_tokens INTEGER NOT NULL, total_tokens INTEGER NOT NULL, cost_sum REAL NOT NULL, unpriced INTEGER NOT NULL,
  cost_sort REAL NOT NULL, errors INTEGER NOT NULL, evaluations INTEGER NOT NULL, seq INTEGER NOT NULL);
CREATE VIRTUAL TABLE llmobs_fts USING fts5 (body, tokenize = 'unicode61 remove_diacritics 2');
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version (version) VALUES (2);
INSERT INTO counters (name, value) VALUES ('write_seq', 4), ('payloads_received', 3);
`

const T0 = 1_760_000_000_000

test('a version 2 store (event JSON in the span row) is migrated on open: events move to their own table, nothing is lost', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmobs-migrate-v3-'))
  const file = join(dir, 'agent.db')
  try {
    const events = [
      llmEvent({ trace: 'v2', span: '1', name: 'chat', kind: 'workflow', startMs: T0, durationMs: 100, input: 'where is my refund', session: 's' }),
      llmEvent({ trace: 'v2', span: '2', parent: '1', kind: 'llm', startMs: T0 + 1, model: 'gpt-4o-mini', metrics: { input_tokens: 10, output_tokens: 5 }, output: 'on its way', session: 's' }),
    ]
    const old = openDatabase(file)
    old.exec(V2_SCHEMA)
    const insert = old.prepare(`INSERT INTO llmobs_spans (id, trace_id, span_id, parent_id, name, kind, ml_app, status, start_ns, duration, path,
      event, received_at, start_int, is_root, session_id, model_name, input_tokens, output_tokens, total_tokens, priced)
      VALUES (?, 'v2', ?, ?, ?, ?, 'app', 'ok', ?, ?, 'evp', ?, 1, ?, ?, 's', ?, ?, ?, ?, ?)`)
    insert.run(1, '1', null, 'chat', 'workflow', events[0].start_ns as string, events[0].duration as number, JSON.stringify(events[0]), BigInt(events[0].start_ns as string), 1, null, 0, 0, 0, null)
    insert.run(2, '2', '1', 'op', 'llm', events[1].start_ns as string, events[1].duration as number, JSON.stringify(events[1]), BigInt(events[1].start_ns as string), 0, 'gpt-4o-mini', 10, 5, 15, 1)
    old.prepare("INSERT INTO llmobs_fts (rowid, body) VALUES (1, 'chat\nwhere is my refund'), (2, 'op\non its way')").run()
    old.prepare(`INSERT INTO llm_traces VALUES ('v2', '1', 'chat', 1, 'app', 'ok', 's', 2, 0, ?, ?, 100000000, 10, 5, 15, 0, 0, 0,
      char(31) || 'gpt-4o-mini' || char(31), char(31) || 'llm' || char(31) || 'workflow' || char(31), char(31) || 'evp' || char(31),
      char(31) || 'provider' || char(31), 0, 4)`).run(BigInt(events[0].start_ns as string), BigInt(events[0].start_ns as string) + 100_000_000n)
    old.prepare("INSERT INTO llm_sessions VALUES ('s', 'app', 1, 2, ?, ?, 100000000, 10, 5, 15, 0, 0, 0, 0, 0, 4)")
      .run(BigInt(events[0].start_ns as string), BigInt(events[0].start_ns as string) + 100_000_000n)
    old.close()

    const store = new Store(file)
    try {
      assert.deepEqual(store.db.prepare('SELECT version FROM schema_version').all(), [{ version: SCHEMA_VERSION }])
      const columns = (store.db.prepare('PRAGMA table_info(llmobs_spans)').all() as Array<{ name: string }>).map((c) => c.name)
      assert.equal(columns.includes('event'), false, 'the JSON left the span rows')
      assert.equal(store.counters().payloads_received, 3)
      assert.equal(store.writeSeq, 4)
      const api = queryApi(store)
      // The events come back as they were stored, through both read paths.
      assert.deepEqual(api.spans.ofTrace('v2').map((s) => s.event), events)
      assert.deepEqual(store.queries.traceSpanRecords('v2').map((s) => s.event), events)
      const page = api.traces.list({}, listParams(new URL('http://x/'), 'traces', ['start']))
      assert.deepEqual(page.rows.map((r) => [r.trace_id, r.span_count, r.total_tokens]), [['v2', 2, 15]])
      const hits = api.spans.list({ q: 'refund' }, listParams(new URL('http://x/'), 'spans', ['start']))
      assert.deepEqual(hits.rows.map((r) => [r.span_id, r.snippet]), [['1', 'chat\nwhere is my <mark>refund</mark>']])
      assert.equal(api.sessions.one('s')?.trace_count, 1)
      // A late span of the migrated trace: its row is recomputed from old and new spans.
      const late = llmEvent({ trace: 'v2', span: '3', parent: '1', kind: 'llm', startMs: T0 + 2, model: 'gpt-4o-mini', metrics: { input_tokens: 1, output_tokens: 1 } })
      const b = newBatch()
      b.spans.push({ traceId: 'v2', spanId: '3', parentId: '1', name: 'op', kind: 'llm', mlApp: 'app', status: 'ok', startNs: late.start_ns as string, duration: 1, path: 'evp', event: JSON.stringify(late) })
      store.commit(b)
      const one = api.traces.one('v2')
      assert.deepEqual([one?.span_count, one?.total_tokens, one?.root_span_id], [3, 17, '1'])
      assert.deepEqual(api.spans.ofTrace('v2').map((s) => s.span_id), ['1', '2', '3'])
    } finally {
      store.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
