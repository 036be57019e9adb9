import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ChatStream, chatResult, chatStart } from '../../src/integrations/openai/chat.js'
import { ResponsesStream, responsesResult, responsesStart } from '../../src/integrations/openai/responses.js'
import { embeddingDocuments, embeddingsResult } from '../../src/integrations/openai/embeddings.js'
import { MessagesStream, messagesResult, messagesStart, messagesUsage } from '../../src/integrations/anthropic/messages.js'
import { generateResult, generateStart, providerOf, usageOf } from '../../src/integrations/ai_sdk/convert.js'
import { PartsStream } from '../../src/integrations/ai_sdk/stream_parts.js'
import { usageMetrics } from '../../src/integrations/usage.js'
import { pickMetadata } from '../../src/integrations/shape.js'

test('usageMetrics: reported counts only; total derived from two halves; nothing reported → undefined', () => {
  assert.equal(usageMetrics(undefined), undefined)
  assert.equal(usageMetrics({}), undefined)
  assert.equal(usageMetrics({ cacheReadInputTokens: 3 }), undefined, 'a cache count alone is not a usage report')
  assert.deepEqual(usageMetrics({ inputTokens: 3, outputTokens: 4 }), { inputTokens: 3, outputTokens: 4, totalTokens: 7 })
  assert.deepEqual(usageMetrics({ inputTokens: 3 }), { inputTokens: 3 }, 'no total invented from one half')
  assert.deepEqual(usageMetrics({ inputTokens: 3, outputTokens: 4, totalTokens: 9 }), { inputTokens: 3, outputTokens: 4, totalTokens: 9 }, 'a reported total wins')
  assert.deepEqual(usageMetrics({ inputTokens: Number.NaN, outputTokens: 1 }), { outputTokens: 1 })
})

test('pickMetadata: defined request parameters except the excluded ones and live objects', () => {
  const body = { model: 'm', messages: [], temperature: 0, stop: ['x'], signal: new AbortController().signal, user: undefined, n: null, response_format: { type: 'json_object' } }
  assert.deepEqual(pickMetadata(body, new Set(['model', 'messages'])), { temperature: 0, stop: ['x'], n: null, response_format: { type: 'json_object' } })
})

test('openai chat: parts flattened, tool calls parsed, tool messages as results, legacy function_call read', () => {
  const start = chatStart({
    model: 'gpt-4o',
    temperature: 1,
    tools: [{ type: 'function', function: { name: 'f', description: 'd', parameters: { type: 'object' } } }],
    messages: [
      { role: 'developer', content: 'rules' },
      { role: 'user', content: [{ type: 'text', text: 'look' }, { type: 'image_url', image_url: { url: 'data:' } }] },
      { role: 'assistant', content: null, tool_calls: [{ id: 'c1', type: 'function', function: { name: 'f', arguments: '{"a":1}' } }] },
      { role: 'tool', tool_call_id: 'c1', content: 'ok' },
      { role: 'assistant', content: '', function_call: { name: 'g', arguments: 'not json' } },
    ],
  })
  assert.equal(start.model, 'gpt-4o')
  assert.deepEqual(start.metadata, { temperature: 1 })
  assert.deepEqual(start.toolDefinitions, [{ name: 'f', description: 'd', schema: { type: 'object' } }])
  assert.deepEqual(start.input, [
    { role: 'developer', content: 'rules' },
    { role: 'user', content: 'look\n[image_url]' },
    { role: 'assistant', content: '', toolCalls: [{ name: 'f', arguments: { a: 1 }, toolId: 'c1', type: 'function' }] },
    { role: 'tool', content: '', toolResults: [{ result: 'ok', toolId: 'c1', name: undefined, type: 'function' }] },
    { role: 'assistant', content: '', toolCalls: [{ name: 'g', arguments: 'not json', type: 'function' }] },
  ])
  const r = chatResult({ model: 'gpt-4o-2024', choices: [{ message: { role: 'assistant', content: null, refusal: 'no' } }, { message: { role: 'assistant', content: 'b' } }], usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } })
  assert.deepEqual(r.output, [{ role: 'assistant', content: 'no' }, { role: 'assistant', content: 'b' }], 'every choice, refusal as content')
  assert.deepEqual(usageMetrics(r.usage), { inputTokens: 1, outputTokens: 2, totalTokens: 3 })
})

test('openai chat stream: deltas rebuilt per choice and per tool call; only content counts as a token', () => {
  const s = new ChatStream()
  const base = { model: 'm-1' }
  assert.equal(s.add({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }), false, 'role-only chunk is not the first token')
  assert.equal(s.add({ ...base, choices: [{ index: 0, delta: { content: 'Hi' } }, { index: 1, delta: { content: 'Yo' } }] }), true)
  assert.equal(s.add({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 't', type: 'function', function: { name: 'f', arguments: '{"x"' } }] } }] }), true)
  s.add({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: ':2}' } }] } }] })
  s.add({ ...base, choices: [], usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 } })
  const r = s.result()
  assert.equal(r.model, 'm-1')
  assert.deepEqual(r.output, [
    { role: 'assistant', content: 'Hi', toolCalls: [{ name: 'f', arguments: { x: 2 }, toolId: 't', type: 'function' }] },
    { role: 'assistant', content: 'Yo' },
  ])
  assert.equal(r.usage?.totalTokens, 11)
  assert.equal(new ChatStream().result().usage, undefined)
})

test('openai responses: instructions, items, function calls and outputs, reasoning; stream falls back to deltas', () => {
  const start = responsesStart({
    model: 'o4', instructions: 'sys', reasoning: { effort: 'low' },
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'q' }] },
      { type: 'function_call', call_id: 'c', name: 'f', arguments: '{}' },
      { type: 'function_call_output', call_id: 'c', output: 'r' },
    ],
  })
  assert.deepEqual(start.input, [
    { role: 'system', content: 'sys' },
    { role: 'user', content: 'q' },
    { role: 'assistant', content: '', toolCalls: [{ name: 'f', arguments: {}, toolId: 'c', type: 'function_call' }] },
    { role: 'tool', content: '', toolResults: [{ result: 'r', toolId: 'c', type: 'function_call_output' }] },
  ])
  assert.deepEqual(start.metadata, { reasoning: { effort: 'low' } })
  const r = responsesResult({ model: 'o4-x', output: [{ type: 'reasoning', summary: [{ text: 'think' }] }, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'A' }] }], usage: { input_tokens: 1, output_tokens: 2, total_tokens: 3, output_tokens_details: { reasoning_tokens: 1 } } })
  assert.deepEqual(r.output, [{ role: 'reasoning', content: 'think' }, { role: 'assistant', content: 'A' }])
  assert.equal(r.usage?.reasoningOutputTokens, 1)
  const s = new ResponsesStream()
  assert.equal(s.add({ type: 'response.created', response: { model: 'o4-x' } }), false)
  assert.equal(s.add({ type: 'response.output_text.delta', delta: 'par' }), true)
  s.add({ type: 'response.output_text.delta', delta: 'tial' })
  assert.deepEqual(s.result(), { model: 'o4-x', output: [{ role: 'assistant', content: 'partial' }], usage: undefined })
  s.add({ type: 'response.failed', response: { model: 'o4-x', output: [], error: { code: 'server_error', message: 'boom' } } })
  const f = s.failure() as Error
  assert.equal(f.name, 'ResponseFailedError')
  assert.equal(f.message, 'boom')
})

test('openai embeddings: token arrays summarised; vector size from the first embedding', () => {
  assert.deepEqual(embeddingDocuments('a'), [{ text: 'a' }])
  assert.deepEqual(embeddingDocuments([1, 2, 3]), [{ text: '[3 tokens]' }])
  assert.deepEqual(embeddingDocuments([[1, 2], 'b']), [{ text: '[2 tokens]' }, { text: 'b' }])
  assert.equal(embeddingsResult({ data: [{ embedding: [1, 2] }, { embedding: [3, 4] }] }).output, '[2 embedding(s) returned with size 2]')
  assert.equal(embeddingsResult({ data: [{ embedding: 'AAAA' }] }).output, '[1 embedding(s) returned]')
})

test('anthropic: system blocks, tool_use/tool_result, thinking as reasoning; input tokens include the cache', () => {
  const start = messagesStart({
    model: 'c', max_tokens: 5, system: [{ type: 'text', text: 'S1' }, { type: 'text', text: 'S2' }],
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'image', source: {} }] }],
  })
  assert.deepEqual(start.input, [{ role: 'system', content: 'S1\nS2' }, { role: 'user', content: 'hi\n[image]' }])
  assert.deepEqual(start.metadata, { max_tokens: 5 })
  const r = messagesResult({ model: 'c-1', role: 'assistant', content: [{ type: 'thinking', thinking: 'hmm' }, { type: 'text', text: 'A' }, { type: 'tool_use', id: 'u', name: 'f', input: { q: 1 } }] })
  assert.deepEqual(r.output, [{ role: 'reasoning', content: 'hmm' }, { role: 'assistant', content: 'A', toolCalls: [{ name: 'f', arguments: { q: 1 }, toolId: 'u', type: 'tool_use' }] }])
  assert.equal(r.usage, undefined)
  assert.deepEqual(usageMetrics(messagesUsage({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: 100, cache_creation_input_tokens: 20 })),
    { inputTokens: 130, outputTokens: 5, totalTokens: 135, cacheReadInputTokens: 100, cacheWriteInputTokens: 20, ephemeral5mInputTokens: 20, ephemeral1hInputTokens: 0 })
  assert.deepEqual(usageMetrics(messagesUsage({ input_tokens: 10, output_tokens: 5, cache_read_input_tokens: null })), { inputTokens: 10, outputTokens: 5, totalTokens: 15 })
  // The TTL breakdown, when the response has one, as dd-trace reads it.
  assert.deepEqual(usageMetrics(messagesUsage({ input_tokens: 1, output_tokens: 1, cache_creation_input_tokens: 30, cache_creation: { ephemeral_5m_input_tokens: 10, ephemeral_1h_input_tokens: 20 } })),
    { inputTokens: 31, outputTokens: 1, totalTokens: 32, cacheWriteInputTokens: 30, ephemeral5mInputTokens: 10, ephemeral1hInputTokens: 20 })
})

test('anthropic stream: message_delta usage overrides message_start output count, keeps its input', () => {
  const s = new MessagesStream()
  s.add({ type: 'message_start', message: { model: 'c-1', role: 'assistant', usage: { input_tokens: 7, output_tokens: 1 } } })
  s.add({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } })
  assert.equal(s.add({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'Hi' } }), true)
  s.add({ type: 'content_block_start', index: 1, content_block: { type: 'tool_use', id: 'u', name: 'f', input: {} } })
  s.add({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '{"a":' } })
  s.add({ type: 'content_block_delta', index: 1, delta: { type: 'input_json_delta', partial_json: '1}' } })
  s.add({ type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 9, input_tokens: null } })
  const r = s.result()
  assert.equal(r.model, 'c-1')
  assert.deepEqual(r.output, [{ role: 'assistant', content: 'Hi', toolCalls: [{ name: 'f', arguments: { a: 1 }, toolId: 'u', type: 'tool_use' }] }])
  assert.deepEqual(usageMetrics(r.usage), { inputTokens: 7, outputTokens: 9, totalTokens: 16 })
})

test('ai sdk: provider from the model, prompt parts, settings snake_cased, v3 usage read', () => {
  assert.equal(providerOf({ provider: 'openai.chat' }), 'openai')
  assert.equal(providerOf({ provider: 'anthropic' }), 'anthropic')
  const start = generateStart({
    maxOutputTokens: 20, topP: 0.5, responseFormat: { type: 'json', schema: {} }, abortSignal: new AbortController().signal,
    prompt: [
      { role: 'system', content: 'S' },
      { role: 'user', content: [{ type: 'text', text: 'q' }, { type: 'file', mediaType: 'image/png', data: 'x' }] },
      { role: 'assistant', content: [{ type: 'reasoning', text: 'r' }, { type: 'tool-call', toolCallId: 'c', toolName: 'f', input: { a: 1 } }] },
      { role: 'tool', content: [{ type: 'tool-result', toolCallId: 'c', toolName: 'f', output: { type: 'json', value: { ok: true } } }] },
    ],
    tools: [{ type: 'function', name: 'f', description: 'd', inputSchema: { type: 'object' } }],
  }, { modelId: 'gpt-x', provider: 'openai.chat' }, true)
  assert.deepEqual(start.metadata, { max_output_tokens: 20, top_p: 0.5, response_format: 'json', stream: true })
  assert.deepEqual(start.input, [
    { role: 'system', content: 'S' },
    { role: 'user', content: 'q\n[file image/png]' },
    { role: 'assistant', content: '', toolCalls: [{ name: 'f', arguments: { a: 1 }, toolId: 'c', type: 'function' }] },
    { role: 'tool', content: '', toolResults: [{ result: '{"ok":true}', toolId: 'c', name: 'f', type: 'function' }] },
  ])
  assert.deepEqual(start.toolDefinitions, [{ name: 'f', description: 'd', schema: { type: 'object' } }])
  const r = generateResult({
    content: [{ type: 'text', text: 'A' }, { type: 'tool-call', toolCallId: 'c', toolName: 'f', input: '{"a":2}' }],
    finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
    usage: { inputTokens: { total: 10, noCache: 6, cacheRead: 4, cacheWrite: undefined }, outputTokens: { total: 3, text: 1, reasoning: 2 } },
    response: { modelId: 'gpt-x-1' },
  }, { modelId: 'gpt-x' })
  assert.equal(r.model, 'gpt-x-1')
  assert.deepEqual(r.output, [{ role: 'assistant', content: 'A', toolCalls: [{ name: 'f', arguments: { a: 2 }, toolId: 'c', type: 'function' }] }])
  assert.deepEqual(r.metadata, { finish_reason: 'tool-calls' })
  assert.deepEqual(usageMetrics(r.usage), { inputTokens: 10, outputTokens: 3, totalTokens: 13, cacheReadInputTokens: 4, reasoningOutputTokens: 2 })
  assert.equal(usageOf({ inputTokens: { total: undefined }, outputTokens: { total: undefined } })?.inputTokens, undefined)
})

test('ai sdk stream parts: text by id, tool calls, finish usage; an error part is a failure', () => {
  const s = new PartsStream({ modelId: 'm' })
  s.add({ type: 'stream-start', warnings: [] })
  s.add({ type: 'response-metadata', modelId: 'm-1' })
  assert.equal(s.add({ type: 'text-delta', id: '0', delta: '' }), false)
  assert.equal(s.add({ type: 'text-delta', id: '0', delta: 'He' }), true)
  s.add({ type: 'text-delta', id: '0', delta: 'y' })
  s.add({ type: 'tool-call', toolCallId: 'c', toolName: 'f', input: '{}' })
  s.add({ type: 'finish', finishReason: { unified: 'stop' }, usage: { inputTokens: { total: 1 }, outputTokens: { total: 2 } } })
  const r = s.result()
  assert.equal(r.model, 'm-1')
  assert.deepEqual(r.output, [{ role: 'assistant', content: 'Hey', toolCalls: [{ name: 'f', arguments: {}, toolId: 'c', type: 'function' }] }])
  assert.equal(usageMetrics(r.usage)?.totalTokens, 3)
  assert.equal(s.hasFailure, false)
  const boom = new Error('x')
  s.add({ type: 'error', error: boom })
  assert.equal(s.failure(), boom)
})
