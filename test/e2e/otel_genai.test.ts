import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { context, propagation, trace, SpanKind, ROOT_CONTEXT } from '@opentelemetry/api'
import { startAgent } from '../../src/agent/start_agent.js'
import type { SpanRecord } from '../../src/agent/store_queries.js'
import { Tracer } from '../../src/root/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { enableOtel } from '../../src/otel/enable.js'
import { getJson } from '../helpers/agent_client.js'

// One process per test file: the OTel globals belong to this file's tracer and SDK.
const agent = await startAgent({ port: 0, db: ':memory:' })
const tracer = new Tracer({ url: agent.url, service: 'svc', flushIntervalMs: 60_000 })
const llmobs = new LLMObs(() => tracer)
llmobs.enable({ mlApp: 'otel-app' })
enableOtel(tracer, { llmobs })
const otel = trace.getTracer('genai-test')
/** Meta of every APM span leaving the process (the processor chain's user stage sees them all). */
const apmMeta: Array<Record<string, string>> = []
tracer.addProcessor((spans) => { for (const s of spans) apmMeta.push({ ...s.meta }) })
after(async () => { await llmobs.disable(); await tracer.shutdown(); await agent.close() })

async function stored (traceFilter?: (s: SpanRecord) => boolean): Promise<SpanRecord[]> {
  await llmobs.flush()
  const spans = (await getJson<{ spans: SpanRecord[] }>(agent.url, '/api/spans?limit=1000')).spans
  return traceFilter === undefined ? spans : spans.filter(traceFilter)
}

type Ev = { name: string, parent_id: string, trace_id: string, span_id: string, meta: Record<string, any>, metrics: Record<string, number>, tags: string[] }

function chatAttributes (content: string): Record<string, string | number> {
  return {
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
    'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content }] }]),
    'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'answer to ' + content }], finish_reason: 'stop' }]),
    'gen_ai.usage.input_tokens': 11,
    'gen_ai.usage.output_tokens': 7,
  }
}

test('OTel GenAI spans become LLMObs spans: kinds, parentage, messages, tokens; the APM span is marked artificial', async () => {
  let traceHex = ''
  otel.startActiveSpan('invoke_agent helper', { attributes: { 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.agent.name': 'helper' } }, (agentSpan) => {
    traceHex = agentSpan.spanContext().traceId
    const chat = otel.startSpan('chat gpt-4o-mini', { kind: SpanKind.CLIENT, attributes: chatAttributes('refund?') })
    chat.end()
    agentSpan.end()
  })
  const spans = await stored((s) => (s.event as Ev).meta.input?.messages?.[0]?.content === 'refund?' || s.kind === 'agent')
  const llm = spans.find((s) => s.kind === 'llm')
  const ag = spans.find((s) => s.kind === 'agent')
  assert.ok(llm !== undefined && ag !== undefined, `stored kinds: ${spans.map((s) => s.kind).join(',')}`)
  const e = llm.event as Ev
  assert.equal(e.meta.model_name, 'gpt-4o-mini-2024-07-18')
  assert.equal(e.meta.model_provider, 'openai')
  assert.deepEqual(e.meta.input.messages, [{ role: 'user', content: 'refund?' }])
  assert.equal(e.meta.output.messages[0].content, 'answer to refund?')
  assert.equal(e.metrics.input_tokens, 11)
  assert.equal(e.metrics.output_tokens, 7)
  assert.equal(e.parent_id, (ag.event as Ev).span_id, 'the llm span nests under the OTel agent span')
  assert.equal(e.trace_id, (ag.event as Ev).trace_id)
  assert.ok(e.tags.includes('ml_app:otel-app'))
  const chunks = (await getJson<{ chunks: Array<{ trace_id: string, llmobs_spans: number }> }>(agent.url, '/api/chunks?limit=100')).chunks
  assert.ok(chunks.length > 0 && traceHex.length === 32)
  const apmChat = apmMeta.find((m) => m['gen_ai.input.messages']?.includes('refund?'))
  assert.ok(apmChat !== undefined, 'the APM span keeps its gen_ai.* tags')
  assert.equal(apmChat['_dd.llmobs.artificial_gen_ai_tags'], 'true', 'so the backend does not convert it again')
})

test('LLM spans of a trace our sampler drops still arrive (the rescue), exactly once', async () => {
  const carrier = { 'x-datadog-trace-id': '98765', 'x-datadog-parent-id': '4321', 'x-datadog-sampling-priority': '0' }
  const remote = propagation.extract(ROOT_CONTEXT, carrier)
  context.with(remote, () => {
    otel.startActiveSpan('POST /chat', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.route': '/chat' } }, (server) => {
      otel.startSpan('chat', { kind: SpanKind.CLIENT, attributes: chatAttributes('dropped trace') }).end()
      server.end()
    })
  })
  await tracer.flush()
  const spans = await stored((s) => (s.event as Ev).meta.input?.messages?.[0]?.content === 'dropped trace')
  assert.equal(spans.length, 1)
  assert.equal(spans[0].path, 'evp', 'rescued through the LLMObs writer, not riding the dropped APM trace')
  const st = llmobs.stats()
  assert.ok(st.rescuedPredictedDrop >= 1, 'counted as a predicted-drop rescue')
  assert.deepEqual(st.dropped, {})
  assert.equal(st.created, st.delivered + st.pending, 'the ledger invariant')
})

test('an LLMObs span inside an OTel server span, and an OTel span inside llmobs.trace(), share the trace and parent correctly', async () => {
  let serverId = ''
  otel.startActiveSpan('GET /ask', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET' } }, (server) => {
    serverId = server.spanContext().spanId
    llmobs.trace({ kind: 'workflow', name: 'answer-flow' }, (wf) => {
      assert.equal(wf.parentId, serverId, 'our LLMObs span is the APM child of the OTel server span')
      otel.startSpan('chat', { kind: SpanKind.CLIENT, attributes: chatAttributes('inside workflow') }).end()
    })
    server.end()
  })
  const spans = await stored()
  const wf = spans.find((s) => s.name === 'answer-flow')!
  const chat = spans.find((s) => (s.event as Ev).meta.input?.messages?.[0]?.content === 'inside workflow')!
  assert.ok(wf !== undefined && chat !== undefined)
  assert.equal((chat.event as Ev).parent_id, (wf.event as Ev).span_id, 'the OTel GenAI span nests under llmobs.trace() in LLMObs too')
})

test('one call, one span: our LLM span and an OTel GenAI span for the same call give one LLMObs span, either nesting', async () => {
  // OTel instrumentation outside, our integration inside.
  otel.startActiveSpan('chat outer', { kind: SpanKind.CLIENT, attributes: chatAttributes('otel outside') }, (s) => {
    llmobs.trace({ kind: 'llm', name: 'ours-inside', modelName: 'gpt-4o-mini', modelProvider: 'openai' }, () => {
      llmobs.annotate({ inputData: 'otel outside', outputData: 'x' })
    })
    s.end()
  })
  // Our integration outside, OTel inside.
  llmobs.trace({ kind: 'llm', name: 'ours-outside', modelName: 'gpt-4o-mini', modelProvider: 'openai' }, () => {
    llmobs.annotate({ inputData: 'otel inside', outputData: 'y' })
    otel.startSpan('chat inner', { kind: SpanKind.CLIENT, attributes: chatAttributes('otel inside') }).end()
  })
  const spans = await stored((s) => ['otel outside', 'otel inside'].includes((s.event as Ev).meta.input?.messages?.[0]?.content))
  assert.deepEqual(spans.map((s) => s.name).sort(), ['ours-inside', 'ours-outside'])
  const otelApm = apmMeta.filter((m) => m['gen_ai.input.messages']?.includes('otel outside') || m['gen_ai.input.messages']?.includes('otel inside'))
  assert.equal(otelApm.length, 2, 'both OTel spans stay APM spans')
  assert.ok(otelApm.every((m) => m['_dd.llmobs.artificial_gen_ai_tags'] === 'true'), 'marked so the backend does not make them LLM spans either')
})

test('dd_llmobs_enabled=false keeps a GenAI span out of LLM Observability', async () => {
  otel.startSpan('chat', { attributes: { ...chatAttributes('opted out'), dd_llmobs_enabled: false } }).end()
  const spans = await stored((s) => (s.event as Ev).meta.input?.messages?.[0]?.content === 'opted out')
  assert.equal(spans.length, 0)
})
