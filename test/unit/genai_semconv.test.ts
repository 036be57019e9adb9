import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mapGenAiSpan, type GenAiMapped } from '../../src/genai/index.js'
import { toSemconvAttributes, type LlmobsEventView } from '../../src/genai/to_semconv.js'

/** Our event → semconv attributes → the intake's mapping: the event's fields must come back. */
function roundTrip (ev: LlmobsEventView): GenAiMapped {
  const attributes = Object.fromEntries(toSemconvAttributes(ev))
  const r = mapGenAiSpan({ name: ev.name, attributes })
  assert.equal(r.admitted, true, `not admitted: ${JSON.stringify(r)}`)
  return r as GenAiMapped
}

const LLM: LlmobsEventView = {
  kind: 'llm',
  name: 'chat',
  modelName: 'gpt-4o',
  modelProvider: 'openai',
  sessionId: 'sess-1',
  input: { messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'weather?\nin Paris' }] },
  output: { messages: [{ role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, tool_id: 'c1', type: 'function' }] }] },
  metadata: { temperature: 1, max_tokens: 50, nested: { a: [1, 2] } },
  metrics: { input_tokens: 12, output_tokens: 5, total_tokens: 17, cache_read_input_tokens: 3 },
  toolDefinitions: [{ name: 'get_weather', description: 'weather by city', schema: { type: 'object', properties: { city: { type: 'string' } } } }],
}

test('llm: the semconv attributes dd-trace users and OTel backends read, with messages as parts', () => {
  const attrs = Object.fromEntries(toSemconvAttributes(LLM))
  assert.equal(attrs['gen_ai.operation.name'], 'chat')
  assert.equal(attrs['gen_ai.provider.name'], 'openai')
  assert.equal(attrs['gen_ai.request.model'], 'gpt-4o')
  assert.equal(attrs['gen_ai.response.model'], 'gpt-4o')
  assert.equal(attrs['gen_ai.conversation.id'], 'sess-1')
  assert.equal(attrs['gen_ai.usage.input_tokens'], 12)
  assert.equal(attrs['gen_ai.usage.output_tokens'], 5)
  assert.equal(attrs['gen_ai.request.temperature'], 1)
  assert.deepEqual(JSON.parse(attrs['gen_ai.input.messages'] as string)[1], { role: 'user', parts: [{ type: 'text', content: 'weather?\nin Paris' }] })
  assert.deepEqual(JSON.parse(attrs['gen_ai.output.messages'] as string), [{ role: 'assistant', parts: [{ type: 'tool_call', name: 'get_weather', arguments: { city: 'Paris' }, id: 'c1' }], finish_reason: 'stop' }])
  assert.deepEqual(JSON.parse(attrs['gen_ai.tool.definitions'] as string), [{ type: 'function', name: 'get_weather', description: 'weather by city', parameters: { type: 'object', properties: { city: { type: 'string' } } } }])
})

test('llm round trip: mapGenAiSpan gives back kind, name, model, provider, messages, tokens, metadata, tools and session', () => {
  const m = roundTrip(LLM)
  assert.equal(m.kind, 'llm')
  assert.equal(m.name, 'chat')
  assert.equal(m.modelName, 'gpt-4o')
  assert.equal(m.modelProvider, 'openai')
  assert.equal(m.sessionId, 'sess-1')
  assert.deepEqual(m.input, LLM.input)
  assert.deepEqual(m.output, LLM.output)
  assert.deepEqual(m.metrics, LLM.metrics)
  assert.deepEqual({ ...m.metadata, conversation_id: undefined }, { ...LLM.metadata, conversation_id: undefined })
  assert.deepEqual(m.toolDefinitions, LLM.toolDefinitions)
  assert.deepEqual(m.warnings, [])
})

test('tool messages: results come back as tool_results', () => {
  const ev: LlmobsEventView = { kind: 'llm', name: 'c', modelName: 'm', modelProvider: 'p', input: { messages: [{ role: 'tool', content: '', tool_results: [{ result: '18C', tool_id: 'c1', type: 'function' }] }] } }
  assert.deepEqual(roundTrip(ev).input, ev.input)
})

const KINDS: Array<[string, LlmobsEventView, (m: GenAiMapped) => void]> = [
  ['embedding', { kind: 'embedding', name: 'embed', modelName: 'text-embedding-3', modelProvider: 'openai', input: { documents: [{ text: 'a' }, { text: 'b' }] }, output: { value: '[2 embedding(s) returned]' }, metrics: { input_tokens: 4 } },
    (m) => { assert.deepEqual(m.input, { documents: [{ text: 'a' }, { text: 'b' }] }); assert.deepEqual(m.output, { value: '[2 embedding(s) returned]' }); assert.equal(m.metrics.input_tokens, 4); assert.equal(m.modelName, 'text-embedding-3') }],
  ['workflow', { kind: 'workflow', name: 'flow', input: { value: 'in' }, output: { value: 'out' }, sessionId: 's' },
    (m) => { assert.deepEqual(m.input, { value: 'in' }); assert.deepEqual(m.output, { value: 'out' }); assert.equal(m.sessionId, 's') }],
  ['agent', { kind: 'agent', name: 'planner', input: { value: 'goal' }, output: { value: 'plan' } },
    (m) => { assert.deepEqual(m.input, { value: 'goal' }); assert.deepEqual(m.output, { value: 'plan' }) }],
  ['tool', { kind: 'tool', name: 'get_weather', input: { value: '{"city":"Paris"}' }, output: { value: '18C' } },
    (m) => { assert.equal(m.name, 'get_weather'); assert.deepEqual(m.input, { value: '{"city":"Paris"}' }); assert.deepEqual(m.output, { value: '18C' }) }],
  ['task', { kind: 'task', name: 'parse', input: { value: 'raw' }, output: { value: 'parsed' } },
    (m) => { assert.deepEqual(m.input, { value: 'raw' }); assert.deepEqual(m.output, { value: 'parsed' }) }],
  ['retrieval', { kind: 'retrieval', name: 'search', input: { value: 'q' }, output: { documents: [{ text: 'doc one', id: 'd1', score: 0.9, name: 'One' }, { text: 'doc two' }] } },
    (m) => { assert.deepEqual(m.input, { value: 'q' }); assert.deepEqual(m.output, { documents: [{ text: 'doc one', id: 'd1', score: 0.9, name: 'One' }, { text: 'doc two' }] }) }],
]

for (const [kind, ev, check] of KINDS) {
  test(`${kind} round trip: the kind and its fields come back`, () => {
    const m = roundTrip(ev)
    assert.equal(m.kind, kind)
    assert.equal(m.name, ev.name)
    check(m)
  })
}
