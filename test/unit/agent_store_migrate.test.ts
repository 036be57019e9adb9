import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../../src/agent/sqlite.js'
import { Store } from '../../src/agent/store.js'
import { SCHEMA_VERSION } from '../../src/agent/store_schema.js'
import { queryApi } from '../../src/agent/query_api.js'
import { listParams } from '../../src/agent/query_params.js'
import { llmEvent } from '../helpers/llm_events.js'

/** The schema of the agent before query API v2 (store version 1), as it created new files. */
const V1_SCHEMA = `
CREATE TABLE llmobs_spans (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, span_id TEXT NOT NULL, parent_id TEXT,
  name TEXT NOT NULL, kind TEXT, ml_app TEXT, status TEXT NOT NULL, start_ns TEXT NOT NULL, duration INTEGER NOT NULL,
  path TEXT NOT NULL, event TEXT NOT NULL, received_at INTEGER NOT NULL, UNIQUE (trace_id, span_id));
CREATE INDEX llmobs_spans_ml_app ON llmobs_spans (ml_app);
CREATE TABLE apm_chunks (id INTEGER PRIMARY KEY, trace_id TEXT NOT NULL, root_name TEXT NOT NULL, service TEXT NOT NULL,
  priority INTEGER, kept INTEGER NOT NULL, span_count INTEGER NOT NULL, error INTEGER NOT NULL, llmobs_spans INTEGER NOT NULL,
  endpoint TEXT NOT NULL, received_at INTEGER NOT NULL);
CREATE INDEX apm_chunks_trace_id ON apm_chunks (trace_id);
CREATE TABLE evaluations (id INTEGER PRIMARY KEY, trace_id TEXT, span_id TEXT, label TEXT NOT NULL, metric_type TEXT NOT NULL,
  value TEXT NOT NULL, ml_app TEXT, timestamp_ms INTEGER, path TEXT NOT NULL, event TEXT NOT NULL, received_at INTEGER NOT NULL);
CREATE INDEX evaluations_span ON evaluations (trace_id, span_id);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE UNIQUE INDEX evaluations_identity ON evaluations (trace_id, span_id, label, quote(ml_app), quote(timestamp_ms));
INSERT INTO counters (name, value) VALUES ('payloads_received', 7);
`

const T0 = 1_760_000_000_000

test('a store written by the version 1 agent is migrated on open: derived columns, trace and session rows, full-text index', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmobs-migrate-'))
  const file = join(dir, 'agent.db')
  try {
    const old = openDatabase(file)
    old.exec(V1_SCHEMA)
    const insert = old.prepare(`INSERT INTO llmobs_spans (trace_id, span_id, parent_id, name, kind, ml_app, status, start_ns, duration, path, event, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
    const rows = [
      llmEvent({ trace: 'm1', span: '1', name: 'root', kind: 'workflow', startMs: T0, durationMs: 100, session: 'sess' }),
      llmEvent({ trace: 'm1', span: '2', parent: '1', kind: 'llm', startMs: T0 + 1, model: 'claude-3-5-haiku-20241022', metrics: { input_tokens: 2000, output_tokens: 1000 }, output: 'your refund is on its way', session: 'sess' }),
      llmEvent({ trace: 'm2', span: '3', kind: 'llm', startMs: T0 + 5000, model: 'mystery', output: 'nothing here' }),
    ]
    for (const ev of rows) {
      const meta = ev.meta as { span: { kind: string } }
      insert.run(ev.trace_id as string, ev.span_id as string, ev.parent_id as string, ev.name as string, meta.span.kind, 'app', 'ok', ev.start_ns as string, ev.duration as number, 'evp', JSON.stringify(ev), 1)
    }
    old.prepare(`INSERT INTO evaluations (trace_id, span_id, label, metric_type, value, ml_app, timestamp_ms, path, event, received_at)
      VALUES ('m1', '2', 'tone', 'categorical', '"kind"', 'app', 1, 'evp', '{}', 1)`).run()
    old.close()

    const store = new Store(file)
    try {
      const version = store.db.prepare('SELECT version FROM schema_version').all()
      assert.deepEqual(version, [{ version: SCHEMA_VERSION }])
      assert.equal(store.counters().payloads_received, 7)
      const api = queryApi(store)
      const url = (q: string): URL => new URL(`http://x/api/traces?${q}`)
      const page = api.traces.list({}, listParams(url(''), 'traces', ['start']))
      assert.deepEqual(page.rows.map((r) => r.trace_id), ['m2', 'm1'])
      const m1 = page.rows[1]
      assert.equal(m1.total_tokens, 3000)
      assert.equal(m1.session_id, 'sess')
      // claude-3-5-haiku: $0.80 / 1M input, $4 / 1M output.
      assert.ok(Math.abs((m1.cost_usd as number) - (2000 * 0.8 + 1000 * 4) / 1e6) < 1e-12)
      assert.equal(m1.evaluation_count, 1)
      assert.equal(page.rows[0].cost_usd, null)
      const hits = api.traces.list({ q: 'refund' }, listParams(url(''), 'traces', ['start']))
      assert.deepEqual(hits.rows.map((r) => r.trace_id), ['m1'])
      assert.equal(api.sessions.one('sess')?.trace_count, 1)
    } finally {
      store.close()
    }
    // Opening again migrates nothing twice.
    const again = new Store(file)
    try {
      assert.equal(again.db.prepare('SELECT COUNT(*) AS n FROM llmobs_fts').get() !== undefined, true)
      assert.deepEqual(again.db.prepare('SELECT COUNT(*) AS n FROM llmobs_fts').get(), { n: 3 })
      assert.deepEqual(again.db.prepare('SELECT version FROM schema_version').all(), [{ version: SCHEMA_VERSION }])
    } finally {
      again.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a store of a newer schema than this agent is refused with a reason, not misread', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmobs-migrate-'))
  const file = join(dir, 'agent.db')
  try {
    new Store(file).close()
    const db = openDatabase(file)
    db.exec('UPDATE schema_version SET version = 99')
    db.close()
    assert.throws(() => new Store(file), /schema version 99 is newer/)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
