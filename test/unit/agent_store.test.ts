import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Store, newBatch, count, type NewSpan } from '../../src/agent/store.js'

function span (traceId: string, spanId: string, o: Partial<NewSpan> = {}): NewSpan {
  const ev = { trace_id: traceId, span_id: spanId, metrics: { input_tokens: 2, output_tokens: 3, total_tokens: 5 } }
  return {
    traceId, spanId, parentId: 'undefined', name: 'n', kind: 'llm', mlApp: 'app', status: 'ok',
    startNs: '1700000000000000001', duration: 10, path: 'trace', event: JSON.stringify(ev), ...o,
  }
}

test('dedup by (trace_id, span_id) within and across commits; counters follow', () => {
  const store = new Store(':memory:')
  const b1 = newBatch()
  b1.spans.push(span('t1', '1'), span('t1', '1', { path: 'evp' }), span('t1', '2'))
  count(b1, 'llmobs_extracted', 3)
  assert.equal(store.commit(b1), 1)
  const b2 = newBatch()
  b2.spans.push(span('t1', '2', { path: 'evp' }), span('t2', '2'))
  count(b2, 'llmobs_evp', 2)
  assert.equal(store.commit(b2), 1)
  const c = store.counters()
  assert.equal(c.llmobs_extracted, 3)
  assert.equal(c.llmobs_evp, 2)
  assert.equal(c.duplicates_suppressed, 2)
  assert.equal(store.queries.countSpans(), 3)
  // The first arrival wins: t1/1 came by trace first.
  assert.deepEqual(store.queries.traceSpanRecords('t1').map((s) => [s.span_id, s.path]), [['1', 'trace'], ['2', 'trace']])
  store.close()
  store.close()
})

test('a file store survives a restart (spans, chunks, counters); reset clears all', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-store-'))
  try {
    const file = join(dir, 'nested', 'dir', 'agent.db')
    const a = new Store(file)
    assert.ok(existsSync(file))
    const b = newBatch()
    b.spans.push(span('t', '1'))
    b.chunks.push({ traceId: 'f'.repeat(32), rootName: 'r', service: 's', priority: 1, kept: true, spanCount: 2, error: false, llmobsSpans: 1, endpoint: '/v0.4/traces' })
    count(b, 'payloads_received')
    count(b, 'chunks_received')
    a.commit(b)
    a.bump('requests_rejected', 2)
    a.close()

    const again = new Store(file)
    assert.equal(again.queries.countSpans(), 1)
    assert.equal(again.queries.listChunks({ limit: 10 }).length, 1)
    const c = again.counters()
    assert.equal(c.payloads_received, 1)
    assert.equal(c.chunks_received, 1)
    assert.equal(c.requests_rejected, 2)
    again.reset()
    assert.equal(again.queries.countSpans(), 0)
    assert.equal(again.queries.listChunks({ limit: 10 }).length, 0)
    assert.equal(Object.values(again.counters()).every((v) => v === 0), true)
    again.close()
    const third = new Store(file)
    assert.equal(third.counters().payloads_received, 0)
    third.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('trace summaries: root by missing parent, tokens from model spans only, paths, ml_app filter', () => {
  const store = new Store(':memory:')
  const b = newBatch()
  b.spans.push(
    span('T', '10', { name: 'workflow', kind: 'workflow', startNs: '100', duration: 1000, path: 'evp' }),
    span('T', '11', { parentId: '10', name: 'llm', startNs: '200', duration: 50, status: 'error' }),
    span('T', '12', { parentId: '10', name: 'emb', kind: 'embedding', startNs: '300', duration: 50 }),
    span('U', '20', { parentId: '99', name: 'orphan', mlApp: 'other', startNs: '5', duration: 10 }),
    span('U', '21', { parentId: '99', name: 'late', mlApp: 'other', startNs: '50', duration: 100 }),
  )
  store.commit(b)
  const traces = store.queries.listTraces({ limit: 10 })
  assert.deepEqual(traces.map((t) => t.trace_id), ['U', 'T'])
  const t = traces[1]
  assert.equal(t.root_name, 'workflow')
  assert.equal(t.root_span_id, '10')
  assert.equal(t.span_count, 3)
  assert.equal(t.error_count, 1)
  assert.equal(t.status, 'ok')
  assert.equal(t.start_ns, '100')
  assert.equal(t.duration, 1000)
  assert.deepEqual([t.input_tokens, t.output_tokens, t.total_tokens], [4, 6, 10])
  assert.deepEqual(t.paths, ['evp', 'trace'])
  const u = traces[0]
  assert.equal(u.root_name, 'orphan')
  assert.equal(u.duration, 145)
  assert.deepEqual(store.queries.listTraces({ limit: 10, mlApp: 'other' }).map((x) => x.trace_id), ['U'])
  assert.equal(store.queries.listTraces({ limit: 1 }).length, 1)
  store.close()
})
