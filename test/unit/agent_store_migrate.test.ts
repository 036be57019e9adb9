import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { openDatabase } from '../../src/agent/sqlite.js'
import { Store, newBatch, type NewEvaluation } from '../../src/agent/store.js'
import { SCHEMA } from '../../src/agent/store_schema.js'

function evaluation (o: Partial<NewEvaluation> = {}): NewEvaluation {
  return { traceId: 't', spanId: '1', label: 'l', metricType: 'score', value: '1', mlApp: 'app', timestampMs: 10, path: 'evp', event: '{}', ...o }
}

const INSERT = `INSERT INTO evaluations (trace_id, span_id, label, metric_type, value, ml_app, timestamp_ms, path, event, received_at)
  VALUES (@traceId, @spanId, @label, @metricType, @value, @mlApp, @timestampMs, @path, @event, 0)`

test('a store written before evaluations were de-duplicated: the duplicates it holds are removed once, counted, and new ones suppressed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-migrate-'))
  try {
    const file = join(dir, 'agent.db')
    // What an older agent left: its schema (no identity index) and an evaluation stored twice.
    const old = openDatabase(file)
    old.exec(SCHEMA)
    const insert = old.prepare(INSERT)
    for (const e of [
      evaluation({ value: '"first"' }), evaluation({ value: '"second copy"', path: 'agentless' }), evaluation({ timestampMs: 11 }),
      evaluation({ mlApp: null }), evaluation({ mlApp: null }),
      evaluation({ traceId: null, spanId: null }), evaluation({ traceId: null, spanId: null }),
    ]) {
      insert.run({ ...e })
    }
    old.close()

    const store = new Store(file)
    const rows = store.queries.listEvaluations({ limit: 100 })
    assert.equal(rows.length, 5, 'one of each identity, and both tag-joined rows')
    assert.deepEqual(rows.filter((r) => r.trace_id === 't' && r.timestamp_ms === 10 && r.ml_app === 'app').map((r) => r.value), ['first'], 'the first copy stays')
    assert.equal(store.counters().evaluation_duplicates_suppressed, 2)
    const b = newBatch()
    b.evaluations.push(evaluation(), evaluation({ timestampMs: 12 }))
    store.commit(b)
    assert.equal(store.queries.listEvaluations({ limit: 100 }).length, 6)
    assert.equal(store.counters().evaluation_duplicates_suppressed, 3)
    store.close()

    // Opening it again migrates nothing more.
    const again = new Store(file)
    assert.equal(again.queries.listEvaluations({ limit: 100 }).length, 6)
    assert.equal(again.counters().evaluation_duplicates_suppressed, 3)
    again.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
