import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { generateText, stepCountIs, tool } from 'ai'
import { createOpenAI } from '@ai-sdk/openai'
import OpenAI from 'openai'
import { OpenAIInstrumentation } from '@traceloop/instrumentation-openai'
import { SpanKind } from '@opentelemetry/api'
import { z } from 'zod'
import { startAgent } from '../../src/agent/start_agent.js'
import type { SpanRecord } from '../../src/agent/store_queries.js'
import { CHAT_USAGE, SNAPSHOT, startFakeOpenAI } from '../helpers/fake_openai.js'
import { getJson } from '../helpers/agent_client.js'
import { otelPipeline, type OtelPipeline } from '../helpers/otlp_sdk.js'

/**
 * OTel JS's own SDK and OTLP exporters (protobuf and JSON, gzip or not) carrying spans of real
 * GenAI instrumentations from npm (OpenLLMetry's openai instrumentation, the AI SDK's telemetry)
 * against the fake provider, into the real local agent's OTLP intake. One process per file: the
 * OTel context manager is this file's.
 */
const agent = await startAgent({ port: 0, otlpPort: 0, db: ':memory:' })
const provider = await startFakeOpenAI()
const traceloop = new OpenAIInstrumentation()
// The test imports openai as an ES module, which require hooks never see: patch by hand.
traceloop.manuallyInstrument(OpenAI)
const pipelines: OtelPipeline[] = []
after(async () => {
  traceloop.disable()
  for (const p of pipelines) await p.shutdown()
  await provider.close()
  await agent.close()
})

type Ev = { name: string, parent_id: string, trace_id: string, span_id: string, status: string, meta: Record<string, any>, metrics: Record<string, number>, tags: string[], _dd: Record<string, any> }
type Stored = SpanRecord & { event: Ev }

function pipeline (protocol: 'proto' | 'json', gzip: boolean, resource?: Record<string, string | boolean>): OtelPipeline {
  assert.ok(agent.otlpUrl !== undefined)
  const p = otelPipeline(agent.otlpUrl, protocol, gzip, resource)
  pipelines.push(p)
  return p
}

/** What the agent stored since the last call (in start order), then a reset. */
async function stored (): Promise<Stored[]> {
  const spans = (await getJson<{ spans: Stored[] }>(agent.url, '/api/spans?limit=1000')).spans
  await fetch(`${agent.url}/api/reset`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
  return spans.sort((a, b) => (BigInt(a.start_ns) < BigInt(b.start_ns) ? -1 : 1))
}

for (const [protocol, gzip] of [['proto', false], ['proto', true], ['json', false], ['json', true]] as const) {
  test(`OpenLLMetry openai chat → ${protocol}${gzip ? ' + gzip' : ''} exporter → one llm span with model, messages and tokens`, async () => {
    const p = pipeline(protocol, gzip, { 'service.name': `chat-${protocol}` })
    traceloop.setTracerProvider(p.provider)
    const client = new OpenAI({ apiKey: 'k', baseURL: `${provider.url}/v1`, maxRetries: 0 })
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `hello over ${protocol}` }] })
    assert.equal(res.choices[0].message.content, 'Hello world')
    await p.flush()
    const spans = await stored()
    assert.equal(spans.length, 1, spans.map((s) => `${s.kind}:${s.name}`).join(', '))
    const [s] = spans
    const e = s.event
    assert.equal(s.kind, 'llm')
    assert.equal(s.path, 'otlp')
    assert.equal(s.ml_app, `chat-${protocol}`)
    assert.equal(e.parent_id, 'undefined')
    assert.equal(e.meta.model_name, 'gpt-4o-mini' + SNAPSHOT)
    assert.equal(e.meta.model_provider, 'openai')
    assert.deepEqual(e.meta.input.messages, [{ role: 'user', content: `hello over ${protocol}` }])
    assert.equal(e.meta.output.messages[0].content, 'Hello world')
    assert.equal(e.metrics.input_tokens, CHAT_USAGE.prompt_tokens)
    assert.equal(e.metrics.output_tokens, CHAT_USAGE.completion_tokens)
    assert.ok(e.tags.includes('source:otel'), e.tags.join(' '))
    assert.match(e.trace_id, /^[0-9a-f]{32}$/)
    assert.match(e.span_id, /^[0-9]+$/)
  })
}

const ai = createOpenAI({ apiKey: 'test-key', baseURL: `${provider.url}/v1` })
const weather = tool({ description: 'Weather by city', inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => `18C in ${city}` })

test('AI SDK telemetry under an HTTP server span → protobuf exporter: workflow, two llm spans and a tool span, nested; the server span is APM context', async () => {
  const p = pipeline('proto', true, { 'service.name': 'weather-app' })
  const tracer = p.provider.getTracer('app')
  const r = await tracer.startActiveSpan('GET /weather', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET', 'http.route': '/weather' } }, async (server) => {
    try {
      return await generateText({
        model: ai.chat('gpt-4o-mini'),
        prompt: 'Weather in Paris?',
        tools: { get_weather: weather },
        stopWhen: stepCountIs(2),
        prepareStep: ({ stepNumber }) => (stepNumber === 1 ? { activeTools: [] } : {}),
        maxRetries: 0,
        experimental_telemetry: { isEnabled: true, functionId: 'weather-bot', tracer },
      })
    } finally { server.end() }
  })
  assert.equal(r.text, 'Hello world')
  assert.equal(r.steps.length, 2)
  await p.flush()
  const first = (await getJson<{ spans: Stored[] }>(agent.url, '/api/spans?limit=1')).spans[0]
  assert.ok(first !== undefined, 'something was stored')
  const trace = await getJson<{ spans: Stored[], apm_chunks: Array<Record<string, unknown>> }>(agent.url, `/api/traces/${first.trace_id}`)
  const spans = await stored()
  const kinds = spans.map((s) => `${s.kind}:${s.name}`)
  const wf = spans.filter((s) => s.kind === 'workflow').map((s) => s.event)
  const llms = spans.filter((s) => s.kind === 'llm').map((s) => s.event)
  const tools = spans.filter((s) => s.kind === 'tool').map((s) => s.event)
  assert.equal(wf.length, 1, kinds.join(', '))
  assert.equal(llms.length, 2, kinds.join(', '))
  assert.equal(tools.length, 1, kinds.join(', '))
  assert.equal(spans.length, 4, kinds.join(', '))
  assert.equal(wf[0].parent_id, 'undefined', 'the HTTP server span is no LLMObs parent')
  assert.deepEqual(wf[0]._dd.apm_path.map((h: any) => [h.name, h.resource, h.type]), [['http.server.request', 'GET /weather', 'web']], 'but it is named as where the call happened')
  for (const e of [...llms, ...tools]) {
    assert.equal(e.parent_id, wf[0].span_id, `${e.name} nests under the workflow`)
    assert.equal(e.trace_id, wf[0].trace_id)
  }
  assert.equal(llms[0].meta.model_name, 'gpt-4o-mini' + SNAPSHOT)
  assert.deepEqual(llms[0].meta.input.messages, [{ role: 'user', content: 'Weather in Paris?' }])
  assert.deepEqual(llms[0].meta.output.messages[0].tool_calls?.map((c: any) => [c.name, c.arguments]), [['get_weather', { city: 'Paris' }]])
  assert.equal(llms[0].metrics.input_tokens, CHAT_USAGE.prompt_tokens)
  assert.equal(llms[0].metrics.output_tokens, CHAT_USAGE.completion_tokens)
  assert.equal(llms[1].meta.output.messages[0].content, 'Hello world')
  assert.equal(tools[0].name, 'get_weather')
  assert.match(JSON.stringify(tools[0].meta.output), /18C in Paris/)
  assert.ok(wf[0].tags.includes('ml_app:weather-app'))
  assert.equal(trace.apm_chunks.length, 1)
  assert.equal(trace.apm_chunks[0].root_name, 'http.server.request')
  assert.equal(trace.apm_chunks[0].endpoint, '/v1/traces')
  assert.equal(trace.apm_chunks[0].llmobs_spans, 4)
  assert.ok((trace.apm_chunks[0].span_count as number) > 4, 'every span of the trace is summarised, GenAI or not')
})

test('the counters say what came by OTLP', async () => {
  await stored()
  const p = pipeline('json', false)
  traceloop.setTracerProvider(p.provider)
  const client = new OpenAI({ apiKey: 'k', baseURL: `${provider.url}/v1`, maxRetries: 0 })
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'count me' }] })
  await p.flush()
  const c = agent.counters()
  assert.equal(c.payloads_received, 1)
  assert.equal(c.otlp_spans_received, 1)
  assert.equal(c.llmobs_otlp, 1)
  assert.equal(c.otlp_spans_rejected, 0)
  assert.equal(agent.store.queries.countSpans(), 1)
})
