import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import OpenAI from 'openai'
import { wrapOpenAI } from '../../src/integrations/openai/instrument.js'
import { CHAT_USAGE, RESPONSES_USAGE, SNAPSHOT, startFakeOpenAI } from '../helpers/fake_openai.js'
import type { FakeServer } from '../helpers/fake_http.js'
import { closeAll, providerRig, until, type ProviderRig } from '../helpers/fake_rig.js'

let rig: ProviderRig
let server: FakeServer
let client: OpenAI

before(async () => {
  rig = await providerRig()
  server = await startFakeOpenAI()
  client = wrapOpenAI(new OpenAI({ apiKey: 'test-key', baseURL: `${server.url}/v1`, maxRetries: 0 }), { llmobs: rig.llmobs })
})
after(() => closeAll(rig, server))

const question = [{ role: 'system' as const, content: 'Be brief.' }, { role: 'user' as const, content: 'Say hello' }]

test('chat completion: one llm span with the answering model, messages, parameters and token metrics', async () => {
  const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: question, temperature: 0.2, max_tokens: 50 })
  assert.equal(res.choices[0].message.content, 'Hello world')
  const [e] = await rig.events()
  assert.equal(e.name, 'OpenAI.createChatCompletion')
  assert.deepEqual(e.meta.span, { kind: 'llm' })
  assert.equal(e.meta.model_name, 'gpt-4o-mini' + SNAPSHOT, 'model from the response, not the request alias')
  assert.equal(e.meta.model_provider, 'openai')
  assert.deepEqual(e.meta.input.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }])
  assert.deepEqual(e.meta.output.messages, [{ role: 'assistant', content: 'Hello world' }])
  assert.deepEqual(e.meta.metadata, { temperature: 0.2, max_tokens: 50 })
  assert.deepEqual(e.metrics, { input_tokens: 12, output_tokens: 5, total_tokens: 17, cache_read_input_tokens: 4, reasoning_output_tokens: 2 })
  assert.equal(e.status, 'ok')
  assert.equal(e.parent_id, 'undefined')
})

test('tool calls are recorded on the output message, with the tool definitions', async () => {
  const tools = [{ type: 'function' as const, function: { name: 'get_weather', description: 'Weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }]
  const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Weather in Paris?' }], tools })
  assert.equal(res.choices[0].message.tool_calls?.[0].id, 'call_1')
  const [e] = await rig.events()
  assert.deepEqual(e.meta.output.messages, [{ role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, tool_id: 'call_1', type: 'function' }] }])
  assert.deepEqual(e.meta.tool_definitions, [{ name: 'get_weather', description: 'Weather by city', schema: tools[0].function.parameters }])
})

test('tool results in the input become tool_results', async () => {
  await client.chat.completions.create({
    model: 'gpt-4o-mini',
    messages: [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '18C' },
    ],
  })
  const [e] = await rig.events()
  assert.deepEqual(e.meta.input.messages[1], { role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, tool_id: 'call_1', type: 'function' }] })
  assert.deepEqual(e.meta.input.messages[2], { role: 'tool', content: '', tool_results: [{ result: '18C', tool_id: 'call_1', type: 'function' }] })
})

test('streaming with usage: the span ends with the stream, usage from the final chunk, time to first token', async () => {
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: question, stream: true, stream_options: { include_usage: true } })
  let text = ''
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? ''
  assert.equal(text, 'Hello world')
  const [e] = await rig.events()
  assert.deepEqual(e.meta.output.messages, [{ role: 'assistant', content: 'Hello world' }])
  assert.equal(e.meta.model_name, 'gpt-4o-mini' + SNAPSHOT)
  assert.equal(e.metrics.input_tokens, CHAT_USAGE.prompt_tokens)
  assert.equal(e.metrics.output_tokens, CHAT_USAGE.completion_tokens)
  assert.equal(typeof e.metrics.time_to_first_token, 'number')
  assert.ok(e.metrics.time_to_first_token > 0 && e.metrics.time_to_first_token * 1e9 <= e.duration, 'TTFT in seconds, within the span')
  assert.equal(e.meta.metadata.stream_status, 'completed')
  assert.equal(e.meta.metadata.usage_source, undefined)
})

test('streaming without usage: metadata.usage_source is "missing" and no token counts are invented', async () => {
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: question, stream: true })
  for await (const _ of stream) { /* drain */ }
  const [e] = await rig.events()
  assert.equal(e.meta.metadata.usage_source, 'missing')
  assert.equal(e.metrics.input_tokens, undefined)
  assert.equal(e.metrics.output_tokens, undefined)
  assert.equal(e.metrics.total_tokens, undefined)
  assert.equal(typeof e.metrics.time_to_first_token, 'number')
})

test('streamed tool calls are rebuilt from their deltas', async () => {
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: question, stream: true, tools: [{ type: 'function', function: { name: 'get_weather', parameters: {} } }] })
  for await (const _ of stream) { /* drain */ }
  const [e] = await rig.events()
  assert.deepEqual(e.meta.output.messages[0].tool_calls, [{ name: 'get_weather', arguments: { city: 'Paris' }, tool_id: 'call_1', type: 'function' }])
})

for (const [status, cls] of [[429, OpenAI.RateLimitError], [500, OpenAI.InternalServerError]] as const) {
  test(`a ${status} reaches the caller as the SDK's own ${cls.name}; the span records it`, async () => {
    const err = await client.chat.completions.create({ model: `fail-${status}`, messages: question }).then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof cls, `got ${String(err)}`)
    assert.equal((err as InstanceType<typeof OpenAI.APIError>).status, status)
    assert.equal(server.requests.filter((r) => r.body.model === `fail-${status}`).length, 1, 'maxRetries 0 respected')
    const [e] = await rig.events()
    assert.equal(e.status, 'error')
    assert.equal(e.meta.error.type, cls.name)
    assert.match(e.meta.error.message, new RegExp(String(status)))
    assert.ok(e.tags.includes(`error_type:${cls.name}`))
    assert.deepEqual(e.meta.input.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }])
    assert.equal(e.meta.metadata.usage_source, 'missing')
  })
}

test('abort mid-stream: the span ends (aborted) with the partial output', async () => {
  const stream = await client.chat.completions.create({ model: 'slow', messages: question, stream: true })
  let n = 0
  for await (const chunk of stream) {
    if (chunk.choices[0]?.delta?.content !== undefined && chunk.choices[0].delta.content !== '') n++
    if (n === 3) stream.controller.abort()
  }
  const [e] = await rig.events()
  assert.equal(e.meta.metadata.stream_status, 'aborted')
  assert.equal(e.meta.output.messages[0].content, 'w0 w1 w2 ')
  assert.equal(e.meta.metadata.usage_source, 'missing')
  await until(() => server.openStreams() === 0)
})

test('early break: the span ends when the consumer stops, and the request is closed', async () => {
  const stream = await client.chat.completions.create({ model: 'slow', messages: question, stream: true })
  let n = 0
  for await (const chunk of stream) {
    if ((chunk.choices[0]?.delta?.content ?? '') !== '') n++
    if (n === 2) break
  }
  const [e] = await rig.events()
  assert.equal(e.meta.metadata.stream_status, 'cancelled')
  assert.equal(e.meta.output.messages[0].content, 'w0 w1 ')
  assert.equal(e.status, 'ok')
  await until(() => server.openStreams() === 0)
})

test('the SDK objects are preserved: withResponse(), asResponse(), toReadableStream()', async () => {
  const { data, response, request_id: rid } = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: question }).withResponse()
  assert.equal(data.choices[0].message.content, 'Hello world')
  assert.equal(response.status, 200)
  assert.equal(rid, null)
  const raw = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: question }).asResponse()
  const rawBody = await raw.json() as { model: string }
  assert.equal(rawBody.model, 'gpt-4o-mini' + SNAPSHOT, 'the raw body is still unread for the caller')
  const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: question, stream: true })
  const lines = (await new Response(stream.toReadableStream() as unknown as ReadableStream).text()).trim().split('\n')
  assert.equal(lines.length, 5)
  const events = await rig.events()
  assert.equal(events.length, 3)
  assert.deepEqual(events.map((e) => e.meta.output?.messages?.[0]?.content), ['Hello world', undefined, 'Hello world'])
})

test('chat.completions.parse() and the .stream() helper go through create: one span each', async () => {
  const parsed = await client.chat.completions.parse({ model: 'gpt-4o-mini', messages: question })
  assert.equal(parsed.choices[0].message.content, 'Hello world')
  const runner = client.chat.completions.stream({ model: 'gpt-4o-mini', messages: question })
  const final = await runner.finalChatCompletion()
  assert.equal(final.choices[0].message.content, 'Hello world')
  const events = await rig.events()
  assert.equal(events.length, 2)
  assert.ok(events.every((e) => e.meta.output.messages[0].content === 'Hello world'))
})

test('responses API: input items, instructions, output and usage, streamed and not', async () => {
  const res = await client.responses.create({ model: 'gpt-4.1', instructions: 'Be brief.', input: 'Say hello', max_output_tokens: 30 })
  assert.equal(res.output_text, 'Hello world')
  const stream = await client.responses.create({ model: 'gpt-4.1', input: [{ role: 'user', content: [{ type: 'input_text', text: 'Say hello' }] }], stream: true })
  for await (const _ of stream) { /* drain */ }
  const [plain, streamed] = await rig.events()
  assert.equal(plain.name, 'OpenAI.createResponse')
  assert.deepEqual(plain.meta.input.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }])
  assert.deepEqual(plain.meta.output.messages, [{ role: 'assistant', content: 'Hello world' }])
  assert.equal(plain.meta.metadata.max_output_tokens, 30)
  assert.deepEqual(plain.metrics, { input_tokens: 9, output_tokens: 4, total_tokens: 13, cache_read_input_tokens: 1, reasoning_output_tokens: 3 })
  assert.equal(streamed.meta.model_name, 'gpt-4.1' + SNAPSHOT)
  assert.deepEqual(streamed.meta.input.messages, [{ role: 'user', content: 'Say hello' }])
  assert.deepEqual(streamed.meta.output.messages, [{ role: 'assistant', content: 'Hello world' }])
  assert.equal(streamed.metrics.output_tokens, RESPONSES_USAGE.output_tokens)
  assert.equal(typeof streamed.metrics.time_to_first_token, 'number')
})

test('embeddings: an embedding span with documents in and a vector summary out', async () => {
  const res = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] })
  assert.deepEqual(res.data[1].embedding, [0.5, -0.25, 1])
  const [e] = await rig.events()
  assert.equal(e.name, 'OpenAI.createEmbedding')
  assert.deepEqual(e.meta.span, { kind: 'embedding' })
  assert.deepEqual(e.meta.input.documents, [{ text: 'alpha' }, { text: 'beta' }])
  assert.equal(e.meta.output.value, '[2 embedding(s) returned with size 3]')
  assert.deepEqual(e.metrics, { input_tokens: 6, total_tokens: 6 })
})

test('calls inside llmobs.trace nest under it', async () => {
  await rig.llmobs.trace({ kind: 'workflow', name: 'answer' }, async () => {
    await client.chat.completions.create({ model: 'gpt-4o-mini', messages: question })
    const s = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: question, stream: true })
    for await (const _ of s) { /* drain */ }
  })
  const events = await rig.events()
  const wf = events.find((e) => e.name === 'answer')
  const llm = events.filter((e) => e.name === 'OpenAI.createChatCompletion')
  assert.ok(wf !== undefined)
  assert.equal(llm.length, 2)
  for (const e of llm) {
    assert.equal(e.parent_id, wf.span_id)
    assert.equal(e.trace_id, wf.trace_id)
  }
})

test('wrapping twice still makes one span per call', async () => {
  wrapOpenAI(client, { llmobs: rig.llmobs })
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: question })
  assert.equal((await rig.events()).length, 1)
})
