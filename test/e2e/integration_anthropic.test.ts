import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import Anthropic from '@anthropic-ai/sdk'
import { wrapAnthropic } from '../../src/integrations/anthropic/instrument.js'
import { DATED, MESSAGE_USAGE, startFakeAnthropic } from '../helpers/fake_anthropic.js'
import type { FakeServer } from '../helpers/fake_http.js'
import { closeAll, providerRig, until, type ProviderRig } from '../helpers/fake_rig.js'

let rig: ProviderRig
let server: FakeServer
let client: Anthropic

before(async () => {
  rig = await providerRig()
  server = await startFakeAnthropic()
  client = wrapAnthropic(new Anthropic({ apiKey: 'test-key', baseURL: server.url, maxRetries: 0 }), { llmobs: rig.llmobs })
})
after(() => closeAll(rig, server))

const MODEL = 'claude-fake-1'
const ask = { model: MODEL, max_tokens: 64, system: 'Be brief.', messages: [{ role: 'user' as const, content: 'Say hello' }] }
// Anthropic's input_tokens excludes the cached prompt; the event's input count includes it.
const INPUT_TOTAL = MESSAGE_USAGE.input_tokens + MESSAGE_USAGE.cache_read_input_tokens + MESSAGE_USAGE.cache_creation_input_tokens
const METRICS = {
  input_tokens: INPUT_TOTAL,
  output_tokens: MESSAGE_USAGE.output_tokens,
  total_tokens: INPUT_TOTAL + MESSAGE_USAGE.output_tokens,
  cache_read_input_tokens: MESSAGE_USAGE.cache_read_input_tokens,
  cache_write_input_tokens: MESSAGE_USAGE.cache_creation_input_tokens,
  // No TTL breakdown in the response: dd-trace counts every write as a 5-minute one.
  ephemeral_5m_input_tokens: MESSAGE_USAGE.cache_creation_input_tokens,
  ephemeral_1h_input_tokens: 0,
}

test('messages.create: one llm span with model, system + messages, parameters, cache-aware token metrics', async () => {
  const msg = await client.messages.create({ ...ask, temperature: 0.5 })
  assert.deepEqual(msg.content, [{ type: 'text', text: 'Bonjour' }])
  const [e] = await rig.events()
  assert.equal(e.name, 'anthropic.request')
  assert.equal(e.meta.model_name, MODEL + DATED)
  assert.equal(e.meta.model_provider, 'anthropic')
  assert.deepEqual(e.meta.input.messages, [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }])
  assert.deepEqual(e.meta.output.messages, [{ role: 'assistant', content: 'Bonjour' }])
  assert.deepEqual(e.meta.metadata, { max_tokens: 64, temperature: 0.5 })
  assert.deepEqual(e.metrics, METRICS)
})

test('tool use in and out: tool_use blocks are tool calls, tool_result blocks tool results', async () => {
  const tools = [{ name: 'get_weather', description: 'Weather by city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }]
  await client.messages.create({
    ...ask,
    tools,
    messages: [
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_0', name: 'get_weather', input: { city: 'Lyon' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_0', content: '21C' }] },
    ],
  })
  const [e] = await rig.events()
  assert.deepEqual(e.meta.input.messages.slice(2), [
    { role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Lyon' }, tool_id: 'toolu_0', type: 'tool_use' }] },
    { role: 'user', content: '', tool_results: [{ result: '21C', tool_id: 'toolu_0', type: 'tool_result' }] },
  ])
  assert.deepEqual(e.meta.output.messages, [{ role: 'assistant', content: 'Let me check.', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, tool_id: 'toolu_1', type: 'tool_use' }] }])
  assert.deepEqual(e.meta.tool_definitions, [{ name: 'get_weather', description: 'Weather by city', schema: tools[0].input_schema }])
})

test('streaming create: usage from message_start + message_delta, time to first token, tool input rebuilt', async () => {
  const stream = await client.messages.create({ ...ask, stream: true, tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] })
  const types: string[] = []
  for await (const ev of stream) types.push(ev.type)
  assert.equal(types[0], 'message_start')
  assert.equal(types.at(-1), 'message_stop')
  const [e] = await rig.events()
  assert.deepEqual(e.meta.output.messages, [{ role: 'assistant', content: 'Let me check.', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, tool_id: 'toolu_1', type: 'tool_use' }] }])
  assert.deepEqual({ ...e.metrics, time_to_first_token: undefined }, { ...METRICS, time_to_first_token: undefined })
  assert.ok(e.metrics.time_to_first_token > 0)
  assert.equal(e.meta.metadata.stream_status, 'completed')
})

test('streaming without usage: usage_source "missing", no invented counts', async () => {
  const stream = await client.messages.create({ ...ask, model: 'nousage', stream: true })
  for await (const _ of stream) { /* drain */ }
  const [e] = await rig.events()
  assert.equal(e.meta.metadata.usage_source, 'missing')
  assert.deepEqual(Object.keys(e.metrics), ['time_to_first_token'])
  assert.deepEqual(e.meta.output.messages, [{ role: 'assistant', content: 'Bonjour' }])
})

test('messages.stream(): MessageStream helpers intact (text events, finalMessage), one span', async () => {
  const ms = client.messages.stream(ask)
  const texts: string[] = []
  ms.on('text', (t) => texts.push(t))
  const final = await ms.finalMessage()
  assert.deepEqual(texts, ['Bon', 'jour'])
  assert.equal(final.content[0].type === 'text' ? final.content[0].text : '', 'Bonjour')
  assert.equal(final.usage.output_tokens, MESSAGE_USAGE.output_tokens)
  const events = await rig.events()
  assert.equal(events.length, 1)
  assert.deepEqual(events[0].meta.output.messages, [{ role: 'assistant', content: 'Bonjour' }])
  assert.deepEqual(events[0].metrics.input_tokens, INPUT_TOTAL)
})

for (const [status, cls] of [[429, Anthropic.RateLimitError], [500, Anthropic.InternalServerError]] as const) {
  test(`a ${status} reaches the caller as ${cls.name}; the span records it`, async () => {
    const err = await client.messages.create({ ...ask, model: `fail-${status}` }).then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof cls, `got ${String(err)}`)
    assert.equal(server.requests.filter((r) => r.body.model === `fail-${status}`).length, 1)
    const [e] = await rig.events()
    assert.equal(e.status, 'error')
    assert.equal(e.meta.error.type, cls.name)
    assert.ok(e.tags.includes(`error_type:${cls.name}`))
  })
}

test('a stream error (429 on a streamed request) reaches messages.stream() listeners unchanged', async () => {
  const ms = client.messages.stream({ ...ask, model: 'fail-429' })
  const err = await ms.finalMessage().then(() => undefined, (e: unknown) => e)
  assert.ok(err instanceof Anthropic.RateLimitError)
  const [e] = await rig.events()
  assert.equal(e.status, 'error')
  assert.equal(e.meta.error.type, 'RateLimitError')
})

test('abort mid-stream through MessageStream.abort(): the caller gets APIUserAbortError, the span ends', async () => {
  const ms = client.messages.stream({ ...ask, model: 'slow' })
  let n = 0
  ms.on('text', () => { if (++n === 3) ms.abort() })
  const err = await ms.finalMessage().then(() => undefined, (e: unknown) => e)
  assert.ok(err instanceof Anthropic.APIUserAbortError, `got ${String(err)}`)
  const [e] = await rig.events()
  assert.equal(e.meta.metadata.stream_status, 'aborted')
  assert.equal(e.meta.output.messages[0].content, 'w0 w1 w2 ')
  await until(() => server.openStreams() === 0)
})

test('early break from a raw stream ends the span and closes the request', async () => {
  const stream = await client.messages.create({ ...ask, model: 'slow', stream: true })
  let n = 0
  for await (const ev of stream) {
    if (ev.type === 'content_block_delta') n++
    if (n === 2) break
  }
  const [e] = await rig.events()
  assert.equal(e.meta.metadata.stream_status, 'cancelled')
  assert.equal(e.meta.output.messages[0].content, 'w0 w1 ')
  assert.equal(e.status, 'ok')
  await until(() => server.openStreams() === 0)
})

test('calls inside llmobs.trace nest under it; withResponse() still works', async () => {
  await rig.llmobs.trace({ kind: 'agent', name: 'helper' }, async () => {
    const { data, response } = await client.messages.create(ask).withResponse()
    assert.equal(response.status, 200)
    assert.equal(data.model, MODEL + DATED)
  })
  const events = await rig.events()
  const root = events.find((e) => e.name === 'helper')
  const llm = events.find((e) => e.name === 'anthropic.request')
  assert.equal(llm?.parent_id, root?.span_id)
})
