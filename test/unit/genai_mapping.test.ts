import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  ARTIFICIAL_GEN_AI_TAGS_KEY, MAPPING_FAILED_WARNING, apiSpanKind, isMappingInput, mapGenAiSpan, traceOptedOut,
  type Attributes, type GenAiMapped, type GenAiSpanInput,
} from '../../src/genai/index.js'

function span (attributes: Attributes, extra: Partial<GenAiSpanInput> = {}): GenAiSpanInput {
  return { name: 'op', kind: 2, attributes, ...extra }
}

function mapped (attributes: Attributes, extra: Partial<GenAiSpanInput> = {}): GenAiMapped {
  const r = mapGenAiSpan(span(attributes, extra))
  assert.equal(r.admitted, true, `not admitted: ${JSON.stringify(r)}`)
  return r as GenAiMapped
}

const chat = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.response.model': 'gpt-4o' }

test('admission: each documented key admits, nothing else does; the opt-out wins on span or resource', () => {
  for (const key of ['gen_ai.operation.name', 'gen_ai.provider.name', 'gen_ai.system', 'openinference.span.kind', 'traceloop.span.kind', 'langfuse.observation.type']) {
    const r = mapGenAiSpan(span({ [key]: 'x' }))
    assert.equal(r.admitted, true, key)
    assert.equal((r as GenAiMapped).admittedBy, key)
  }
  assert.equal(mapGenAiSpan(span({ 'ai.operationId': 'ai.generateText' })).admitted, true, 'AI SDK operation spans')
  for (const attrs of [{}, { 'http.method': 'GET' }, { 'gen_ai.request.model': 'm' }, { 'gen_ai.operation.name': '' }, { 'ai.operationId': 'ai.somethingElse' }, { 'gen_ai.system': null }]) {
    const r = mapGenAiSpan(span(attrs as Attributes))
    assert.deepEqual(r, { admitted: false, reason: 'not_genai', warnings: [] }, JSON.stringify(attrs))
  }
  assert.deepEqual(mapGenAiSpan(span({ ...chat, dd_llmobs_enabled: false })), { admitted: false, reason: 'opted_out', warnings: [] })
  assert.deepEqual(mapGenAiSpan(span({ ...chat, dd_llmobs_enabled: 'FALSE' })), { admitted: false, reason: 'opted_out', warnings: [] })
  assert.deepEqual(mapGenAiSpan(span(chat, { resource: { dd_llmobs_enabled: 'false' } })), { admitted: false, reason: 'opted_out', warnings: [] })
  assert.equal(mapGenAiSpan(span({ ...chat, dd_llmobs_enabled: true })).admitted, true)
  assert.equal(traceOptedOut([{ attributes: chat }, { attributes: { dd_llmobs_enabled: false } }]), true, 'one span opts the trace out')
  assert.equal(traceOptedOut([{ attributes: chat }, { attributes: {}, resource: { dd_llmobs_enabled: 'true' } }]), false)
})

test('kinds: each table of the facts, and the precedence between dialects', () => {
  const cases: Array<[Attributes, string]> = [
    [{ 'gen_ai.operation.name': 'chat' }, 'llm'],
    [{ 'gen_ai.operation.name': 'generate_content' }, 'llm'],
    [{ 'gen_ai.operation.name': 'text_completion' }, 'llm'],
    [{ 'gen_ai.operation.name': 'completion' }, 'llm'],
    [{ 'gen_ai.operation.name': 'embeddings' }, 'embedding'],
    [{ 'gen_ai.operation.name': 'embedding' }, 'embedding'],
    [{ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 't' }, 'tool'],
    [{ 'gen_ai.operation.name': 'invoke_agent' }, 'agent'],
    [{ 'gen_ai.operation.name': 'create_agent' }, 'agent'],
    [{ 'gen_ai.operation.name': 'invoke_workflow' }, 'workflow'],
    [{ 'gen_ai.operation.name': 'retrieval' }, 'workflow'],
    [{ 'gen_ai.operation.name': 'rerank' }, 'workflow'],
    [{ 'gen_ai.system': 'openai', 'llm.request.type': 'chat' }, 'llm'],
    [{ 'gen_ai.system': 'openai', 'llm.request.type': 'completion' }, 'llm'],
    [{ 'gen_ai.system': 'openai', 'llm.request.type': 'embedding' }, 'embedding'],
    [{ 'gen_ai.system': 'openai', 'llm.request.type': 'rerank' }, 'workflow'],
    [{ 'openinference.span.kind': 'LLM' }, 'llm'],
    [{ 'openinference.span.kind': 'EMBEDDING' }, 'embedding'],
    [{ 'openinference.span.kind': 'TOOL', 'tool.name': 't' }, 'tool'],
    [{ 'openinference.span.kind': 'AGENT' }, 'agent'],
    [{ 'openinference.span.kind': 'RETRIEVER' }, 'retrieval'],
    [{ 'openinference.span.kind': 'CHAIN' }, 'workflow'],
    [{ 'openinference.span.kind': 'RERANKER' }, 'workflow'],
    [{ 'openinference.span.kind': 'GUARDRAIL' }, 'workflow'],
    [{ 'langfuse.observation.type': 'generation' }, 'llm'],
    [{ 'langfuse.observation.type': 'embedding' }, 'embedding'],
    [{ 'langfuse.observation.type': 'tool' }, 'tool'],
    [{ 'langfuse.observation.type': 'agent' }, 'agent'],
    [{ 'langfuse.observation.type': 'retriever' }, 'retrieval'],
    [{ 'langfuse.observation.type': 'span' }, 'workflow'],
    [{ 'langfuse.observation.type': 'event' }, 'workflow'],
    [{ 'traceloop.span.kind': 'workflow' }, 'workflow'],
    [{ 'traceloop.span.kind': 'task' }, 'task'],
    [{ 'traceloop.span.kind': 'agent' }, 'agent'],
    [{ 'traceloop.span.kind': 'tool' }, 'tool'],
    [{ 'ai.operationId': 'ai.generateText' }, 'workflow'],
    [{ 'ai.operationId': 'ai.generateText.doGenerate', 'gen_ai.system': 'openai.chat' }, 'llm'],
    [{ 'ai.operationId': 'ai.streamText.doStream' }, 'llm'],
    [{ 'ai.operationId': 'ai.embedMany.doEmbed' }, 'embedding'],
    [{ 'ai.operationId': 'ai.toolCall', 'ai.toolCall.name': 't' }, 'tool'],
    // precedence
    [{ 'gen_ai.operation.name': 'embeddings', 'llm.request.type': 'chat', 'openinference.span.kind': 'TOOL' }, 'embedding'],
    [{ 'gen_ai.system': 'x', 'llm.request.type': 'embedding', 'openinference.span.kind': 'LLM' }, 'embedding'],
    [{ 'openinference.span.kind': 'AGENT', 'langfuse.observation.type': 'generation' }, 'agent'],
    [{ 'langfuse.observation.type': 'tool', 'ai.operationId': 'ai.generateText', 'tool.name': 't' }, 'tool'],
    [{ 'ai.operationId': 'ai.embed.doEmbed', 'traceloop.span.kind': 'task' }, 'embedding'],
    [{ 'gen_ai.system': 'openai' }, 'workflow'],
  ]
  for (const [attrs, kind] of cases) assert.equal(mapped(attrs).kind, kind, JSON.stringify(attrs))
})

test('the worked sketch of OTEL-FACTS §2.10 maps field for field', () => {
  const r = mapped({
    'gen_ai.operation.name': 'chat',
    'gen_ai.provider.name': 'openai',
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.response.model': 'gpt-4o-2024-08-06',
    'gen_ai.request.temperature': 0.7,
    'gen_ai.usage.input_tokens': 12,
    'gen_ai.usage.output_tokens': 5,
    'gen_ai.conversation.id': 'c1',
    'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]',
    'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"hello"}],"finish_reason":"stop"}]',
  }, { name: 'chat gpt-4o', resource: { 'service.name': 'shop' } })
  assert.equal(r.kind, 'llm')
  assert.equal(r.name, 'chat gpt-4o')
  assert.equal(r.mlApp, 'shop')
  assert.equal(r.sessionId, 'c1')
  assert.equal(r.modelName, 'gpt-4o-2024-08-06')
  assert.equal(r.modelProvider, 'openai')
  assert.deepEqual(r.input, { messages: [{ role: 'user', content: 'hi' }] })
  assert.deepEqual(r.output, { messages: [{ role: 'assistant', content: 'hello' }] })
  assert.deepEqual(r.metadata, { temperature: 0.7, conversation_id: 'c1' })
  assert.deepEqual(r.metrics, { input_tokens: 12, output_tokens: 5, total_tokens: 17 })
  assert.deepEqual(r.tags, { session_id: 'c1' }, 'mapped gen_ai keys are not repeated as tags')
  assert.deepEqual(r.warnings, [])
  assert.equal(r.error, undefined)
})

test('semconv messages: system instructions first, every part type flattened, tool calls and results', () => {
  const r = mapped({
    ...chat,
    'gen_ai.system_instructions': JSON.stringify([{ type: 'text', content: 'Be brief.' }, { type: 'text', content: 'Be kind.' }]),
    'gen_ai.input.messages': JSON.stringify([
      { role: 'user', parts: [{ type: 'text', content: 'look' }, { type: 'uri', modality: 'image', uri: 'https://x/cat.png' }, { type: 'uri', modality: 'image', uri: 'data:image/png;base64,AAAA' }, { type: 'file', modality: 'document', file_id: 'file-1' }, { type: 'blob', modality: 'audio', mime_type: 'audio/wav', content: 'AAAA' }] },
      { role: 'assistant', parts: [{ type: 'reasoning', content: 'hmm' }, { type: 'tool_call', id: 'c1', name: 'get_weather', arguments: { city: 'Paris' } }, { type: 'tool_call', id: 'c2', name: 'f', arguments: '{"a":1}' }] },
      { role: 'tool', parts: [{ type: 'tool_call_response', id: 'c1', response: { temp: 18 } }, { type: 'tool_call_response', id: 'c2', result: 'ok' }] },
    ]),
    'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'server_tool_call', id: 's1', name: 'web', server_tool_call: { type: 'web_search', query: 'q' } }, { type: 'server_tool_call_response', id: 's1', server_tool_call_response: { type: 'web_search', hits: 1 } }, { type: 'text', content: 'done' }], finish_reason: 'stop' }]),
  })
  assert.deepEqual(r.input.messages, [
    { role: 'system', content: 'Be brief.\nBe kind.' },
    { role: 'user', content: 'look\n[image: https://x/cat.png]\n[image: data:image/png (inline)]\n[document file: file-1]\n[audio blob: audio/wav]' },
    { role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, tool_id: 'c1', type: 'function' }, { name: 'f', arguments: { a: 1 }, tool_id: 'c2', type: 'function' }] },
    { role: 'tool', content: '', tool_results: [{ result: '{"temp":18}', tool_id: 'c1', type: 'function' }, { result: 'ok', tool_id: 'c2', type: 'function' }] },
  ])
  assert.deepEqual(r.output.messages, [{
    role: 'assistant',
    content: 'done',
    tool_calls: [{ name: 'web', arguments: { type: 'web_search', query: 'q' }, tool_id: 's1', type: 'web_search' }],
    tool_results: [{ result: '{"type":"web_search","hits":1}', tool_id: 's1', type: 'web_search' }],
  }])
  assert.deepEqual(r.warnings, [])
})

test('semconv messages from the details event when the attributes do not have them; attributes win per side', () => {
  const event = { name: 'gen_ai.client.inference.operation.details', timeUnixNano: 1n, attributes: { 'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"from event"}]}]', 'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"event out"}]}]' } }
  const r = mapped(chat, { events: [{ name: 'other', attributes: {} }, event] })
  assert.deepEqual(r.input.messages, [{ role: 'user', content: 'from event' }])
  assert.deepEqual(r.output.messages, [{ role: 'assistant', content: 'event out' }])
  const both = mapped({ ...chat, 'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"attr"}]}]' }, { events: [event] })
  assert.deepEqual(both.input.messages, [{ role: 'user', content: 'attr' }])
  assert.deepEqual(both.output.messages, [{ role: 'assistant', content: 'event out' }])
})

test('non-llm kinds carry values; embedding spans documents in and a count out', () => {
  const agent = mapped({ 'gen_ai.operation.name': 'invoke_agent', 'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"plan a trip"}]}]', 'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"a"}]},{"role":"assistant","parts":[{"type":"text","content":"b"}]}]' })
  assert.deepEqual(agent.input, { value: 'plan a trip' })
  assert.deepEqual(JSON.parse(agent.output.value as string), [{ role: 'assistant', content: 'a' }, { role: 'assistant', content: 'b' }])
  const tool = mapped({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': 'get_weather', 'gen_ai.tool.call.id': 'c1', 'gen_ai.tool.description': 'Weather', 'gen_ai.tool.type': 'function', 'gen_ai.tool.call.arguments': '{"city":"Paris"}', 'gen_ai.tool.call.result': '18C' }, { name: 'execute_tool get_weather' })
  assert.equal(tool.name, 'get_weather')
  assert.deepEqual(tool.input, { value: '{"city":"Paris"}' })
  assert.deepEqual(tool.output, { value: '18C' })
  assert.deepEqual(tool.metadata, { tool_id: 'c1', tool_description: 'Weather', tool_type: 'function' })
  const emb = mapped({ 'gen_ai.operation.name': 'embeddings', 'gen_ai.provider.name': 'openai', 'gen_ai.response.model': 'te3', 'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"a"}]},{"role":"user","parts":[{"type":"text","content":"b"}]}]' })
  assert.deepEqual(emb.input, { documents: [{ text: 'a' }, { text: 'b' }] })
  assert.deepEqual(emb.output, { value: '[2 embedding(s) returned]' })
  const none = mapped({ 'gen_ai.operation.name': 'embeddings', 'gen_ai.provider.name': 'openai', 'gen_ai.response.model': 'te3' })
  assert.deepEqual(none.input, {})
  assert.ok(none.warnings.includes('otel_warning_embedding_input_missing'))
})

test('tokens: every documented source, first wins, total derived, bad counts warned and dropped', () => {
  assert.deepEqual(mapped({ ...chat, 'gen_ai.usage.prompt_tokens': 3, 'gen_ai.usage.completion_tokens': 4, 'gen_ai.usage.total_tokens': 9 }).metrics, { input_tokens: 3, output_tokens: 4, total_tokens: 9 })
  assert.deepEqual(mapped({ ...chat, 'gen_ai.usage.input_tokens': 1, 'gen_ai.usage.prompt_tokens': 99, 'gen_ai.usage.output_tokens': 2 }).metrics, { input_tokens: 1, output_tokens: 2, total_tokens: 3 })
  assert.deepEqual(mapped({ ...chat, 'llm.usage.total_tokens': 11 }).metrics, { total_tokens: 11 })
  assert.deepEqual(mapped({ ...chat, 'gen_ai.usage.input_tokens': '12', 'gen_ai.usage.output_tokens': 5n }).metrics, { input_tokens: 12, output_tokens: 5, total_tokens: 17 }, 'decimal text and bigints (OTLP int64) count')
  assert.deepEqual(mapped({ ...chat, 'gen_ai.usage.cache_read.input_tokens': 4, 'gen_ai.usage.cache_creation.input_tokens': 2, 'gen_ai.usage.reasoning.output_tokens': 1 }).metrics, { cache_read_input_tokens: 4, cache_write_input_tokens: 2, reasoning_output_tokens: 1 })
  const bad = mapped({ ...chat, 'gen_ai.usage.input_tokens': 'many', 'gen_ai.usage.output_tokens': -1, 'gen_ai.usage.total_tokens': 1.5 })
  assert.deepEqual(bad.metrics, {})
  assert.ok(bad.warnings.includes('otel_warning_token_usage_unparseable'))
  assert.ok(bad.warnings.includes('otel_warning_token_usage_invalid'))
  const cost = mapped({ ...chat, 'gen_ai.cost.estimated_total': 0.25 })
  assert.equal(cost.metrics.estimated_total_cost, 0.25)
  assert.ok(mapped({ ...chat, 'gen_ai.cost.estimated_total': 'x' }).warnings.includes('otel_warning_cost_metrics_unparseable'))
  assert.ok(mapped({ ...chat, 'gen_ai.cost.estimated_total': -1 }).warnings.includes('otel_warning_cost_metrics_invalid'))
})

test('metadata: gen_ai.request.*, finish reasons, _dd.ml_obs.metadata overriding; model not copied', () => {
  const r = mapped({
    ...chat,
    'gen_ai.request.model': 'gpt-4o',
    'gen_ai.request.max_tokens': 100,
    'gen_ai.request.seed': 7n,
    'gen_ai.request.stop_sequences': ['x', 'y'],
    'gen_ai.request.choice.count': 2,
    'gen_ai.response.finish_reasons': ['stop'],
    '_dd.ml_obs.metadata': JSON.stringify({ max_tokens: 5, nested: { a: [1] }, model_name: 'nope' }),
  })
  assert.deepEqual(r.metadata, { max_tokens: 5, seed: 7, stop_sequences: ['x', 'y'], 'choice.count': 2, finish_reasons: ['stop'], nested: { a: [1] } })
  assert.equal(r.modelName, 'gpt-4o')
  assert.deepEqual(mapped({ 'openinference.span.kind': 'LLM', 'llm.invocation_parameters': '{"temperature":1,"top_p":0.5}', '_dd.ml_obs.metadata': '{"temperature":2}' }).metadata, { temperature: 2, top_p: 0.5 }, '_dd.ml_obs.metadata wins over invocation parameters')
  assert.ok(mapped({ ...chat, '_dd.ml_obs.metadata': '[1]' }).warnings.includes('otel_warning_params_malformed'))
  assert.ok(mapped({ ...chat, '_dd.ml_obs.metadata': '{oops' }).warnings.includes('otel_warning_params_malformed'))
})

test('tool definitions: semconv and OpenAI-style entries; malformed list or entries warned', () => {
  const r = mapped({
    ...chat,
    'gen_ai.tool.definitions': JSON.stringify([
      { type: 'function', name: 'a', description: 'A', parameters: { type: 'object' } },
      { type: 'function', function: { name: 'b', parameters: { type: 'object', properties: {} } } },
      { type: 'function', description: 'no name' },
      { name: 'c', parameters: 'not an object' },
      7,
    ]),
  })
  assert.deepEqual(r.toolDefinitions, [{ name: 'a', description: 'A', schema: { type: 'object' } }, { name: 'b', schema: { type: 'object', properties: {} } }])
  assert.deepEqual(r.warnings, ['otel_warning_tool_definition_entry_malformed'])
  const bad = mapped({ ...chat, 'gen_ai.tool.definitions': '{"name":"a"}' })
  assert.equal(bad.toolDefinitions, undefined)
  assert.deepEqual(bad.warnings, ['otel_warning_tool_definitions_malformed'])
})

test('session, user and tags: leftover gen_ai keys become tags (prefix cut, 256 chars); other attributes do not', () => {
  const r = mapped({ ...chat, 'gen_ai.conversation.id': 'conv', 'gen_ai.agent.name': 'planner', 'gen_ai.data_source.id': 'x'.repeat(300), 'http.method': 'POST', 'user.id': 'u1', 'gen_ai.prompt.0.content': 'hi' })
  assert.equal(r.sessionId, 'conv')
  assert.equal(r.metadata.conversation_id, 'conv')
  assert.deepEqual(r.tags, { session_id: 'conv', user_id: 'u1', 'agent.name': 'planner', 'data_source.id': 'x'.repeat(256) })
  assert.equal(mapped({ 'openinference.span.kind': 'CHAIN', 'session.id': 's2' }).sessionId, 's2')
  assert.equal(mapped({ 'langfuse.observation.type': 'span', 'langfuse.session.id': 's3' }).sessionId, 's3')
  assert.equal(mapped({ 'gen_ai.operation.name': 'chat', 'gen_ai.conversation.id': 'c', 'session.id': 's' }).sessionId, 'c', 'gen_ai first')
})

test('error: status ERROR with message, error.type and the exception event; OK and UNSET are not errors', () => {
  const ex = { name: 'exception', attributes: { 'exception.type': 'RateLimitError', 'exception.message': 'slow down', 'exception.stacktrace': 'at x' } }
  assert.deepEqual(mapped({ ...chat, 'error.type': '429' }, { status: { code: 2, message: 'Rate limited' }, events: [ex] }).error, { message: 'Rate limited', type: '429', stack: 'at x' })
  assert.deepEqual(mapped(chat, { status: { code: 2 }, events: [ex] }).error, { message: 'slow down', type: 'RateLimitError', stack: 'at x' })
  assert.deepEqual(mapped(chat, { status: { code: 2 } }).error, { message: '', type: '' })
  assert.equal(mapped(chat, { status: { code: 1 } }).error, undefined)
  assert.equal(mapped(chat, { status: { code: 0, message: 'x' } }).error, undefined)
})

test('model and provider: fallbacks in the documented order, defaults for model kinds only, warnings', () => {
  const fromReq = mapped({ 'gen_ai.operation.name': 'chat', 'gen_ai.system': 'OpenAI', 'gen_ai.request.model': 'm-req' })
  assert.equal(fromReq.modelName, 'm-req')
  assert.equal(fromReq.modelProvider, 'openai', 'lower-cased')
  assert.deepEqual(fromReq.warnings, ['otel_warning_missing_model_name', 'otel_warning_missing_model_provider'])
  const none = mapped({ 'gen_ai.operation.name': 'chat' })
  assert.equal(none.modelName, 'custom')
  assert.equal(none.modelProvider, 'custom')
  const oi = mapped({ 'openinference.span.kind': 'LLM' })
  assert.equal(oi.modelName, 'unknown')
  assert.equal(oi.modelProvider, 'unknown')
  const wf = mapped({ 'gen_ai.operation.name': 'invoke_workflow' })
  assert.equal(wf.modelName, undefined)
  assert.deepEqual(wf.warnings, [], 'no model warnings on a workflow span')
  assert.equal(mapped({ 'gen_ai.system': 'openai.chat', 'ai.model.provider': 'openai.chat', 'ai.operationId': 'ai.generateText.doGenerate' }).modelProvider, 'openai', "the AI SDK's API suffix is cut")
})

test('warnings: malformed messages, parts, tool names, unknown spec, missing operation; never duplicated', () => {
  const cases: Array<[Attributes, string]> = [
    [{ ...chat, 'gen_ai.input.messages': '{not json' }, 'otel_warning_input_malformed'],
    [{ ...chat, 'gen_ai.input.messages': '{"role":"user"}' }, 'otel_warning_input_malformed'],
    [{ ...chat, 'gen_ai.output.messages': '[[' }, 'otel_warning_output_malformed'],
    [{ ...chat, 'gen_ai.input.messages': '[{"parts":[{"type":"text","content":"x"}]}]' }, 'otel_warning_message_malformed'],
    [{ ...chat, 'gen_ai.input.messages': '[{"role":"user"}]' }, 'otel_warning_message_malformed'],
    [{ ...chat, 'gen_ai.input.messages': '[7]' }, 'otel_warning_message_malformed'],
    [{ ...chat, 'gen_ai.input.messages': '[{"role":"user","parts":[]}]' }, 'otel_warning_invalid_parts'],
    [{ ...chat, 'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"hologram"}]}]' }, 'otel_warning_invalid_parts'],
    [{ ...chat, 'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"tool_call","id":"c"}]}]' }, 'otel_warning_tool_call_name_missing'],
    [{ 'gen_ai.operation.name': 'execute_tool' }, 'otel_warning_tool_span_name_missing'],
    [{ 'gen_ai.system': 'openai' }, 'otel_warning_spec_version_unknown'],
    [{ 'openinference.span.kind': 'CHAIN' }, 'otel_warning_operation_missing'],
  ]
  for (const [attrs, warning] of cases) {
    const r = mapped(attrs)
    assert.ok(r.warnings.includes(warning), `${JSON.stringify(attrs)} → ${JSON.stringify(r.warnings)}`)
    assert.equal(new Set(r.warnings).size, r.warnings.length)
  }
  const twice = mapped({ ...chat, 'gen_ai.input.messages': '[{"role":"user","parts":[]},{"role":"user","parts":[]}]' })
  assert.deepEqual(twice.warnings, ['otel_warning_invalid_parts'])
  assert.deepEqual(mapped({ ...chat, 'gen_ai.input.messages': '{bad' }).input, {}, 'a malformed side is left out, not guessed')
})

test('never throws: hostile attribute objects, wrong types and huge values become warnings', () => {
  const hostile = new Proxy({}, { ownKeys () { throw new Error('trap') }, get () { throw new Error('trap') } })
  const r = mapGenAiSpan({ name: 'x', attributes: hostile as Attributes })
  assert.equal(r.admitted, false)
  assert.deepEqual(r.warnings, [MAPPING_FAILED_WARNING])
  assert.deepEqual(mapGenAiSpan(null as unknown as GenAiSpanInput), { admitted: false, reason: 'not_genai', warnings: [] })
  const getterThrows = { 'gen_ai.operation.name': 'chat' }
  Object.defineProperty(getterThrows, 'gen_ai.input.messages', { enumerable: true, get () { throw new Error('boom') } })
  assert.deepEqual(mapGenAiSpan(span(getterThrows)), { admitted: false, reason: 'failed', warnings: [MAPPING_FAILED_WARNING] })
  const weird = mapped({ ...chat, 'gen_ai.input.messages': 42, 'gen_ai.output.messages': [1, 2], 'gen_ai.usage.input_tokens': true, 'gen_ai.tool.definitions': false } as Attributes, { events: 'nope' as never, status: { code: 2, message: 5 as never } })
  assert.ok(weird.warnings.includes('otel_warning_input_malformed'))
  assert.ok(weird.warnings.includes('otel_warning_token_usage_unparseable'))
  const huge = 'x'.repeat(4 * 1024 * 1024 + 1)
  const big = mapped({ ...chat, 'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: huge }] }]) })
  assert.ok(big.warnings.includes('otel_warning_attribute_too_large'))
  assert.deepEqual(big.input, {}, 'a value over the limit is not parsed')
  const bigValue = mapped({ 'gen_ai.operation.name': 'invoke_agent', 'input.value': huge })
  assert.ok(bigValue.warnings.includes('otel_warning_attribute_too_large'))
  assert.deepEqual(bigValue.input, {}, 'nor kept as text')
})

test('exports for the bridge: the artificial-tags key, mapping input keys, span kind encodings', () => {
  assert.equal(ARTIFICIAL_GEN_AI_TAGS_KEY, '_dd.llmobs.artificial_gen_ai_tags')
  for (const k of ['gen_ai.input.messages', 'gen_ai.usage.input_tokens', 'gen_ai.request.temperature', 'llm.input_messages.0.message.role', 'openinference.span.kind', 'ai.prompt.messages']) assert.ok(isMappingInput(k), k)
  for (const k of ['http.method', 'gen_ai.agent.name', 'service.name']) assert.equal(isMappingInput(k), false, k)
  assert.equal(apiSpanKind(3, 'otlp'), 2, 'OTLP CLIENT is api CLIENT')
  assert.equal(apiSpanKind(0, 'otlp'), 0, 'UNSPECIFIED reads as INTERNAL')
  assert.equal(apiSpanKind(4), 4)
  assert.equal(apiSpanKind(9), 0)
})
