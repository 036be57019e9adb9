import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { APICallError, embed, generateText, stepCountIs, streamText, tool, wrapEmbeddingModel, wrapLanguageModel } from 'ai'
import { createOpenAI } from '@ai-sdk/openai'
import { z } from 'zod'
import { llmobsEmbeddingMiddleware, llmobsMiddleware } from '../../src/integrations/ai_sdk/middleware.js'
import { CHAT_USAGE, RESPONSES_USAGE, SNAPSHOT, startFakeOpenAI } from '../helpers/fake_openai.js'
import type { FakeServer } from '../helpers/fake_http.js'
import { closeAll, providerRig, until, type ProviderRig } from '../helpers/fake_rig.js'

let rig: ProviderRig
let server: FakeServer
let provider: ReturnType<typeof createOpenAI>

before(async () => {
  rig = await providerRig()
  server = await startFakeOpenAI()
  provider = createOpenAI({ apiKey: 'test-key', baseURL: `${server.url}/v1` })
})
after(() => closeAll(rig, server))

const chat = (id: string): ReturnType<typeof wrapLanguageModel> =>
  wrapLanguageModel({ model: provider.chat(id), middleware: llmobsMiddleware({ llmobs: rig.llmobs }) })

test('generateText (chat model): one llm span with provider, model, prompt, settings and usage', async () => {
  const r = await generateText({ model: chat('gpt-4o-mini'), system: 'Be brief.', prompt: 'Say hello', temperature: 0.3, maxRetries: 0 })
  assert.equal(r.text, 'Hello world')
  const [e] = await rig.events()
  assert.equal(e.name, 'doGenerate')
  assert.equal(e.meta.model_provider, 'openai')
  assert.equal(e.meta.model_name, 'gpt-4o-mini' + SNAPSHOT)
  assert.deepEqual(e.meta.input.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }])
  assert.deepEqual(e.meta.output.messages, [{ role: 'assistant', content: 'Hello world' }])
  assert.equal(e.meta.metadata.temperature, 0.3)
  assert.equal(e.meta.metadata.stream, false)
  assert.equal(e.meta.metadata.finish_reason, 'stop')
  assert.deepEqual(e.metrics, { input_tokens: 12, output_tokens: 5, total_tokens: 17, cache_read_input_tokens: 4, reasoning_output_tokens: 2 })
})

test('generateText with a tool: the tool call on the output, the tool definition recorded', async () => {
  const r = await generateText({
    model: chat('gpt-4o-mini'),
    prompt: 'Weather in Paris?',
    tools: { get_weather: tool({ description: 'Weather by city', inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => `18C in ${city}` }) },
    stopWhen: stepCountIs(1),
    maxRetries: 0,
  })
  assert.equal(r.toolCalls[0].toolName, 'get_weather')
  const [e] = await rig.events()
  assert.deepEqual(e.meta.output.messages[0].tool_calls, [{ name: 'get_weather', arguments: { city: 'Paris' }, tool_id: 'call_1', type: 'function' }])
  assert.equal(e.meta.tool_definitions[0].name, 'get_weather')
  assert.equal(e.meta.tool_definitions[0].description, 'Weather by city')
  assert.equal(e.meta.tool_definitions[0].schema.type, 'object')
})

test('streamText: the span ends when the stream is drained, with usage and time to first token', async () => {
  const r = streamText({ model: chat('gpt-4o-mini'), prompt: 'Say hello', maxRetries: 0 })
  let text = ''
  for await (const t of r.textStream) text += t
  assert.equal(text, 'Hello world')
  const [e] = await rig.events()
  assert.equal(e.name, 'doStream')
  assert.deepEqual(e.meta.output.messages, [{ role: 'assistant', content: 'Hello world' }])
  assert.equal(e.metrics.output_tokens, CHAT_USAGE.completion_tokens)
  assert.equal(typeof e.metrics.time_to_first_token, 'number')
  assert.equal(e.meta.metadata.stream_status, 'completed')
  assert.equal(e.meta.metadata.stream, true)
})

test('responses model (provider(id)) through generateText', async () => {
  const model = wrapLanguageModel({ model: provider('gpt-4.1'), middleware: llmobsMiddleware({ llmobs: rig.llmobs }) })
  const r = await generateText({ model, prompt: 'Say hello', maxRetries: 0 })
  assert.equal(r.text, 'Hello world')
  const [e] = await rig.events()
  assert.equal(e.meta.model_name, 'gpt-4.1' + SNAPSHOT)
  assert.equal(e.metrics.input_tokens, RESPONSES_USAGE.input_tokens)
})

test('a 429 reaches generateText\'s caller as the AI SDK\'s APICallError; the span records it', async () => {
  const err = await generateText({ model: chat('fail-429'), prompt: 'x', maxRetries: 0 }).then(() => undefined, (e: unknown) => e)
  assert.ok(APICallError.isInstance(err), `got ${String(err)}`)
  assert.equal(err.statusCode, 429)
  const [e] = await rig.events()
  assert.equal(e.status, 'error')
  assert.equal(e.meta.error.type, 'AI_APICallError')
})

test('a 500 on a stream: streamText reports it, the span records it', async () => {
  const errors: unknown[] = []
  const r = streamText({ model: chat('fail-500'), prompt: 'x', maxRetries: 0, onError: ({ error }) => { errors.push(error) } })
  for await (const _ of r.textStream) { /* drain */ }
  assert.ok(APICallError.isInstance(errors[0]))
  const [e] = await rig.events()
  assert.equal(e.status, 'error')
  assert.equal(e.meta.error.type, 'AI_APICallError')
})

test('streamText aborted mid-stream: the span ends', async () => {
  const ac = new AbortController()
  const r = streamText({ model: chat('slow'), prompt: 'x', maxRetries: 0, abortSignal: ac.signal })
  let n = 0
  try {
    for await (const _ of r.textStream) if (++n === 3) ac.abort()
  } catch { /* the abort surfaces to the consumer */ }
  const [e] = await rig.events()
  assert.equal(e.meta.metadata.stream_status, 'aborted')
  assert.match(e.meta.output.messages[0].content, /^w0 w1 w2 /)
  await until(() => server.openStreams() === 0)
})

test('streamText with an early break: the AI SDK still drains the model stream, so the span ends complete', async () => {
  const r = streamText({ model: chat('gpt-4o-mini'), prompt: 'x', maxRetries: 0 })
  for await (const _ of r.textStream) break
  await until(() => server.openStreams() === 0)
  await r.consumeStream()
  const [e] = await rig.events()
  assert.equal(e.meta.metadata.stream_status, 'completed')
  assert.equal(e.meta.output.messages[0].content, 'Hello world')
})

test('a consumer that cancels the model stream early ends the span (cancelled) and closes the request', async () => {
  const { stream } = await chat('slow').doStream({ prompt: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] })
  const reader = stream.getReader()
  let deltas = 0
  while (deltas < 2) {
    const { value } = await reader.read()
    if (value?.type === 'text-delta' && value.delta !== '') deltas++
  }
  await reader.cancel()
  const [e] = await rig.events()
  assert.equal(e.meta.metadata.stream_status, 'cancelled')
  assert.equal(e.meta.output.messages[0].content, 'w0 w1 ')
  await until(() => server.openStreams() === 0)
})

test('embed: an embedding span', async () => {
  const model = wrapEmbeddingModel({ model: provider.embedding('text-embedding-3-small'), middleware: llmobsEmbeddingMiddleware({ llmobs: rig.llmobs }) })
  const r = await embed({ model, value: 'alpha', maxRetries: 0 })
  assert.deepEqual(r.embedding, [0.5, -0.25, 0])
  const [e] = await rig.events()
  assert.equal(e.name, 'doEmbed')
  assert.deepEqual(e.meta.span, { kind: 'embedding' })
  assert.deepEqual(e.meta.input.documents, [{ text: 'alpha' }])
  assert.equal(e.meta.output.value, '[1 embedding(s) returned with size 3]')
  assert.deepEqual(e.metrics, { input_tokens: 6, total_tokens: 6 })
})

test('model calls inside llmobs.trace nest under it; two middlewares on one model make one span', async () => {
  const twice = wrapLanguageModel({ model: chat('gpt-4o-mini'), middleware: llmobsMiddleware({ llmobs: rig.llmobs }) })
  await rig.llmobs.trace({ kind: 'workflow', name: 'flow' }, () => generateText({ model: twice, prompt: 'Say hello', maxRetries: 0 }))
  const events = await rig.events()
  assert.equal(events.length, 2)
  const flow = events.find((e) => e.name === 'flow')
  const llm = events.find((e) => e.name === 'doGenerate')
  assert.equal(llm?.parent_id, flow?.span_id)
})
