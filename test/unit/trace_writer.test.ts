import { test } from 'node:test'
import assert from 'node:assert/strict'
import { TraceWriter } from '../../src/export/trace_writer.js'
import type { PayloadFate } from '../../src/export/payload_fate.js'
import { HttpTransport } from '../../src/transport/http_transport.js'
import { RetryingTransport } from '../../src/transport/retrying_transport.js'
import { parseAgentUrl, type AgentEndpoint } from '../../src/config/tracer_config.js'
import { Tracer } from '../../src/root/tracer.js'
import type { Chunk } from '../../src/model/trace_state.js'
import { startSink, decodeMsgpack, type Script } from '../helpers/sink.js'
import { waitFor } from '../helpers/agent_client.js'

const FAST_RETRY = { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 20, deadlineMs: 5000 }

function makeWriter (url: string, over: Partial<ConstructorParameters<typeof TraceWriter>[0]> = {}, retry = FAST_RETRY): { writer: TraceWriter, fates: PayloadFate[], retrying: RetryingTransport, http: HttpTransport } {
  const http = new HttpTransport(parseAgentUrl(url) as AgentEndpoint)
  const retrying = new RetryingTransport(http, retry)
  const writer = new TraceWriter({ transport: retrying, apiVersion: 'v0.4', flushIntervalMs: 60_000, bufferCapBytes: 1 << 24, payloadMaxBytes: 1 << 23, requestTimeoutMs: 2000, ...over })
  const fates: PayloadFate[] = []
  writer.onPayloadSettled((f) => fates.push(f))
  return { writer, fates, retrying, http }
}

/** Real chunks, produced by a tracer whose own writer is off. */
function chunks (n: number, tagBytes = 10): Chunk[] {
  const t = new Tracer({ enabled: false })
  const out: Chunk[] = []
  t.chain.onChunkDropped(() => {})
  for (let i = 0; i < n; i++) {
    const span = t.startSpan(`op${i}`)
    span.setTag('pad', 'x'.repeat(tagBytes))
    out.push({ trace: span.trace, spans: [span], riders: [`rider-${i}-${tagBytes}`] })
    span.finish()
  }
  return out
}

async function withSink (script: Script, fn: (url: string, sink: Awaited<ReturnType<typeof startSink>>) => Promise<void>): Promise<void> {
  const sink = await startSink(script)
  try { await fn(sink.url, sink) } finally { await sink.close() }
}

test('503 then 200: retried, acknowledged once', () => withSink((_r, i) => i === 0 ? { status: 503 } : undefined, async (url, sink) => {
  const { writer, fates, retrying, http } = makeWriter(url)
  for (const c of chunks(2)) writer.append(c)
  await writer.flush()
  assert.equal(sink.all.length, 2)
  assert.equal(sink.requests.length, 1)
  assert.equal(retrying.retries, 1)
  assert.equal(fates.length, 1)
  assert.equal(fates[0].acknowledged, true)
  assert.equal(fates[0].chunkCount, 2)
  assert.deepEqual(fates[0].riders, ['rider-0-10', 'rider-1-10'])
  http.close()
}))

test('429 is retried, honouring Retry-After', () => withSink((_r, i) => i === 0 ? { status: 429, headers: { 'Retry-After': '0' } } : undefined, async (url, sink) => {
  const { writer, fates, http } = makeWriter(url)
  writer.append(chunks(1)[0])
  await writer.flush()
  assert.equal(sink.all.length, 2)
  assert.equal(fates[0].acknowledged, true)
  http.close()
}))

test('400 is not retried and reports the chunks as refused', () => withSink(() => ({ status: 400, body: 'bad payload' }), async (url, sink) => {
  const { writer, fates, http } = makeWriter(url)
  writer.append(chunks(1)[0])
  await writer.flush()
  assert.equal(sink.all.length, 1)
  assert.equal(fates.length, 1)
  assert.equal(fates[0].acknowledged, false)
  if (!fates[0].acknowledged) {
    assert.equal(fates[0].reason, 'refused')
    assert.equal(fates[0].status, 400)
  }
  assert.equal(writer.stats.chunksFailed.refused, 1)
  http.close()
}))

test('persistent 500: retries until the attempt budget, then retries_exhausted', () => withSink(() => ({ status: 500 }), async (url, sink) => {
  const { writer, fates, http } = makeWriter(url)
  writer.append(chunks(1)[0])
  await writer.flush()
  assert.equal(sink.all.length, FAST_RETRY.maxAttempts)
  assert.equal(fates[0].acknowledged, false)
  if (!fates[0].acknowledged) assert.equal(fates[0].reason, 'retries_exhausted')
  http.close()
}))

test('agent down: network errors are retried, then reported', async () => {
  const { writer, fates, http } = makeWriter('http://127.0.0.1:1', {}, { ...FAST_RETRY, maxAttempts: 3 })
  writer.append(chunks(1)[0])
  await writer.flush()
  assert.equal(fates.length, 1)
  assert.equal(fates[0].acknowledged, false)
  if (!fates[0].acknowledged) {
    assert.equal(fates[0].reason, 'retries_exhausted')
    assert.match(fates[0].detail, /network error/)
  }
  http.close()
})

test('agent down then back within the deadline: delivered', async () => {
  // Reserve a port, close it, then bring a sink up on it after a delay.
  const probe = await startSink()
  const port = probe.port
  await probe.close()
  const { writer, fates, retrying, http } = makeWriter(`http://127.0.0.1:${port}`, {}, { maxAttempts: 10, baseDelayMs: 50, maxDelayMs: 200, deadlineMs: 30_000 })
  writer.append(chunks(1)[0])
  const flushing = writer.flush()
  // The agent comes back only after an attempt failed against it, however slow this machine is.
  await waitFor(() => retrying.retries >= 1, 30_000, 'a failed attempt')
  const http2 = await import('node:http')
  const got: Buffer[] = []
  const server = http2.createServer((req, res) => { req.on('data', (c: Buffer) => got.push(c)); req.on('end', () => res.end('{}')) })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  await flushing
  assert.equal(fates[0].acknowledged, true)
  assert.ok(got.length > 0)
  assert.ok(retrying.retries >= 1, 'delivered by a retry')
  http.close()
  server.closeAllConnections()
  await new Promise((r) => server.close(r))
})

test('413 on a multi-chunk payload splits in halves until each part fits; a single chunk too large fails', () => withSink((r) => {
  const n = (decodeMsgpack(r.body) as unknown[]).length
  return n > 1 ? { status: 413 } : (r.body.length > 2000 ? { status: 413 } : undefined)
}, async (url, sink) => {
  const { writer, fates, http } = makeWriter(url)
  const small = chunks(4)
  const big = chunks(1, 5000)
  for (const c of [...small, ...big]) writer.append(c)
  await writer.flush()
  const acked = fates.filter((f) => f.acknowledged).reduce((n, f) => n + f.chunkCount, 0)
  const failed = fates.filter((f) => !f.acknowledged)
  assert.equal(acked, 4)
  assert.equal(failed.length, 1)
  assert.deepEqual(failed[0].riders, big[0].riders)
  assert.equal(new Set(fates.flatMap((f) => f.riders)).size, 5, 'every rider reported once')
  if (!failed[0].acknowledged) assert.equal(failed[0].reason, 'too_large')
  assert.equal(sink.requests.length, 4)
  assert.ok(writer.stats.payloadsSplit >= 2)
  http.close()
}))

test('buffer cap: chunks past the cap are dropped and reported, the rest delivered', () => withSink(() => undefined, async (url, sink) => {
  const { writer, fates, http } = makeWriter(url, { bufferCapBytes: 3000 })
  const cs = chunks(10, 500)
  for (const c of cs) writer.append(c)
  const dropped = fates.filter((f) => !f.acknowledged)
  assert.ok(dropped.length > 0 && dropped.length < 10, `dropped ${dropped.length}`)
  for (const f of dropped) if (!f.acknowledged) assert.equal(f.reason, 'buffer_full')
  await writer.flush()
  const acked = fates.filter((f) => f.acknowledged).reduce((n, f) => n + f.chunkCount, 0)
  assert.equal(acked + dropped.length, 10, 'every chunk has exactly one fate')
  assert.equal((decodeMsgpack(sink.requests[0].body) as unknown[]).length, acked)
  http.close()
}))

test('payloads are split at the payload size limit before sending', () => withSink(() => undefined, async (url, sink) => {
  const { writer, fates, http } = makeWriter(url, { payloadMaxBytes: 2500 })
  for (const c of chunks(6, 1000)) writer.append(c)
  await writer.flush()
  assert.ok(sink.requests.length >= 3, `${sink.requests.length} payloads`)
  for (const r of sink.requests) assert.ok(r.body.length <= 2500, `payload of ${r.body.length} bytes over the 2500-byte cap`)
  assert.equal(fates.reduce((n, f) => n + f.chunkCount, 0), 6)
  assert.equal((sink.requests.map((r) => decodeMsgpack(r.body) as unknown[])).flat().length, 6, 'every chunk sent once')
  http.close()
}))

test('a single chunk over the payload cap is not sent: its fate is too_large, with its riders', () => withSink(() => undefined, async (url, sink) => {
  const { writer, fates, http } = makeWriter(url, { payloadMaxBytes: 4000 })
  const [small, big] = [chunks(1, 100)[0], chunks(1, 5000)[0]]
  writer.append(small)
  writer.append(big)
  await writer.flush()
  assert.equal(sink.requests.length, 1)
  assert.equal((decodeMsgpack(sink.requests[0].body) as unknown[]).length, 1, 'only the small chunk went out')
  const failed = fates.filter((f) => !f.acknowledged)
  assert.equal(failed.length, 1)
  assert.equal(failed[0].acknowledged === false && failed[0].reason, 'too_large')
  assert.deepEqual(failed[0].riders, big.riders)
  http.close()
}))

for (const version of ['v0.5', 'json'] as const) {
  test(`${version}: the payload cap holds too (chunks start a new payload, an oversized one is too_large)`, () => withSink(() => undefined, async (url, sink) => {
    const { writer, fates, http } = makeWriter(url, { payloadMaxBytes: 2500, apiVersion: version === 'v0.5' ? 'v0.5' : 'v0.4' })
    if (version === 'json') writer.useAgentless({ transport: new HttpTransport(parseAgentUrl(url) as AgentEndpoint), path: '/v1/input', headers: {} })
    for (const c of chunks(5, 1000)) writer.append(c)
    writer.append(chunks(1, 4000)[0])
    await writer.flush()
    assert.ok(sink.requests.length >= 2, `${sink.requests.length} payloads`)
    for (const r of sink.requests) assert.ok(r.body.length <= 2500 + 200, `payload of ${r.body.length} bytes`)
    assert.deepEqual(fates.filter((f) => !f.acknowledged).map((f) => !f.acknowledged && f.reason), ['too_large'])
    assert.equal(fates.filter((f) => f.acknowledged).reduce((n, f) => n + f.chunkCount, 0), 5)
    http.close()
  }))
}

test('shutdown drains buffered chunks and later appends are refused with a fate', () => withSink(() => undefined, async (_url, sink) => {
  const { writer, fates, http } = makeWriter(sink.url)
  writer.append(chunks(1)[0])
  await writer.shutdown()
  assert.equal(sink.requests.length, 1)
  writer.append(chunks(1)[0])
  assert.equal(fates.length, 2)
  assert.equal(fates[1].acknowledged, false)
  http.close()
}))

test('agent rates from the response feed the sampler', () => withSink(() => ({ body: '{"rate_by_service":{"service:svc,env:prod":0,"service:,env:":1}}' }), async (url) => {
  const tracer = new Tracer({ url, service: 'svc', env: 'prod', flushIntervalMs: 60_000 })
  tracer.trace('first', () => {})
  await tracer.flush()
  const second = tracer.startSpan('second')
  second.finish()
  await tracer.flush()
  assert.equal(second.metrics._sampling_priority_v1, 0)
  assert.equal(second.metrics['_dd.agent_psr'], 0)
  await tracer.shutdown()
}))

test('the flush timer sends without an explicit flush', () => withSink(() => undefined, async (url, sink) => {
  const tracer = new Tracer({ url, flushIntervalMs: 20 })
  tracer.trace('timed', () => {})
  await sink.waitFor(() => sink.requests.length === 1)
  await tracer.shutdown()
}))

test('unix socket agent URL', async () => {
  const http = await import('node:http')
  const { mkdtempSync } = await import('node:fs')
  const { join } = await import('node:path')
  const { tmpdir } = await import('node:os')
  const sock = join(mkdtempSync(join(tmpdir(), 'llmobs-')), 'agent.sock')
  let got = 0
  const server = http.createServer((req, res) => { req.resume(); req.on('end', () => { got++; res.end('{}') }) })
  await new Promise<void>((resolve) => server.listen(sock, resolve))
  const tracer = new Tracer({ url: `unix://${sock}`, flushIntervalMs: 60_000 })
  tracer.trace('over-unix', () => {})
  await tracer.flush()
  assert.equal(got, 1)
  await tracer.shutdown()
  await new Promise((r) => server.close(r))
})
