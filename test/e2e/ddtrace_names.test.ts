import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import OpenAI from 'openai'
import { wrapOpenAI } from '../../src/integrations/openai/instrument.js'
import { SNAPSHOT, startFakeOpenAI } from '../helpers/fake_openai.js'
import type { FakeServer } from '../helpers/fake_http.js'
import { closeRigs, rig, type Rig } from '../helpers/llmobs_setup.js'
import { decodeMsgpack, v04Chunks } from '../helpers/sink.js'

/**
 * Names and tags as dd-trace 5 writes them (OTEL-FACTS §4), checked on what reaches the agent:
 * the APM spans on v0.4 and the event riding them as meta_struct.
 */

let server: FakeServer
before(async () => { server = await startFakeOpenAI() })
after(async () => { await closeRigs(); await server.close() })

type Obj = Record<string, any>

async function sent (r: Rig): Promise<Array<{ span: Obj, event: Obj | undefined }>> {
  await r.tracer.flush()
  return v04Chunks(r.sink).flat().map((span) => {
    const raw = span.meta_struct?._llmobs as Uint8Array | undefined
    return { span, event: raw === undefined ? undefined : decodeMsgpack(raw) as Obj }
  })
}

test('OpenAI calls: LLMObs name and provider from the base URL, openai.request APM span with dd-trace resources and tags', async () => {
  const r = await rig()
  const clients = [
    ['/v1', 'OpenAI', 'openai'],
    ['/my-azure-deployment/v1', 'AzureOpenAI', 'azure_openai'],
    ['/deepseek/v1', 'DeepSeek', 'deepseek'],
  ] as const
  for (const [path] of clients) {
    const c = wrapOpenAI(new OpenAI({ apiKey: 'k', baseURL: server.url + path, maxRetries: 0 }), { llmobs: r.llmobs })
    await c.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
  }
  const c = wrapOpenAI(new OpenAI({ apiKey: 'k', baseURL: server.url + '/v1', maxRetries: 0 }), { llmobs: r.llmobs })
  await c.embeddings.create({ model: 'text-embedding-3-small', input: 'x' })
  await c.responses.create({ model: 'gpt-4.1-mini', input: 'hi' })
  const done = await c.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say' })
  assert.equal(done.choices[0].text, 'Hello world')
  const stream = await c.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: ['a', 'b'], stream: true })
  for await (const chunk of stream) void chunk

  const got = await sent(r)
  assert.equal(got.length, 7)
  for (const [i, [path, client, provider]] of clients.entries()) {
    const { span, event } = got[i]
    assert.equal(event?.name, `${client}.createChatCompletion`)
    assert.equal(event?.meta.model_provider, provider)
    assert.equal(span.name, 'openai.request')
    assert.equal(span.resource, 'chat.completions.create')
    assert.equal(span.type, 'openai')
    assert.equal(span.meta['openai.request.endpoint'], `${path}/chat/completions`)
  }
  const chat = got[0].span
  assert.deepEqual(
    [chat.meta.component, chat.meta['span.kind'], chat.meta['_dd.integration'], chat.meta['openai.request.method'], chat.meta['openai.request.model'], chat.meta['openai.response.model'], chat.meta['openai.response.id']],
    ['openai', 'client', 'openai', 'POST', 'gpt-4o-mini', 'gpt-4o-mini' + SNAPSHOT, 'chatcmpl-1'])
  assert.equal(chat.metrics['openai.response.created'], 1700000000)
  assert.equal(chat.metrics['_dd.measured'], 1)
  assert.deepEqual(got.slice(3).map(({ span, event }) => [event?.name, event?.meta.span.kind, span.resource]), [
    ['OpenAI.createEmbedding', 'embedding', 'embeddings.create'],
    ['OpenAI.createResponse', 'llm', 'responses.create'],
    ['OpenAI.createCompletion', 'llm', 'completions.create'],
    ['OpenAI.createCompletion', 'llm', 'completions.create'],
  ])
  assert.equal(got[4].span.meta['openai.response.status'], 'completed')
  const [, , , , , plain, streamed] = got
  assert.deepEqual(plain.event?.meta.input.messages, [{ role: '', content: 'Say' }])
  assert.deepEqual(plain.event?.meta.output.messages, [{ role: '', content: 'Hello world' }])
  assert.deepEqual(plain.event?.metrics, { input_tokens: 4, output_tokens: 3, total_tokens: 7 })
  assert.deepEqual(streamed.event?.meta.input.messages, [{ role: '', content: 'a' }, { role: '', content: 'b' }])
  assert.deepEqual(streamed.event?.meta.output.messages, [{ role: '', content: 'Hello world' }])
  assert.equal(streamed.span.metrics['openai.request.stream'], 1)
  for (const { event } of got) assert.equal(event?.tags.integration, 'openai', 'integration tag in meta_struct')
})

test('llmobs.trace spans: measured, resource = name, model defaults custom, provider lower-cased, tool_id on tool messages', async () => {
  const r = await rig()
  await r.llmobs.trace({ kind: 'workflow', name: 'flow', sessionId: 'sess' }, async () => {
    r.llmobs.trace({ kind: 'llm', name: 'bare' }, () => {})
    r.llmobs.trace({ kind: 'embedding', name: 'emb', modelName: 'e5', modelProvider: 'MyCorp' }, () => {})
    r.llmobs.trace({ kind: 'llm', name: 'tooling' }, () => {
      r.llmobs.annotate({
        inputData: [{ role: 'tool', content: 'sunny', toolId: 'call_9' }, { role: 'user', content: 'x', toolId: 'misplaced' }],
        metrics: { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
      })
    })
    r.tracer.trace('plain', () => {})
  })
  const got = await sent(r)
  const by = new Map(got.map((g) => [g.span.name, g]))
  for (const name of ['flow', 'bare', 'emb', 'tooling', 'plain']) {
    assert.equal(by.get(name)?.span.metrics['_dd.measured'], 1, `${name} measured`)
    assert.equal(by.get(name)?.span.resource, name)
  }
  assert.deepEqual([by.get('bare')?.event?.meta.model_name, by.get('bare')?.event?.meta.model_provider], ['custom', 'custom'])
  assert.deepEqual([by.get('emb')?.event?.meta.model_name, by.get('emb')?.event?.meta.model_provider], ['e5', 'mycorp'])
  assert.equal(by.get('flow')?.event?.meta.model_name, undefined, 'no model on a workflow')
  assert.deepEqual(by.get('tooling')?.event?.meta.input.messages, [{ role: 'tool', content: 'sunny', tool_id: 'call_9' }, { role: 'user', content: 'x' }])
  assert.equal(by.get('flow')?.event?.tags.integration, undefined, 'no integration tag on manual spans')

  // APM side: gen_ai.* copies marked artificial, and the local root bridges to the LLMObs trace.
  const root = by.get('flow')?.span as Obj
  const flowEvent = by.get('flow')?.event as Obj
  assert.equal(root.meta.llmobs_trace_id, flowEvent.trace_id)
  assert.equal(root.meta.llmobs_parent_id, String(root.span_id))
  assert.equal(root.meta['_ml_obs.trace_session_id'], 'sess')
  assert.equal(by.get('bare')?.span.meta.llmobs_trace_id, undefined, 'on the local root only')
  const tooling = by.get('tooling')?.span as Obj
  assert.deepEqual(
    [tooling.meta['_dd.llmobs.artificial_gen_ai_tags'], tooling.meta['gen_ai.operation.name'], tooling.meta['gen_ai.request.model'], tooling.meta['gen_ai.provider.name'], tooling.meta['gen_ai.application.name'], tooling.meta['gen_ai.conversation.id']],
    ['true', 'llm', 'custom', 'custom', 'rig-app', 'sess'])
  assert.deepEqual([tooling.metrics['gen_ai.usage.input_tokens'], tooling.metrics['gen_ai.usage.output_tokens'], tooling.metrics['gen_ai.usage.total_tokens']], [3, 4, 7])
  assert.equal(root.meta['gen_ai.operation.name'], 'workflow')
  assert.equal(root.meta['gen_ai.request.model'], undefined)
  assert.equal(by.get('emb')?.span.meta['gen_ai.provider.name'], 'mycorp')
  assert.equal(by.get('plain')?.span.meta['gen_ai.operation.name'], undefined, 'plain APM spans get no gen_ai tags')
})

test('bridge tags: first LLMObs span wins; a span under a plain APM root names itself as the parent', async () => {
  const r = await rig()
  await r.tracer.trace('http.request', async () => {
    await r.llmobs.trace({ kind: 'agent', name: 'first' }, async () => {})
    await r.llmobs.trace({ kind: 'agent', name: 'second' }, async () => {})
  })
  const got = await sent(r)
  const root = got.find((g) => g.span.name === 'http.request')?.span as Obj
  const first = got.find((g) => g.span.name === 'first') as { span: Obj, event: Obj }
  assert.equal(root.meta.llmobs_trace_id, first.event.trace_id)
  assert.equal(root.meta.llmobs_parent_id, String(first.span.span_id))
})
