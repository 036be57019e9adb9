import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BatchWriter, type BatchFailure } from '../../src/export/batch_writer.js'
import { HttpTransport } from '../../src/transport/http_transport.js'
import { RetryingTransport } from '../../src/transport/retrying_transport.js'
import { parseAgentUrl, type AgentEndpoint } from '../../src/config/tracer_config.js'
import { startSink, type Script, type Sink } from '../helpers/sink.js'

function writer (url: string, over: { maxItems?: number, itemDeadlineMs?: number, requestTimeoutMs?: number } = {}): { w: BatchWriter<number>, delivered: number[], failed: Array<[number, BatchFailure]>, http: HttpTransport } {
  const http = new HttpTransport(parseAgentUrl(url) as AgentEndpoint)
  // The retry deadline also caps each attempt's timeout, so a longer request timeout raises it too.
  const transport = new RetryingTransport(http, { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 10, deadlineMs: Math.max(3000, over.requestTimeoutMs ?? 0) })
  const delivered: number[] = []
  const failed: Array<[number, BatchFailure]> = []
  const w = new BatchWriter<number>({
    name: 'test writer',
    flushIntervalMs: 20,
    payloadMaxBytes: 1 << 20,
    maxItems: over.maxItems ?? 1000,
    maxBytes: 1 << 24,
    requestTimeoutMs: over.requestTimeoutMs ?? 500,
    itemDeadlineMs: over.itemDeadlineMs ?? 30_000,
    itemOverheadBytes: 1,
    assemble: (items) => `[${items.join(',')}]`,
    onDelivered: (items) => delivered.push(...items),
    onFailed: (items, reason) => { for (const i of items) failed.push([i, reason]) },
  })
  w.setDestination({ transport, path: '/in', headers: {} })
  return { w, delivered, failed, http }
}

async function withSink (script: Script, fn: (url: string, sink: Sink) => Promise<void>): Promise<void> {
  const sink = await startSink(script)
  try { await fn(sink.url, sink) } finally { await sink.close() }
}

test('the caps count items in flight: a destination that hangs cannot make the buffer grow past them', () => withSink(() => ({ delayMs: 600_000 }), async (url, sink) => {
  // The sink never answers within the test and the request timeout is longer than the test:
  // the first payload stays in flight however slowly this machine runs.
  const { w, failed, http } = writer(url, { maxItems: 10, itemDeadlineMs: 100, requestTimeoutMs: 600_000 })
  for (let i = 0; i < 5; i++) w.enqueue(i, String(i))
  await sink.waitFor(() => sink.all.some((r) => r.body.toString() === '[0,1,2,3,4]')) // the first five are in flight
  for (let i = 5; i < 20; i++) w.enqueue(i, String(i))
  const full = failed.filter(([, reason]) => reason === 'buffer_full').map(([i]) => i)
  assert.deepEqual(full, [10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
  assert.equal(w.size, 10)
  await w.shutdown(50)
  http.close()
}))

test('flush() waits for what was held at the call, not for traffic that keeps arriving', { timeout: 60_000 }, () => withSink(() => ({ delayMs: 30 }), async (url) => {
  const { w, delivered, http } = writer(url)
  for (let i = 0; i < 5; i++) w.enqueue(i, String(i))
  let n = 5
  const pump = setInterval(() => { for (let k = 0; k < 5; k++) w.enqueue(n, String(n++)) }, 5)
  // Were flush() to wait for the traffic the pump keeps adding, it would never resolve while the
  // pump runs: the test's timeout is the only clock here.
  const flushedAt = n
  await w.flush()
  const enqueuedBy = n
  clearInterval(pump)
  for (let i = 0; i < 5; i++) assert.ok(delivered.includes(i), `item ${i} delivered before flush resolved`)
  assert.ok(enqueuedBy > flushedAt, 'traffic kept arriving while flush() was waiting')
  await w.shutdown(2000)
  http.close()
}))

test('a failed payload is retried across payloads until its items are delivered (outage shorter than the deadline)', () => withSink((_r, i) => i < 4 ? { status: 503 } : undefined, async (url) => {
  const { w, delivered, failed, http } = writer(url)
  w.enqueue(1, '1')
  w.enqueue(2, '2')
  await w.flush()
  assert.deepEqual(delivered.sort(), [1, 2])
  assert.deepEqual(failed, [])
  assert.equal(w.size, 0)
  http.close()
}))

test('past the per-item deadline, items fail once with retries_exhausted; a 400 fails at once as refused', async () => {
  await withSink(() => ({ status: 503 }), async (url) => {
    const { w, delivered, failed, http } = writer(url, { itemDeadlineMs: 200 })
    w.enqueue(1, '1')
    await w.flush()
    assert.deepEqual(delivered, [])
    assert.deepEqual(failed, [[1, 'retries_exhausted']])
    assert.equal(w.size, 0)
    http.close()
  })
  await withSink(() => ({ status: 400 }), async (url) => {
    const { w, failed, http } = writer(url)
    w.enqueue(7, '7')
    await w.flush()
    assert.deepEqual(failed, [[7, 'refused']])
    http.close()
  })
})

test('a 400 for a batch holding one bad item: halving isolates it, its batch-mates are delivered', () => withSink((req) => ({ status: req.body.toString().includes('666') ? 400 : 200 }), async (url) => {
  const { w, delivered, failed, http } = writer(url)
  for (let i = 0; i < 16; i++) w.enqueue(i === 5 ? 666 : i, String(i === 5 ? 666 : i))
  await w.flush()
  assert.deepEqual(failed, [[666, 'refused']])
  assert.deepEqual(delivered.sort((a, b) => a - b), [0, 1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15])
  http.close()
}))

test('a destination that refuses everything with 400 gets a bounded number of requests, and every item a fate', async () => {
  let requests = 0
  const sink = await startSink(() => { requests++; return { status: 400 } })
  try {
    const { w, delivered, failed, http } = writer(sink.url)
    for (let i = 0; i < 1000; i++) w.enqueue(i, String(i))
    await w.flush()
    assert.equal(delivered.length, 0)
    assert.equal(failed.length, 1000)
    assert.ok(requests <= 127, `${requests} requests for one refused payload`)
    http.close()
  } finally { await sink.close() }
})

test('an item given to a writer already shut down fails as shutdown, not as a missing destination', () => withSink(() => undefined, async (url) => {
  const { w, failed, http } = writer(url)
  await w.shutdown(100)
  w.enqueue(1, '1')
  assert.deepEqual(failed, [[1, 'shutdown']])
  http.close()
}))
