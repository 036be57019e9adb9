import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mapGenAiSpan, type Attributes, type GenAiMapped, type GenAiSpanInput } from '../../src/genai/index.js'

function mapped (attributes: Attributes, extra: Partial<GenAiSpanInput> = {}): GenAiMapped {
  const r = mapGenAiSpan({ name: 'span', kind: 2, attributes, ...extra })
  assert.equal(r.admitted, true, `not admitted: ${JSON.stringify(r)}`)
  return r as GenAiMapped
}

// Attribute sets as the instrumentations write them (key names from their semantic conventions).

test('OpenLLMetry chat: indexed prompt/completion, tool calls and tool results, tokens, functions', () => {
  const r = mapped({
    'gen_ai.system': 'openai',
    'llm.request.type': 'chat',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
    'gen_ai.request.temperature': 0.2,
    'gen_ai.prompt.0.role': 'system',
    'gen_ai.prompt.0.content': 'Be brief.',
    'gen_ai.prompt.1.role': 'user',
    'gen_ai.prompt.1.content': 'Weather?',
    'gen_ai.prompt.2.role': 'assistant',
    'gen_ai.prompt.2.tool_calls.0.name': 'get_weather',
    'gen_ai.prompt.2.tool_calls.0.id': 'call_0',
    'gen_ai.prompt.2.tool_calls.0.arguments': '{"city":"Oslo"}',
    'gen_ai.prompt.3.role': 'tool',
    'gen_ai.prompt.3.content': '-3C',
    'gen_ai.prompt.3.tool_call_id': 'call_0',
    'gen_ai.prompt.10.role': 'user',
    'gen_ai.prompt.10.content': 'tenth',
    'gen_ai.completion.0.role': 'assistant',
    'gen_ai.completion.0.finish_reason': 'tool_calls',
    'gen_ai.completion.0.tool_calls.0.name': 'get_weather',
    'gen_ai.completion.0.tool_calls.0.id': 'call_1',
    'gen_ai.completion.0.tool_calls.0.arguments': '{"city":"Paris"}',
    'gen_ai.usage.prompt_tokens': 12,
    'gen_ai.usage.completion_tokens': 5,
    'llm.usage.total_tokens': 17,
    'llm.request.functions.0.name': 'get_weather',
    'llm.request.functions.0.description': 'Weather by city',
    'llm.request.functions.0.parameters': '{"type":"object","properties":{"city":{"type":"string"}}}',
    'traceloop.workflow.name': 'wf',
  }, { name: 'openai.chat' })
  assert.equal(r.kind, 'llm')
  assert.equal(r.name, 'openai.chat')
  assert.equal(r.modelName, 'gpt-4o-mini-2024-07-18')
  assert.equal(r.modelProvider, 'openai')
  assert.deepEqual(r.input.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Weather?' },
    { role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Oslo' }, tool_id: 'call_0', type: 'function' }] },
    { role: 'tool', content: '', tool_results: [{ result: '-3C', tool_id: 'call_0', type: 'function' }] },
    { role: 'user', content: 'tenth' },
  ], 'numeric order, 10 after 3')
  assert.deepEqual(r.output.messages, [{ role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, tool_id: 'call_1', type: 'function' }] }])
  assert.deepEqual(r.metrics, { input_tokens: 12, output_tokens: 5, total_tokens: 17 })
  assert.deepEqual(r.toolDefinitions, [{ name: 'get_weather', description: 'Weather by city', schema: { type: 'object', properties: { city: { type: 'string' } } } }])
  assert.deepEqual(r.metadata, { temperature: 0.2 })
  assert.deepEqual(r.tags, {}, 'indexed prompt keys are not tags')
  assert.deepEqual(r.warnings, ['otel_warning_operation_missing', 'otel_warning_missing_model_provider'])
})

test('OpenLLMetry embedding and workflow/task spans', () => {
  const emb = mapped({ 'gen_ai.system': 'openai', 'llm.request.type': 'embedding', 'gen_ai.request.model': 'te3', 'gen_ai.prompt.0.content': 'first', 'gen_ai.prompt.1.content': 'second' })
  assert.equal(emb.kind, 'embedding')
  assert.deepEqual(emb.input, { documents: [{ text: 'first' }, { text: 'second' }] })
  assert.deepEqual(emb.output, { value: '[2 embedding(s) returned]' })
  const wf = mapped({ 'traceloop.span.kind': 'workflow', 'traceloop.entity.name': 'plan', 'traceloop.entity.input': '{"inputs":{"q":"x"}}', 'traceloop.entity.output': '"done"' }, { name: 'plan.workflow' })
  assert.equal(wf.kind, 'workflow')
  assert.deepEqual(wf.input, { value: '{"inputs":{"q":"x"}}' })
  assert.deepEqual(wf.output, { value: '"done"' })
  assert.equal(mapped({ 'traceloop.span.kind': 'task' }).kind, 'task')
})

test('OpenInference LLM: flattened messages with contents and tool calls, tokens with details, parameters, tools', () => {
  const r = mapped({
    'openinference.span.kind': 'LLM',
    'llm.model_name': 'gpt-4o-mini',
    'llm.provider': 'openai',
    'llm.system': 'openai',
    'llm.invocation_parameters': '{"temperature":0.1,"max_tokens":64}',
    'input.value': '{"messages":[…]}',
    'input.mime_type': 'application/json',
    'output.value': '{"choices":[]}',
    'llm.input_messages.0.message.role': 'system',
    'llm.input_messages.0.message.content': 'Be brief.',
    'llm.input_messages.1.message.role': 'user',
    'llm.input_messages.1.message.contents.0.message_content.type': 'text',
    'llm.input_messages.1.message.contents.0.message_content.text': 'What is this?',
    'llm.input_messages.1.message.contents.1.message_content.type': 'image',
    'llm.input_messages.1.message.contents.1.message_content.image.image.url': 'https://x/cat.png',
    'llm.input_messages.2.message.role': 'tool',
    'llm.input_messages.2.message.content': 'result text',
    'llm.input_messages.2.message.tool_call_id': 'call_0',
    'llm.output_messages.0.message.role': 'assistant',
    'llm.output_messages.0.message.tool_calls.0.tool_call.id': 'call_1',
    'llm.output_messages.0.message.tool_calls.0.tool_call.function.name': 'lookup',
    'llm.output_messages.0.message.tool_calls.0.tool_call.function.arguments': '{"q":"cat"}',
    'llm.token_count.prompt': 20,
    'llm.token_count.completion': 8,
    'llm.token_count.total': 28,
    'llm.token_count.prompt_details.cache_read': 6,
    'llm.token_count.prompt_details.cache_write': 1,
    'llm.token_count.completion_details.reasoning': 3,
    'llm.tools.0.tool.json_schema': '{"type":"function","function":{"name":"lookup","description":"Find","parameters":{"type":"object"}}}',
    metadata: '{"team":"search"}',
    'session.id': 'sess',
    'user.id': 'alice',
    'tag.tags': ['beta', 'tier:gold'],
  })
  assert.equal(r.kind, 'llm')
  assert.equal(r.modelName, 'gpt-4o-mini')
  assert.equal(r.modelProvider, 'openai')
  assert.deepEqual(r.input.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'What is this?\n[image: https://x/cat.png]' },
    { role: 'tool', content: '', tool_results: [{ result: 'result text', tool_id: 'call_0', type: 'function' }] },
  ], 'the flattened messages win over input.value')
  assert.deepEqual(r.output.messages, [{ role: 'assistant', content: '', tool_calls: [{ name: 'lookup', arguments: { q: 'cat' }, tool_id: 'call_1', type: 'function' }] }])
  assert.deepEqual(r.metrics, { input_tokens: 20, output_tokens: 8, total_tokens: 28, cache_read_input_tokens: 6, cache_write_input_tokens: 1, reasoning_output_tokens: 3 })
  assert.deepEqual(r.metadata, { temperature: 0.1, max_tokens: 64, team: 'search' })
  assert.deepEqual(r.toolDefinitions, [{ name: 'lookup', description: 'Find', schema: { type: 'object' } }])
  assert.equal(r.sessionId, 'sess')
  assert.deepEqual(r.tags, { session_id: 'sess', user_id: 'alice', beta: 'true', tier: 'gold' })
  assert.ok(mapped({ 'openinference.span.kind': 'LLM', 'llm.invocation_parameters': '"x"' }).warnings.includes('otel_warning_params_malformed'))
})

test('OpenInference chain, tool, embedding and retriever spans', () => {
  const chain = mapped({ 'openinference.span.kind': 'CHAIN', 'input.value': 'question', 'output.value': 'answer' })
  assert.deepEqual([chain.kind, chain.input, chain.output], ['workflow', { value: 'question' }, { value: 'answer' }])
  const tool = mapped({ 'openinference.span.kind': 'TOOL', 'tool.name': 'search', 'tool.id': 't1', 'tool.description': 'web', 'tool.parameters': '{"type":"object"}', 'input.value': '{"q":"x"}', 'output.value': '3 hits' })
  assert.deepEqual([tool.kind, tool.name, tool.input, tool.output], ['tool', 'search', { value: '{"q":"x"}' }, { value: '3 hits' }])
  assert.deepEqual(tool.metadata, { tool_id: 't1', tool_description: 'web', tool_parameters: '{"type":"object"}' })
  const emb = mapped({ 'openinference.span.kind': 'EMBEDDING', 'embedding.model_name': 'te3', 'embedding.embeddings.0.embedding.text': 'a', 'embedding.embeddings.0.embedding.vector': [0.1, 0.2], 'embedding.embeddings.1.embedding.text': 'b', 'embedding.embeddings.1.embedding.vector': [0.3, 0.4] })
  assert.deepEqual([emb.kind, emb.modelName, emb.modelProvider], ['embedding', 'te3', 'unknown'])
  assert.deepEqual(emb.input, { documents: [{ text: 'a' }, { text: 'b' }] })
  assert.deepEqual(emb.output, { value: '[2 embedding(s) returned]' })
  const ret = mapped({
    'openinference.span.kind': 'RETRIEVER',
    'input.value': 'cats',
    'retrieval.documents.0.document.id': 'd1',
    'retrieval.documents.0.document.content': 'Cats purr.',
    'retrieval.documents.0.document.score': 0.9,
    'retrieval.documents.0.document.metadata': '{"title":"Cats"}',
    'retrieval.documents.1.document.content': 'Dogs bark.',
    'retrieval.documents.1.document.score': 'high',
    'retrieval.documents.1.document.metadata': '[1]',
  })
  assert.equal(ret.kind, 'retrieval')
  assert.deepEqual(ret.input, { value: 'cats' })
  assert.deepEqual(ret.output, { documents: [{ text: 'Cats purr.', id: 'd1', score: 0.9, name: 'Cats' }, { text: 'Dogs bark.' }] })
  assert.ok(ret.warnings.includes('otel_warning_failed_to_parse_document_score'))
  assert.ok(ret.warnings.includes('otel_warning_document_metadata_malformed'))
})

test('Langfuse: generation messages converted, usage details, parameters, metadata, retriever documents', () => {
  const gen = mapped({
    'langfuse.observation.type': 'generation',
    'langfuse.observation.model.name': 'claude-x',
    'langfuse.observation.model.parameters': '{"temperature":0}',
    'langfuse.observation.metadata.ls_provider': 'Anthropic',
    'langfuse.observation.metadata.step': 'draft',
    'langfuse.trace.metadata.env': 'dev',
    'langfuse.observation.input': JSON.stringify([{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image_url', image_url: { url: 'https://x/a.png' } }] }, { role: 'tool', tool_call_id: 'c0', content: 'r' }]),
    'langfuse.observation.output': JSON.stringify([{ role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{}' } }] }]),
    'langfuse.observation.usage_details': '{"input":7,"output":3,"cache_read_input_tokens":2}',
    'langfuse.session.id': 'ls',
    'langfuse.user.id': 'bob',
    'langfuse.trace.tags': '["prod"]',
  })
  assert.deepEqual([gen.kind, gen.modelName, gen.modelProvider], ['llm', 'claude-x', 'anthropic'])
  assert.deepEqual(gen.input.messages, [{ role: 'user', content: 'hi\n[image: https://x/a.png]' }, { role: 'tool', content: '', tool_results: [{ result: 'r', tool_id: 'c0', type: 'function' }] }])
  assert.deepEqual(gen.output.messages, [{ role: 'assistant', content: '', tool_calls: [{ name: 'f', arguments: {}, tool_id: 'c1', type: 'function' }] }])
  assert.deepEqual(gen.metrics, { input_tokens: 7, output_tokens: 3, total_tokens: 10, cache_read_input_tokens: 2 })
  assert.deepEqual(gen.metadata, { step: 'draft', env: 'dev', temperature: 0 })
  assert.equal(gen.sessionId, 'ls')
  assert.deepEqual(gen.tags, { session_id: 'ls', user_id: 'bob', prod: 'true' })
  const ret = mapped({ 'langfuse.observation.type': 'retriever', 'langfuse.observation.input': 'cats', 'langfuse.observation.output': '[{"page_content":"Cats purr.","id":"d1"},{"text":"t2"}]' })
  assert.deepEqual([ret.kind, ret.input, ret.output], ['retrieval', { value: 'cats' }, { documents: [{ text: 'Cats purr.', id: 'd1' }, { text: 't2' }] }])
  const span = mapped({ 'langfuse.observation.type': 'span', 'langfuse.observation.input': 'plain text', 'langfuse.observation.output': '{"ok":true}' })
  assert.deepEqual([span.input, span.output], [{ value: 'plain text' }, { value: '{"ok":true}' }])
  assert.ok(!span.warnings.includes('otel_warning_input_malformed'), 'plain text is a value, not malformed JSON')
})

test('the chain: semconv attributes over OpenLLMetry over OpenInference over input.value, per side', () => {
  const all = {
    'gen_ai.operation.name': 'chat',
    'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"semconv"}]}]',
    'gen_ai.prompt.0.role': 'user',
    'gen_ai.prompt.0.content': 'openllmetry',
    'gen_ai.completion.0.role': 'assistant',
    'gen_ai.completion.0.content': 'openllmetry out',
    'llm.input_messages.0.message.role': 'user',
    'llm.input_messages.0.message.content': 'openinference',
    'llm.output_messages.0.message.role': 'assistant',
    'llm.output_messages.0.message.content': 'openinference out',
    'input.value': 'value',
    'output.value': 'value out',
  }
  const r = mapped(all)
  assert.equal(r.input.messages?.[0].content, 'semconv')
  assert.equal(r.output.messages?.[0].content, 'openllmetry out')
  const noSemconv = mapped({ ...all, 'gen_ai.input.messages': undefined, 'gen_ai.prompt.0.role': undefined, 'gen_ai.prompt.0.content': undefined })
  assert.equal(noSemconv.input.messages?.[0].content, 'openinference')
  const valuesOnly = mapped({ 'gen_ai.operation.name': 'chat', 'input.value': 'value', 'output.value': 'value out' })
  assert.deepEqual(valuesOnly.input, { messages: [{ role: '', content: 'value' }] })
  assert.deepEqual(valuesOnly.output, { messages: [{ role: '', content: 'value out' }] })
})

test('Vercel AI SDK attributes: prompt parts, tool calls/results, response, usage, tool definitions, naming', () => {
  const prompt = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: [{ type: 'text', text: 'Weather?' }, { type: 'file', mediaType: 'image/png', data: 'AAAA' }] },
    { role: 'assistant', content: [{ type: 'tool-call', toolCallId: 'call_1', toolName: 'get_weather', input: { city: 'Paris' } }] },
    { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'call_1', toolName: 'get_weather', output: { type: 'text', value: '18C' } }] },
  ]
  const r = mapped({
    'operation.name': 'ai.generateText.doGenerate my-fn',
    'ai.operationId': 'ai.generateText.doGenerate',
    'ai.telemetry.functionId': 'my-fn',
    'ai.telemetry.metadata.userTier': 'gold',
    'ai.model.provider': 'openai.chat',
    'ai.model.id': 'gpt-4o-mini',
    'ai.prompt.messages': JSON.stringify(prompt),
    'ai.prompt.tools': [JSON.stringify({ type: 'function', name: 'get_weather', description: 'Weather', inputSchema: { type: 'object' } })],
    'ai.response.text': 'It is 18C.',
    'ai.response.finishReason': 'stop',
    'ai.usage.inputTokens': 12,
    'ai.usage.outputTokens': 5,
    'ai.usage.totalTokens': 17,
    'ai.usage.inputTokenDetails.cacheReadTokens': 4,
    'ai.usage.outputTokenDetails.reasoningTokens': 2,
    'gen_ai.system': 'openai.chat',
    'gen_ai.request.model': 'gpt-4o-mini',
    'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
    'gen_ai.usage.input_tokens': 12,
    'gen_ai.usage.output_tokens': 5,
    'gen_ai.response.finish_reasons': ['stop'],
    'gen_ai.response.id': 'chatcmpl-1',
  }, { name: 'ai.generateText.doGenerate' })
  assert.equal(r.kind, 'llm')
  assert.equal(r.admittedBy, 'gen_ai.system')
  assert.equal(r.name, 'my-fn.doGenerate')
  assert.equal(r.modelName, 'gpt-4o-mini-2024-07-18')
  assert.equal(r.modelProvider, 'openai')
  assert.deepEqual(r.input.messages, [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Weather?\n[image/png file]' },
    { role: 'assistant', content: '', tool_calls: [{ name: 'get_weather', arguments: { city: 'Paris' }, tool_id: 'call_1', type: 'function' }] },
    { role: 'tool', content: '', tool_results: [{ result: '18C', tool_id: 'call_1', name: 'get_weather', type: 'function' }] },
  ])
  assert.deepEqual(r.output.messages, [{ role: 'assistant', content: 'It is 18C.' }])
  assert.deepEqual(r.metrics, { input_tokens: 12, output_tokens: 5, total_tokens: 17, cache_read_input_tokens: 4, reasoning_output_tokens: 2 })
  assert.deepEqual(r.toolDefinitions, [{ name: 'get_weather', description: 'Weather', schema: { type: 'object' } }])
  assert.deepEqual(r.metadata, { userTier: 'gold', finish_reasons: ['stop'] })
  assert.deepEqual(r.tags, { 'response.id': 'chatcmpl-1' })
  const toolSpan = mapped({ 'ai.operationId': 'ai.toolCall', 'ai.toolCall.name': 'get_weather', 'ai.toolCall.id': 'call_1', 'ai.toolCall.args': '{"city":"Paris"}', 'ai.toolCall.result': '"18C"' }, { name: 'ai.toolCall' })
  assert.deepEqual([toolSpan.kind, toolSpan.name, toolSpan.input, toolSpan.output, toolSpan.metadata], ['tool', 'get_weather', { value: '{"city":"Paris"}' }, { value: '"18C"' }, { tool_id: 'call_1' }])
  const outer = mapped({ 'ai.operationId': 'ai.generateText', 'ai.prompt': '{"system":"Be brief.","prompt":"hi"}', 'ai.response.text': 'hello' })
  assert.deepEqual([outer.kind, outer.name], ['workflow', 'generateText'])
  assert.deepEqual(JSON.parse(outer.input.value as string), [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'hi' }])
  assert.deepEqual(outer.output, { value: 'hello' })
  const emb = mapped({ 'ai.operationId': 'ai.embedMany.doEmbed', 'gen_ai.system': 'openai.embedding', 'ai.model.provider': 'openai.embedding', 'ai.values': ['"a"', '"b"'], 'ai.embeddings': ['[0.1]', '[0.2]'], 'ai.usage.tokens': 4 })
  assert.deepEqual([emb.kind, emb.input, emb.output, emb.metrics, emb.modelProvider], ['embedding', { documents: [{ text: 'a' }, { text: 'b' }] }, { value: '[2 embedding(s) returned]' }, { total_tokens: 4 }, 'openai'])
})
