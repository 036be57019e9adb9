import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { Tracer } from '../../src/root/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { OtlpExporter } from '../../src/export/otlp_exporter.js'
import { decodeTracesResponse, encodeTracesRequest } from '../../src/encode/otlp/index.js'
import { newTraceState } from '../../src/model/trace_state.js'
import type { PayloadFate } from '../../src/export/payload_fate.js'
import type { SpanData } from '../../src/model/span_data.js'
import { partialSuccessBody, startOtlpSink, type OtlpReceived, type OtlpReply, type OtlpSink } from '../helpers/otlp_sink.js'
import { startSink, type Sink } from '../helpers/sink.js'
import type { TracerOptions } from '../../src/config/tracer_config.js'
import type { LlmobsStats } from '../../src/export/ledger.js'

/** Retries, partial success, the deadline, the sampling rescue and the ledger, in OTLP mode. */
const closers: Array<() => Promise<void>> = []
after(async () => { for (const c of closers.splice(0)) await c() })

interface Rig { sink: OtlpSink, agent: Sink, tracer: Tracer, llmobs: LLMObs }

async function rig (script?: (r: OtlpReceived, i: number) => OtlpReply | undefined, opts: TracerOptions = {}): Promise<Rig> {
  const sink = await startOtlpSink(script)
  const agent = await startSink()
  const tracer = new Tracer({ url: agent.url, service: 'svc', flushIntervalMs: 60_000, ...opts, exporter: 'otlp', otlp: { endpoint: sink.url, ...opts.otlp } })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp: 'app' })
  closers.push(async () => { await tracer.shutdown(); await llmobs.disable(); await sink.close(); await agent.close() })
  return { sink, agent, tracer, llmobs }
}

/** A workflow span, a plain APM span under it, and an llm span under that: 2 LLM spans, 3 spans. */
async function llmTrace (r: Rig): Promise<void> {
  await r.llmobs.trace({ kind: 'workflow', name: 'flow' }, async () => {
    await r.tracer.trace('http.request', async () => {
      r.llmobs.trace({ kind: 'llm', name: 'chat', modelName: 'm', modelProvider: 'p' }, (span) => {
        r.llmobs.annotate(span, { inputData: 'q', outputData: 'a' })
      })
    })
  })
}

function invariant (s: LlmobsStats): void {
  const dropped = Object.values(s.dropped).reduce((a, b) => a + (b ?? 0), 0)
  assert.equal(s.created, s.delivered + s.pending + dropped, `created = delivered + pending + Σ dropped: ${JSON.stringify(s)}`)
}

test('503 with Retry-After is retried (after the wait it names) and then delivered; the ledger counts the events delivered', async () => {
  const r = await rig((_req, i) => i === 0 ? { status: 503, headers: { 'Retry-After': '1' } } : undefined)
  await llmTrace(r)
  await r.llmobs.flush()
  assert.equal(r.sink.all.length, 2, 'one retry')
  assert.deepEqual(r.sink.all[1].request, r.sink.all[0].request, 'the same request again')
  assert.equal(r.tracer.stats().otlp?.retries, 1)
  assert.equal(r.tracer.stats().otlp?.spansExported, 3)
  const s = r.llmobs.stats()
  assert.equal(s.delivered, 2)
  assert.equal(s.pending, 0)
  invariant(s)
  assert.equal(r.agent.all.length, 0, 'no Agent or EVP traffic')
})

test('a network error (connection reset) is retried', async () => {
  const r = await rig((_req, i) => i === 0 ? { destroy: true } : undefined)
  await llmTrace(r)
  await r.llmobs.flush()
  assert.equal(r.sink.all.length, 2)
  assert.equal(r.llmobs.stats().delivered, 2)
})

test('400 is final: no retry, the events dropped as refused, counted', async () => {
  const r = await rig(() => ({ status: 400, body: 'bad' }))
  await llmTrace(r)
  await r.llmobs.flush()
  assert.equal(r.sink.all.length, 1, 'no retry on 400')
  const s = r.llmobs.stats()
  assert.equal(s.dropped.refused, 2)
  assert.equal(s.rescuedPayloadFailed, 0, 'no rescue path in OTLP mode')
  assert.equal(s.pending, 0)
  invariant(s)
  assert.equal(r.tracer.stats().otlp?.spansDropped.refused, 3)
  assert.equal(r.agent.all.length, 0)
})

test('500 is final too (OTLP retries only 429/502/503/504)', async () => {
  const r = await rig(() => ({ status: 500 }))
  await llmTrace(r)
  await r.llmobs.flush()
  assert.equal(r.sink.all.length, 1)
  assert.equal(r.llmobs.stats().dropped.refused, 2)
})

test('a 200 with partial_success is not retried; the rejected count is counted, the events delivered', async () => {
  const r = await rig(() => ({ status: 200, headers: { 'Content-Type': 'application/x-protobuf' }, body: partialSuccessBody(1, 'span too old') }))
  await llmTrace(r)
  await r.llmobs.flush()
  assert.equal(r.sink.all.length, 1, 'partial success is never retried')
  assert.equal(r.tracer.stats().otlp?.spansRejected, 1)
  assert.equal(r.tracer.stats().otlp?.spansExported, 2)
  const s = r.llmobs.stats()
  assert.equal(s.delivered, 2)
  invariant(s)
})

test('a partial success rejecting every span is a refusal', async () => {
  const r = await rig(() => ({ status: 200, body: partialSuccessBody(3, 'all bad') }))
  await llmTrace(r)
  await r.llmobs.flush()
  assert.equal(r.sink.all.length, 1)
  assert.equal(r.llmobs.stats().dropped.refused, 2)
  assert.equal(r.llmobs.stats().delivered, 0)
})

test('a Retry-After past the export timeout ends the export at once: no early retry, retries_exhausted', async () => {
  const r = await rig(() => ({ status: 429, headers: { 'Retry-After': '30' } }), { otlp: { timeoutMs: 2000 } })
  await llmTrace(r)
  await r.llmobs.flush()
  assert.equal(r.sink.all.length, 1, 'the named wait would pass the deadline: not retried before it')
  const s = r.llmobs.stats()
  assert.equal(s.dropped.retries_exhausted, 2)
  invariant(s)
})

test('a trace our sampler drops is not exported, except its LLM spans, with their parent ids', async () => {
  const r = await rig(undefined, { samplingRules: [{ sample_rate: 0 }] })
  await llmTrace(r)
  r.tracer.trace('plain.job', () => {})
  await r.llmobs.flush()
  await r.tracer.flush()
  const spans = r.sink.spans()
  assert.deepEqual(spans.map((s) => s.name).sort(), ['chat', 'flow'])
  const flow = spans.find((s) => s.name === 'flow')
  const chat = spans.find((s) => s.name === 'chat')
  assert.ok(flow !== undefined && chat !== undefined)
  assert.notEqual(chat.parentSpanId, flow.spanId, 'the llm span keeps its APM parent (the http span), which is not exported')
  assert.notEqual(chat.parentSpanId, '')
  assert.equal(chat.flags & 1, 0, 'not sampled, as our decision said')
  assert.equal(r.tracer.stats().otlp?.spansSampledOut, 2)
  const s = r.llmobs.stats()
  assert.equal(s.delivered, 2)
  assert.equal(s.rescuedPredictedDrop, 0, 'they ride their own OTLP spans, not the LLMObs writer')
  assert.equal(s.pending, 0)
  invariant(s)
  assert.equal(r.agent.all.length, 0, 'no Agent or EVP traffic')
})

test('a chunk an APM user processor drops still exports its LLM spans over OTLP', async () => {
  const r = await rig()
  r.tracer.addProcessor(() => null)
  await llmTrace(r)
  await r.llmobs.flush()
  await r.tracer.flush()
  assert.deepEqual(r.sink.spans().map((s) => s.name).sort(), ['chat', 'flow'])
  const s = r.llmobs.stats()
  assert.equal(s.delivered, 2)
  invariant(s)
})

test('DD_TRACE_ENABLED=false in OTLP mode: only LLM spans leave', async () => {
  const r = await rig(undefined, { enabled: false })
  await llmTrace(r)
  await r.llmobs.flush()
  assert.deepEqual(r.sink.spans().map((s) => s.name).sort(), ['chat', 'flow'])
  assert.equal(r.llmobs.stats().delivered, 2)
})

test('the queue is bounded in spans: past it a chunk is dropped, counted, and its fate reported', async () => {
  const sink = await startOtlpSink()
  closers.push(() => sink.close())
  const exporter = new OtlpExporter({
    url: sink.url, headers: {}, encoding: 'protobuf', compression: 'none', timeoutMs: 5000, flushIntervalMs: 60_000,
    maxQueueSpans: 3, maxBatchSpans: 100, maxInflight: 1, retry: { maxAttempts: 2, baseDelayMs: 10, maxDelayMs: 10 },
    resource: { service: 's', env: undefined, version: undefined, tags: {}, resourceAttributes: {} },
    codec: { encodeRequest: encodeTracesRequest, decodeResponse: decodeTracesResponse },
  })
  closers.push(() => exporter.shutdown(1000))
  const fates: PayloadFate[] = []
  exporter.onPayloadSettled((f) => fates.push(f))
  const chunk = (n: number, rider: string): { trace: ReturnType<typeof newTraceState>, spans: SpanData[], riders: unknown[] } => {
    const trace = newTraceState('00000000000000aa', '00000000000000bb')
    const spans: SpanData[] = []
    for (let i = 0; i < n; i++) spans.push({ traceId: '00000000000000bb', spanId: (0x100 + i).toString(16).padStart(16, '0'), parentId: '0000000000000000', name: 'x', service: 's', resource: 'x', type: '', startSec: 1, startNsec: 0, duration: 1, error: 0, meta: {}, metrics: {}, metaStruct: undefined })
    return { trace, spans, riders: [rider] }
  }
  exporter.append(chunk(2, 'a'))
  exporter.append(chunk(2, 'b'))
  assert.deepEqual(fates.map((f) => [f.acknowledged, f.riders, f.acknowledged ? '' : f.reason]), [[false, ['b'], 'buffer_full']])
  assert.equal(exporter.stats.spansDropped.buffer_full, 2)
  await exporter.flush()
  assert.equal(sink.spans().length, 2)
  assert.deepEqual(fates.slice(1).map((f) => [f.acknowledged, f.riders]), [[true, ['a']]])
})

test('natural exit flushes the OTLP exporter: a process that never calls flush still delivers its spans', async () => {
  const sink = await startOtlpSink()
  closers.push(() => sink.close())
  const dist = new URL('../../src/', import.meta.url).href
  const code = `
    import { Tracer } from '${dist}root/tracer.js'
    import { LLMObs } from '${dist}llmobs/sdk.js'
    const t = new Tracer({ exporter: 'otlp', otlp: { endpoint: process.env.OTLP_URL }, flushIntervalMs: 60000 })
    const l = new LLMObs(() => t)
    l.enable({ mlApp: 'exit-app' })
    l.trace({ kind: 'llm', name: 'exit-llm' }, () => {})
    t.trace('exit.job', () => {})
  `
  const exitCode = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, OTLP_URL: sink.url }, stdio: 'ignore' })
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.on('exit', (c) => { clearTimeout(guard); resolve(c) })
  })
  assert.equal(exitCode, 0)
  assert.deepEqual(sink.spans().map((s) => s.name).sort(), ['exit-llm', 'exit.job'])
})
