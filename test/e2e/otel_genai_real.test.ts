import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { generateText, stepCountIs, streamText, tool, wrapLanguageModel } from 'ai'
import { createOpenAI } from '@ai-sdk/openai'
import OpenAI from 'openai'
import { OpenAIInstrumentation } from '@traceloop/instrumentation-openai'
import { join } from 'node:path'
import { z } from 'zod'
import { startAgent } from '../../src/agent/start_agent.js'
import type { SpanRecord } from '../../src/agent/store_queries.js'
import { Tracer } from '../../src/root/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { enableOtel } from '../../src/otel/enable.js'
import { wrapOpenAI } from '../../src/integrations/openai/instrument.js'
import { llmobsMiddleware } from '../../src/integrations/ai_sdk/middleware.js'
import { CHAT_USAGE, SNAPSHOT, startFakeOpenAI } from '../helpers/fake_openai.js'
import { getJson } from '../helpers/agent_client.js'

/**
 * Real OTel GenAI instrumentations end to end through our bridge (no OTel SDK): the Vercel AI
 * SDK's own telemetry and OpenLLMetry's openai instrumentation, against the fake provider, the
 * events read back from the real local agent. One process per test file: the OTel globals are
 * this file's.
 */
const agent = await startAgent({ port: 0, db: ':memory:' })
const provider = await startFakeOpenAI()
const tracer = new Tracer({ url: agent.url, service: 'svc', flushIntervalMs: 60_000 })
const llmobs = new LLMObs(() => tracer)
llmobs.enable({ mlApp: 'otel-real' })
enableOtel(tracer, { llmobs })
// OpenLLMetry's instrumentation takes its tracer from the global OTel API, which our bridge
// serves. The test imports openai as ES module, which require hooks never see: patch by hand.
const traceloop = new OpenAIInstrumentation()
traceloop.manuallyInstrument(OpenAI)
const apm: Array<{ name: string, meta: Record<string, string> }> = []
/** The APM spans that left the process up to the last `stored()`. */
let lastApm: typeof apm = []
tracer.addProcessor((spans) => { for (const s of spans) apm.push({ name: s.name, meta: { ...s.meta } }) })
after(async () => { traceloop.disable(); await llmobs.disable(); await tracer.shutdown(); await provider.close(); await agent.close() })

const ai = createOpenAI({ apiKey: 'test-key', baseURL: `${provider.url}/v1` })
const telemetry = { isEnabled: true, functionId: 'weather-bot' }

type Ev = { name: string, parent_id: string, trace_id: string, span_id: string, meta: Record<string, any>, metrics: Record<string, number>, tags: string[] }

/** Flushes, returns what the agent stored since the last call (oldest first), and clears it. */
async function stored (): Promise<Array<SpanRecord & { event: Ev }>> {
  await tracer.flush()
  await llmobs.flush()
  const spans = (await getJson<{ spans: Array<SpanRecord & { event: Ev }> }>(agent.url, '/api/spans?limit=1000')).spans
  await fetch(`${agent.url}/api/reset`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
  lastApm = apm.splice(0)
  return spans.sort((a, b) => (BigInt((a.event as any).start_ns) < BigInt((b.event as any).start_ns) ? -1 : 1))
}

const weather = tool({ description: 'Weather by city', inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => `18C in ${city}` })

test('AI SDK telemetry, generateText with a tool over 2 steps: a workflow, two llm spans and a tool span, nested', async () => {
  // The fake answers every request that offers tools with a tool call: step 1 offers it, step 2
  // is forced to answer in text (activeTools empty on the last step).
  const r = await generateText({
    model: ai.chat('gpt-4o-mini'),
    prompt: 'Weather in Paris?',
    tools: { get_weather: weather },
    stopWhen: stepCountIs(2),
    prepareStep: ({ stepNumber }) => (stepNumber === 1 ? { activeTools: [] } : {}),
    maxRetries: 0,
    experimental_telemetry: telemetry,
  })
  assert.equal(r.steps.length, 2)
  assert.equal(r.text, 'Hello world')
  const spans = await stored()
  const kinds = spans.map((s) => `${s.kind}:${s.name}`)
  const [wf] = spans.filter((s) => s.kind === 'workflow').map((s) => s.event)
  const llms = spans.filter((s) => s.kind === 'llm').map((s) => s.event)
  const tools = spans.filter((s) => s.kind === 'tool').map((s) => s.event)
  assert.ok(wf !== undefined, `kinds: ${kinds.join(', ')}`)
  assert.equal(llms.length, 2, `exactly one llm span per model call: ${kinds.join(', ')}`)
  assert.equal(tools.length, 1, kinds.join(', '))
  assert.equal(spans.length, 4, kinds.join(', '))
  assert.equal(wf.parent_id, 'undefined', 'the workflow is the LLMObs root')
  for (const e of [...llms, ...tools]) {
    assert.equal(e.parent_id, wf.span_id, `${e.name} nests under the workflow`)
    assert.equal(e.trace_id, wf.trace_id)
  }
  const [first, second] = llms
  assert.equal(first.meta.model_name, 'gpt-4o-mini' + SNAPSHOT)
  assert.equal(first.meta.model_provider, 'openai')
  assert.deepEqual(first.meta.input.messages, [{ role: 'user', content: 'Weather in Paris?' }])
  assert.deepEqual(first.meta.output.messages[0].tool_calls?.map((c: any) => [c.name, c.arguments]), [['get_weather', { city: 'Paris' }]])
  assert.equal(first.metrics.input_tokens, CHAT_USAGE.prompt_tokens)
  assert.equal(first.metrics.output_tokens, CHAT_USAGE.completion_tokens)
  assert.equal(second.meta.output.messages[0].content, 'Hello world')
  assert.ok(second.meta.input.messages.some((m: any) => m.role === 'tool' || m.tool_results !== undefined), `the tool result is in step 2's input: ${JSON.stringify(second.meta.input.messages)}`)
  assert.equal(tools[0].name, 'get_weather')
  assert.match(JSON.stringify(tools[0].meta.output), /18C in Paris/)
  assert.ok(wf.tags.includes('ml_app:otel-real'))
})

test('AI SDK telemetry, streamText: a workflow and one llm span with the streamed text and usage', async () => {
  const r = streamText({ model: ai.chat('gpt-4o-mini'), prompt: 'Say hello', maxRetries: 0, experimental_telemetry: telemetry })
  let text = ''
  for await (const t of r.textStream) text += t
  assert.equal(text, 'Hello world')
  const spans = await stored()
  const kinds = spans.map((s) => `${s.kind}:${s.name}`)
  const llms = spans.filter((s) => s.kind === 'llm').map((s) => s.event)
  const wfs = spans.filter((s) => s.kind === 'workflow').map((s) => s.event)
  assert.equal(llms.length, 1, kinds.join(', '))
  assert.equal(wfs.length, 1, kinds.join(', '))
  assert.equal(llms[0].parent_id, wfs[0].span_id)
  assert.deepEqual(llms[0].meta.output.messages, [{ role: 'assistant', content: 'Hello world' }])
  assert.equal(llms[0].metrics.output_tokens, CHAT_USAGE.completion_tokens)
})

test('OpenLLMetry openai instrumentation alone: one llm span from its OTel span, messages and tokens; its APM span marked artificial', async () => {
  const client = new OpenAI({ apiKey: 'k', baseURL: `${provider.url}/v1`, maxRetries: 0 })
  const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'traceloop alone' }] })
  assert.equal(res.choices[0].message.content, 'Hello world')
  const spans = await stored()
  const apmSeen = lastApm.filter((s) => s.meta['otel.scope.name'] === '@traceloop/instrumentation-openai')
  assert.equal(spans.length, 1, spans.map((s) => `${s.kind}:${s.name}`).join(', '))
  const e = spans[0].event
  assert.equal(spans[0].kind, 'llm')
  assert.equal(e.meta.model_provider, 'openai')
  assert.equal(e.meta.model_name, 'gpt-4o-mini' + SNAPSHOT)
  assert.deepEqual(e.meta.input.messages, [{ role: 'user', content: 'traceloop alone' }])
  assert.equal(e.meta.output.messages[0].content, 'Hello world')
  assert.equal(e.metrics.input_tokens, CHAT_USAGE.prompt_tokens)
  assert.equal(e.metrics.output_tokens, CHAT_USAGE.completion_tokens)
  assert.equal(apmSeen.length, 1)
  assert.equal(apmSeen[0].meta['_dd.llmobs.artificial_gen_ai_tags'], 'true')
})

test('one call, one span: wrapOpenAI + OpenLLMetry on the same client give our span only', async () => {
  const client = wrapOpenAI(new OpenAI({ apiKey: 'k', baseURL: `${provider.url}/v1`, maxRetries: 0 }), { llmobs })
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'both' }] })
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'both, streamed' }], stream: true, stream_options: { include_usage: true } })
  for await (const _ of stream) { /* drain */ }
  const spans = await stored()
  const otelApm = lastApm.filter((s) => s.meta['otel.scope.name'] === '@traceloop/instrumentation-openai')
  assert.deepEqual(spans.map((s) => s.kind), ['llm', 'llm'], spans.map((s) => `${s.kind}:${s.name}`).join(', '))
  assert.deepEqual(spans.map((s) => s.name), ['OpenAI.createChatCompletion', 'OpenAI.createChatCompletion'], 'ours, not the OTel one')
  assert.ok(spans.every((s) => s.event.tags.includes('source:integration')))
  assert.deepEqual(spans.map((s) => s.event.meta.input.messages[0].content), ['both', 'both, streamed'])
  // OpenLLMetry hands the stream back outside openai's promise: ours still reads it.
  assert.deepEqual(spans.map((s) => s.event.meta.output?.messages?.[0]?.content), ['Hello world', 'Hello world'])
  assert.deepEqual(spans.map((s) => s.event.metrics.output_tokens), [CHAT_USAGE.completion_tokens, CHAT_USAGE.completion_tokens])
  assert.equal(otelApm.length, 2, 'the OTel spans stay APM spans')
  assert.ok(otelApm.every((s) => s.meta['_dd.llmobs.artificial_gen_ai_tags'] === 'true'), 'marked so the backend does not convert them')
})

test('one call, one span: our AI SDK middleware + AI SDK telemetry give one llm span per model call (ours) under the telemetry workflow', async () => {
  const model = wrapLanguageModel({ model: ai.chat('gpt-4o-mini'), middleware: llmobsMiddleware({ llmobs }) })
  await generateText({ model, prompt: 'Weather in Paris?', tools: { get_weather: weather }, stopWhen: stepCountIs(2), prepareStep: ({ stepNumber }) => (stepNumber === 1 ? { activeTools: [] } : {}), maxRetries: 0, experimental_telemetry: telemetry })
  const r = streamText({ model, prompt: 'Say hello', maxRetries: 0, experimental_telemetry: telemetry })
  await r.consumeStream()
  const spans = await stored()
  const kinds = spans.map((s) => `${s.kind}:${s.name}`)
  const llms = spans.filter((s) => s.kind === 'llm')
  assert.equal(llms.length, 3, `3 model calls, 3 llm spans: ${kinds.join(', ')}`)
  assert.deepEqual(llms.map((s) => s.name), ['doGenerate', 'doGenerate', 'doStream'], 'our middleware\'s spans win')
  const wfs = spans.filter((s) => s.kind === 'workflow').map((s) => s.event)
  assert.equal(wfs.length, 2, kinds.join(', '))
  for (const l of llms) assert.ok(wfs.some((w) => w.span_id === l.event.parent_id), `${l.name} nests under a telemetry workflow`)
  const doSpans = lastApm.filter((s) => /\.do(Generate|Stream)$/.test(s.meta['ai.operationId'] ?? ''))
  assert.equal(doSpans.length, 3, 'the telemetry\'s model-call spans stay APM spans')
  assert.ok(doSpans.every((s) => s.meta['_dd.llmobs.artificial_gen_ai_tags'] === 'true'), 'marked so the backend does not convert them')
})

test('one call, one span: automatic mode (llmobs-ts/register) + OpenLLMetry enabled by register in a CommonJS app', async () => {
  await stored()
  const { spawn } = await import('node:child_process')
  const root = new URL('../../../', import.meta.url).pathname
  const child = spawn(process.execPath, ['-r', new URL('../../src/register.js', import.meta.url).pathname, join(root, 'test/fixtures/otel/openai_auto.cjs')], {
    cwd: root,
    env: { ...process.env, DD_LLMOBS_ENABLED: '1', DD_LLMOBS_ML_APP: 'otel-auto', DD_TRACE_AGENT_URL: agent.url, PROVIDER_URL: provider.url, DD_TRACE_FLUSH_INTERVAL: '60000' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += String(d) })
  child.stderr.on('data', (d: Buffer) => { err += String(d) })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  assert.equal(code, 0, err)
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { span?: { name: string, scope?: string, artificial?: string }, done?: boolean })
  assert.ok(lines.some((l) => l.done === true), out)
  const otelSpans = lines.flatMap((l) => (l.span?.scope === '@traceloop/instrumentation-openai' ? [l.span] : []))
  assert.equal(otelSpans.length, 2, `register enabled OpenLLMetry before openai was required: ${out}`)
  assert.ok(otelSpans.every((s) => s.artificial === 'true'), 'its spans stay APM spans, marked')
  const spans = (await getJson<{ spans: Array<SpanRecord & { event: Ev }> }>(agent.url, '/api/spans?ml_app=otel-auto&limit=1000')).spans
  const inputs = spans.map((s) => s.event.meta.input?.messages?.[0]?.content).sort()
  assert.deepEqual(inputs, ['auto plain', 'auto streamed'], `one llm span per call: ${spans.map((s) => `${s.kind}:${s.name}`).join(', ')}`)
  assert.ok(spans.every((s) => s.kind === 'llm' && s.name === 'OpenAI.createChatCompletion' && s.event.tags.includes('source:integration')), 'ours wins')
  assert.ok(spans.every((s) => s.event.meta.output?.messages?.[0]?.content === 'Hello world'))
  assert.equal(err.split('\n').filter((l) => /warn|error/i.test(l)).length, 0, err)
})
