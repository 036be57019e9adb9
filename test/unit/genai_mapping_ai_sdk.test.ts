import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { embedMany, generateText, stepCountIs, streamText, tool } from 'ai'
import { createOpenAI } from '@ai-sdk/openai'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { z } from 'zod'
import { mapGenAiSpan, type Attributes, type GenAiMapped, type GenAiSpanInput } from '../../src/genai/index.js'
import { CHAT_USAGE, SNAPSHOT, TEXT_PIECES, startFakeOpenAI } from '../helpers/fake_openai.js'
import type { FakeServer } from '../helpers/fake_http.js'

// The AI SDK's own OTel telemetry, captured by the OTel SDK (not our bridge), then mapped span by
// span: the attributes are whatever this version of `ai` really writes.

let server: FakeServer
let provider: ReturnType<typeof createOpenAI>
const exporter = new InMemorySpanExporter()
const otel = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
const tracer = otel.getTracer('test')
const telemetry = { isEnabled: true, tracer }

before(async () => {
  server = await startFakeOpenAI()
  provider = createOpenAI({ apiKey: 'test-key', baseURL: `${server.url}/v1` })
})
after(async () => {
  await otel.shutdown()
  await server.close()
})

function toInput (s: ReadableSpan): GenAiSpanInput {
  return {
    name: s.name,
    kind: s.kind,
    attributes: s.attributes as Attributes,
    resource: s.resource.attributes as Attributes,
    events: s.events.map(e => ({ name: e.name, timeUnixNano: BigInt(e.time[0]) * 1_000_000_000n + BigInt(e.time[1]), attributes: (e.attributes ?? {}) as Attributes })),
    status: { code: s.status.code, message: s.status.message },
    scope: { name: s.instrumentationScope.name, version: s.instrumentationScope.version },
  }
}

/** Every finished span mapped, keyed by the span name, in end order. */
function mappedSpans (): Array<[string, GenAiMapped]> {
  const spans = exporter.getFinishedSpans()
  exporter.reset()
  assert.ok(spans.length > 0, 'the AI SDK emitted spans')
  return spans.map(s => {
    const r = mapGenAiSpan(toInput(s))
    assert.equal(r.admitted, true, `${s.name} not admitted: ${JSON.stringify(r)}`)
    return [s.name, r as GenAiMapped]
  })
}

const usage = { input_tokens: CHAT_USAGE.prompt_tokens, output_tokens: CHAT_USAGE.completion_tokens, total_tokens: CHAT_USAGE.total_tokens, cache_read_input_tokens: 4, reasoning_output_tokens: 2 }

test('generateText with a tool over two steps: a workflow, two llm spans with tool calls, tool spans', async () => {
  const r = await generateText({
    model: provider.chat('gpt-4o-mini'),
    system: 'Be brief.',
    prompt: 'Weather in Paris?',
    temperature: 0.3,
    tools: { get_weather: tool({ description: 'Weather by city', inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => `18C in ${city}` }) },
    stopWhen: stepCountIs(2),
    maxRetries: 0,
    experimental_telemetry: { ...telemetry, functionId: 'weather' },
  })
  assert.equal(r.steps.length, 2)
  const spans = mappedSpans()
  assert.deepEqual(spans.map(([n]) => n).sort(), ['ai.generateText', 'ai.generateText.doGenerate', 'ai.generateText.doGenerate', 'ai.toolCall', 'ai.toolCall'])

  const [, root] = spans.find(([n]) => n === 'ai.generateText') as [string, GenAiMapped]
  assert.equal(root.kind, 'workflow')
  assert.equal(root.name, 'weather.generateText')
  assert.deepEqual(JSON.parse(root.input.value as string), [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Weather in Paris?' }])
  assert.deepEqual(root.metrics, {}, "the SDK's summed usage on the workflow span is not counted a second time")

  const llms = spans.filter(([n]) => n === 'ai.generateText.doGenerate').map(([, m]) => m)
  for (const llm of llms) {
    assert.equal(llm.kind, 'llm')
    assert.equal(llm.name, 'weather.doGenerate')
    assert.equal(llm.modelName, 'gpt-4o-mini' + SNAPSHOT)
    assert.equal(llm.modelProvider, 'openai')
    assert.equal(llm.metadata.temperature, 0.3)
    assert.deepEqual(llm.metrics, usage)
    assert.deepEqual(llm.output.messages, [{ role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, tool_id: 'call_1', type: 'function' }] }])
    assert.equal(llm.toolDefinitions?.[0].name, 'get_weather')
    assert.equal(llm.toolDefinitions?.[0].description, 'Weather by city')
    assert.equal((llm.toolDefinitions?.[0].schema as { type: string }).type, 'object')
    assert.deepEqual(llm.input.messages?.slice(0, 2), [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Weather in Paris?' }])
  }
  // The second call carries the first call's tool call and its result.
  const second = llms.find(m => (m.input.messages?.length ?? 0) > 2) as GenAiMapped
  assert.ok(second !== undefined, 'one llm span sees the tool round trip')
  assert.deepEqual(second.input.messages?.slice(2), [
    { role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, tool_id: 'call_1', type: 'function' }] },
    { role: 'tool', content: '', tool_results: [{ result: '18C in Paris', tool_id: 'call_1', name: 'get_weather', type: 'function' }] },
  ])

  for (const [, t] of spans.filter(([n]) => n === 'ai.toolCall')) {
    assert.equal(t.kind, 'tool')
    assert.equal(t.name, 'get_weather')
    assert.deepEqual(JSON.parse(t.input.value as string), { city: 'Paris' })
    assert.deepEqual(JSON.parse(t.output.value as string), '18C in Paris')
    assert.equal(t.metadata.tool_id, 'call_1')
  }
})

test('streamText: the doStream span maps to an llm span with the streamed text and usage', async () => {
  const r = streamText({ model: provider.chat('gpt-4o-mini'), prompt: 'Say hello', maxRetries: 0, experimental_telemetry: telemetry })
  let text = ''
  for await (const t of r.textStream) text += t
  assert.equal(text, TEXT_PIECES.join(''))
  await r.consumeStream()
  const spans = new Map(mappedSpans())
  const llm = spans.get('ai.streamText.doStream') as GenAiMapped
  assert.equal(llm.kind, 'llm')
  assert.equal(llm.name, 'doStream')
  assert.deepEqual(llm.input.messages, [{ role: 'user', content: 'Say hello' }])
  assert.deepEqual(llm.output.messages, [{ role: 'assistant', content: 'Hello world' }])
  assert.deepEqual(llm.metrics, usage)
  assert.equal(llm.modelName, 'gpt-4o-mini' + SNAPSHOT)
  const root = spans.get('ai.streamText') as GenAiMapped
  assert.equal(root.kind, 'workflow')
  assert.deepEqual(root.output, { value: 'Hello world' })
})

test('embedMany: the doEmbed span maps to an embedding span with documents and a count', async () => {
  const r = await embedMany({ model: provider.textEmbeddingModel('text-embedding-3-small'), values: ['first', 'second'], maxRetries: 0, experimental_telemetry: telemetry })
  assert.equal(r.embeddings.length, 2)
  const spans = new Map(mappedSpans())
  const emb = spans.get('ai.embedMany.doEmbed') as GenAiMapped
  assert.equal(emb.kind, 'embedding')
  assert.deepEqual(emb.input, { documents: [{ text: 'first' }, { text: 'second' }] })
  assert.deepEqual(emb.output, { value: '[2 embedding(s) returned]' })
  assert.equal(emb.metrics.total_tokens, 6)
  assert.equal(emb.modelProvider, 'openai')
  assert.equal(emb.modelName, 'text-embedding-3-small')
  assert.equal((spans.get('ai.embedMany') as GenAiMapped).kind, 'workflow')
})

test('a failing provider call: the llm span carries the error', async () => {
  await assert.rejects(generateText({ model: provider.chat('fail-500'), prompt: 'x', maxRetries: 0, experimental_telemetry: telemetry }))
  const spans = new Map(mappedSpans())
  const llm = spans.get('ai.generateText.doGenerate') as GenAiMapped
  assert.equal(llm.kind, 'llm')
  assert.ok(llm.error !== undefined, 'error mapped')
  assert.match(llm.error.message, /server had an error/)
  assert.ok((llm.error.stack ?? '').length > 0, 'stack from the exception event')
})
