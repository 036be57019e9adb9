import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { Tracer } from '../../src/root/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { OtelBridge } from '../../src/otel/bridge.js'
import { mapGenAiSpan, type GenAiMapped } from '../../src/genai/index.js'
import { TRACER_VERSION } from '../../src/version.js'
import { startOtlpSink, type DecodedSpan, type OtlpSink } from '../helpers/otlp_sink.js'
import { startSink, type Sink } from '../helpers/sink.js'
import type { TracerOptions } from '../../src/config/tracer_config.js'

/**
 * The OTLP export mode against a loopback receiver that decodes with the official definitions
 * (protobufjs over the vendored .proto text), not with our codec.
 */
const closers: Array<() => Promise<void>> = []
after(async () => { for (const c of closers.splice(0)) await c() })

async function otlpRig (opts: TracerOptions = {}): Promise<{ sink: OtlpSink, agent: Sink, tracer: Tracer }> {
  const sink = await startOtlpSink()
  // A Datadog agent stand-in the tracer is also pointed at: OTLP mode must never call it.
  const agent = await startSink()
  const tracer = new Tracer({ url: agent.url, service: 'svc', env: 'test', version: '1.2.3', flushIntervalMs: 60_000, ...opts, exporter: 'otlp', otlp: { endpoint: sink.url, ...opts.otlp } })
  closers.push(async () => { await tracer.shutdown(); await sink.close(); await agent.close() })
  return { sink, agent, tracer }
}

const byName = (spans: DecodedSpan[], name: string): DecodedSpan => {
  const s = spans.find((x) => x.name === name)
  assert.ok(s !== undefined, `no span named ${name} in ${spans.map((x) => x.name).join(', ')}`)
  return s
}

test('every field of a Datadog span: ids (128-bit), parent, times, kind, status, meta and metrics typed, links, events, resource, scope', async () => {
  const { sink, agent, tracer } = await otlpRig({ tags: { team: 'ml' } })
  const root = tracer.startSpan('web.request', { resource: 'GET /x', type: 'web', tags: { 'span.kind': 'server', s: 'v', n: 3, f: 1.5 } })
  const child = tracer.startSpan('db.query', { childOf: root, service: 'db' })
  child.setTag('_dd.span_links', JSON.stringify([{ trace_id: 'ab'.repeat(16), span_id: 'cd'.repeat(8), attributes: { k: 'v' }, flags: 1, tracestate: 'dd=s:1' }]))
  child.setTag('events', JSON.stringify([{ name: 'retry', time_unix_nano: 1700000000000000000, attributes: { attempt: 2, why: 'timeout' } }]))
  child.setError(new TypeError('boom'))
  child.finish()
  root.finish()
  await tracer.flush()

  assert.equal(sink.all.length, 1)
  assert.equal(sink.all[0].contentType, 'application/x-protobuf')
  const spans = sink.spans()
  assert.equal(spans.length, 2)
  const r = byName(spans, 'GET /x')
  const c = byName(spans, 'db.query')
  const trace = root.trace
  assert.notEqual(trace.traceIdHigh, '0000000000000000')
  assert.equal(r.traceId, trace.traceIdHigh + trace.traceIdLow)
  assert.equal(c.traceId, r.traceId)
  assert.equal(r.spanId, root.spanId)
  assert.equal(r.parentSpanId, '')
  assert.equal(c.parentSpanId, root.spanId)
  assert.equal(r.startTimeUnixNano, (BigInt(root.startSec) * 1_000_000_000n + BigInt(root.startNsec)).toString())
  assert.equal(BigInt(r.endTimeUnixNano) - BigInt(r.startTimeUnixNano), BigInt(root.duration))
  assert.equal(r.kind, 2, 'span.kind server → SERVER')
  assert.equal(c.kind, 1, 'no span.kind → INTERNAL')
  assert.equal(r.flags, 0x101, 'is-remote known, sampled')
  assert.deepEqual(r.status, { code: 0, message: '' })
  assert.deepEqual(c.status, { code: 2, message: 'TypeError: boom' })
  assert.equal(r.attributes.s, 'v')
  assert.equal(r.attributes.n, 3n, 'an integer metric is an int')
  assert.equal(r.attributes.f, 1.5, 'a fractional metric is a double')
  assert.equal(r.attributes['operation.name'], 'web.request')
  assert.equal(r.attributes['resource.name'], 'GET /x')
  assert.equal(r.attributes['span.type'], 'web')
  assert.equal(r.attributes['service.name'], undefined, 'the resource names the service')
  assert.equal(c.attributes['service.name'], 'db', 'a span of another service names its own')
  assert.equal(r.attributes.team, 'ml')
  assert.equal(r.attributes.env, 'test')
  for (const k of ['_dd.p.tid', 'span.kind', '_dd.span_links', 'events']) assert.equal(r.attributes[k] ?? c.attributes[k], undefined, `${k} is a field, not an attribute`)
  assert.deepEqual(c.links, [{ traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), traceState: 'dd=s:1', flags: 1, attributes: { k: 'v' } }])
  assert.deepEqual(c.events, [{ name: 'retry', timeUnixNano: '1700000000000000000', attributes: { attempt: 2n, why: 'timeout' } }])
  assert.deepEqual(sink.resource(), {
    'service.name': 'svc', 'deployment.environment.name': 'test', 'service.version': '1.2.3',
    'telemetry.sdk.name': 'llmobs-ts', 'telemetry.sdk.language': 'nodejs', 'telemetry.sdk.version': TRACER_VERSION, team: 'ml',
  })
  assert.deepEqual(sink.all[0].request.resourceSpans[0].scopeSpans.map((s) => s.scope), [{ name: 'llmobs-ts', version: TRACER_VERSION }])
  assert.equal(agent.all.length, 0, 'no Agent traffic in OTLP mode')
  assert.equal(tracer.stats().otlp?.spansExported, 2)
})

test('a span started through our OTel bridge goes out as the OTel span it was: name, kind, attributes, events, links, status', async () => {
  const { sink, tracer } = await otlpRig()
  const ot = new OtelBridge(() => tracer).provider.getTracer('my-lib', '2.0.0')
  const linked = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 }
  const s = ot.startSpan('GET /users', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET', arr: ['a', 'b'], flag: true, ratio: 0.25, count: 7 }, links: [{ context: linked, attributes: { n: 3 } }] })
  s.addEvent('cache.miss', { key: 'u1' })
  s.setStatus({ code: SpanStatusCode.ERROR, message: 'bad gateway' })
  s.end()
  await tracer.flush()
  const [o] = sink.spans()
  assert.equal(o.name, 'GET /users')
  assert.equal(o.kind, 3, 'CLIENT')
  assert.equal(o.attributes['http.request.method'], 'GET')
  assert.deepEqual(o.attributes.arr, ['a', 'b'])
  assert.equal(o.attributes.flag, true)
  assert.equal(o.attributes.ratio, 0.25)
  assert.equal(o.attributes.count, 7n)
  assert.deepEqual(o.status, { code: 2, message: 'bad gateway' })
  assert.equal(o.events.length, 1)
  assert.equal(o.events[0].name, 'cache.miss')
  assert.deepEqual(o.events[0].attributes, { key: 'u1' })
  assert.deepEqual(o.links.map((l) => [l.traceId, l.spanId, l.flags, l.attributes]), [[linked.traceId, linked.spanId, 1, { n: 3n }]])
  assert.equal(o.attributes['otel.status_code'], undefined, 'the Datadog mapping of the bridge is not sent back')
})

test('http/json with gzip and the configured headers (the Datadog LLM Observability intake recipe)', async () => {
  const { sink, tracer } = await otlpRig({ otlp: { protocol: 'http/json', compression: 'gzip', headers: { 'dd-api-key': 'secret', 'dd-otlp-source': 'llmobs' } } })
  const span = tracer.startSpan('job')
  span.finish()
  await tracer.flush()
  assert.equal(sink.all.length, 1)
  const rec = sink.all[0]
  assert.equal(rec.contentType, 'application/json')
  assert.equal(rec.headers['content-encoding'], 'gzip')
  assert.equal(rec.raw[0], 0x1f, 'the body is gzip')
  assert.equal(rec.headers['dd-api-key'], 'secret')
  assert.equal(rec.headers['dd-otlp-source'], 'llmobs')
  const [o] = sink.spans()
  assert.equal(o.spanId, span.spanId)
  assert.equal(o.traceId, span.trace.traceIdHigh + span.traceId)
})

test('LLM spans of every kind carry the GenAI semconv attributes, and the intake mapping reads the events back from them', async () => {
  const { sink, tracer } = await otlpRig()
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp: 'app' })
  closers.push(async () => { await llmobs.disable() })
  await llmobs.trace({ kind: 'workflow', name: 'flow', sessionId: 'sess-9' }, async (wf) => {
    llmobs.annotate(wf, { inputData: 'question', outputData: 'answer' })
    await llmobs.trace({ kind: 'agent', name: 'planner' }, async (ag) => {
      llmobs.annotate(ag, { inputData: 'goal', outputData: 'plan' })
      llmobs.trace({ kind: 'llm', name: 'chat', modelName: 'gpt-4o', modelProvider: 'OpenAI' }, (sp) => {
        llmobs.annotate(sp, {
          inputData: [{ role: 'user', content: 'weather in Paris?' }],
          outputData: [{ role: 'assistant', content: '', toolCalls: [{ name: 'get_weather', arguments: { city: 'Paris' }, toolId: 'c1' }] }],
          metadata: { temperature: 0, max_tokens: 20 },
          metrics: { inputTokens: 9, outputTokens: 4 },
          toolDefinitions: [{ name: 'get_weather', description: 'weather', schema: { type: 'object' } }],
        })
      })
      llmobs.trace({ kind: 'tool', name: 'get_weather' }, (sp) => { llmobs.annotate(sp, { inputData: '{"city":"Paris"}', outputData: '18C' }) })
      llmobs.trace({ kind: 'embedding', name: 'embed', modelName: 'e3', modelProvider: 'openai' }, (sp) => { llmobs.annotate(sp, { inputData: [{ text: 'doc a' }], outputData: '[1 embedding(s) returned]' }) })
      llmobs.trace({ kind: 'retrieval', name: 'search' }, (sp) => { llmobs.annotate(sp, { inputData: 'paris', outputData: [{ text: 'Paris is in France', id: 'd1', score: 0.5 }] }) })
      llmobs.trace({ kind: 'task', name: 'format' }, (sp) => { llmobs.annotate(sp, { inputData: 'raw', outputData: 'nice' }) })
    })
  })
  await llmobs.flush()
  const spans = sink.spans()
  assert.equal(spans.length, 7)
  const mapped = (name: string): GenAiMapped => {
    const s = byName(spans, name)
    const m = mapGenAiSpan({ name: s.name, attributes: s.attributes, kind: s.kind, kindEncoding: 'otlp' })
    assert.equal(m.admitted, true, `${name} admitted`)
    return m as GenAiMapped
  }
  const chat = byName(spans, 'chat').attributes
  assert.equal(chat['gen_ai.operation.name'], 'chat')
  assert.equal(chat['gen_ai.provider.name'], 'openai')
  assert.equal(chat['gen_ai.request.model'], 'gpt-4o')
  assert.equal(chat['gen_ai.response.model'], 'gpt-4o')
  assert.equal(chat['gen_ai.usage.input_tokens'], 9n)
  assert.equal(chat['gen_ai.usage.output_tokens'], 4n)
  assert.equal(chat['gen_ai.request.temperature'], 0, 'temperature is a double even when integral')
  assert.equal(typeof chat['gen_ai.request.temperature'], 'number')
  assert.equal(chat['gen_ai.conversation.id'], 'sess-9', 'the session is inherited and sent as the conversation id')
  assert.equal(chat['_dd.llmobs.artificial_gen_ai_tags'], undefined, 'on this path the backend is meant to read the gen_ai attributes')
  assert.deepEqual(JSON.parse(chat['gen_ai.input.messages'] as string), [{ role: 'user', parts: [{ type: 'text', content: 'weather in Paris?' }] }])
  const m = mapped('chat')
  assert.equal(m.kind, 'llm')
  assert.equal(m.modelName, 'gpt-4o')
  assert.equal(m.modelProvider, 'openai')
  assert.equal(m.sessionId, 'sess-9')
  assert.deepEqual(m.input, { messages: [{ role: 'user', content: 'weather in Paris?' }] })
  assert.equal(m.output.messages?.[0].tool_calls?.[0].name, 'get_weather')
  assert.deepEqual(m.output.messages?.[0].tool_calls?.[0].arguments, { city: 'Paris' })
  assert.equal(m.output.messages?.[0].tool_calls?.[0].tool_id, 'c1')
  assert.equal(m.metrics.input_tokens, 9)
  assert.equal(m.metrics.output_tokens, 4)
  assert.equal(m.metadata.max_tokens, 20)
  assert.deepEqual(m.toolDefinitions, [{ name: 'get_weather', description: 'weather', schema: { type: 'object' } }])

  assert.equal(mapped('flow').kind, 'workflow')
  assert.deepEqual(mapped('flow').input, { value: 'question' })
  assert.deepEqual(mapped('flow').output, { value: 'answer' })
  assert.equal(mapped('planner').kind, 'agent')
  assert.deepEqual(mapped('planner').output, { value: 'plan' })
  assert.equal(mapped('get_weather').kind, 'tool')
  assert.deepEqual(mapped('get_weather').input, { value: '{"city":"Paris"}' })
  assert.deepEqual(mapped('get_weather').output, { value: '18C' })
  assert.equal(mapped('embed').kind, 'embedding')
  assert.deepEqual(mapped('embed').input, { documents: [{ text: 'doc a' }] })
  assert.equal(mapped('search').kind, 'retrieval')
  assert.deepEqual(mapped('search').output, { documents: [{ text: 'Paris is in France', id: 'd1', score: 0.5 }] })
  assert.equal(mapped('format').kind, 'task')
  assert.deepEqual(mapped('format').output, { value: 'nice' })
  // Parentage as LLMObs sees it: the llm span under the agent, under the workflow.
  assert.equal(byName(spans, 'chat').parentSpanId, byName(spans, 'planner').spanId)
  assert.equal(byName(spans, 'planner').parentSpanId, byName(spans, 'flow').spanId)
  const s = llmobs.stats()
  assert.equal(s.created, 7)
  assert.equal(s.delivered, 7)
  assert.equal(s.pending, 0)
  assert.equal(s.rodeTrace, 7)
})
