import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import * as openaiModule from 'openai'
import OpenAI from 'openai'
import * as anthropicModule from '@anthropic-ai/sdk'
import Anthropic from '@anthropic-ai/sdk'
import { log } from '../../src/diag/logger.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { Tracer } from '../../src/root/tracer.js'
import { hasTracer } from '../../src/root/global_tracer.js'
import { wrapOpenAI, patchOpenAIModule } from '../../src/integrations/openai/instrument.js'
import { patchAnthropicModule, wrapAnthropic } from '../../src/integrations/anthropic/instrument.js'
import { originalOf } from '../../src/integrations/patch.js'
import { startFakeOpenAI } from '../helpers/fake_openai.js'
import { startFakeAnthropic } from '../helpers/fake_anthropic.js'
import type { FakeServer } from '../helpers/fake_http.js'
import { closeAll, providerRig, type ProviderRig } from '../helpers/fake_rig.js'
import { startSink, v04Chunks, type Sink } from '../helpers/sink.js'

// This file patches the SDK classes in its own process, as `llmobs-ts/register` would.
let rig: ProviderRig
let oai: FakeServer
let ant: FakeServer
const logged: string[] = []

before(async () => {
  log.configure({ sink: (_l, m) => { logged.push(m) } })
  rig = await providerRig()
  oai = await startFakeOpenAI()
  ant = await startFakeAnthropic()
})
after(() => closeAll(rig, oai, ant))

const q = [{ role: 'user' as const, content: 'hi' }]

test('patching the module twice is a no-op; the original stays reachable', () => {
  const proto = OpenAI.Chat.Completions.prototype as unknown as Record<string, unknown>
  const before = proto.create
  patchOpenAIModule(openaiModule)
  const once = proto.create
  patchOpenAIModule(openaiModule)
  patchAnthropicModule(anthropicModule)
  patchAnthropicModule(anthropicModule)
  assert.notEqual(once, before)
  assert.equal(proto.create, once)
  assert.equal(originalOf(once), before)
  assert.equal(originalOf(originalOf((Anthropic.Messages.prototype as unknown as Record<string, unknown>).create)), undefined, 'one layer only')
})

test('explicit + automatic at once: one span, recorded by the explicit layer (its LLMObs instance)', async () => {
  // The automatic layer records into the global llmobs, which is not enabled here: a second
  // span would show up as a plain APM span, never as an event. The explicit one must make the only event.
  const client = wrapOpenAI(new OpenAI({ apiKey: 'k', baseURL: `${oai.url}/v1`, maxRetries: 0 }), { llmobs: rig.llmobs })
  const claude = wrapAnthropic(new Anthropic({ apiKey: 'k', baseURL: ant.url, maxRetries: 0 }), { llmobs: rig.llmobs })
  await client.chat.completions.create({ model: 'gpt-4o-mini', messages: q })
  const s = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: q, stream: true })
  for await (const _ of s) { /* drain */ }
  await claude.messages.stream({ model: 'claude-x', max_tokens: 5, messages: q }).finalMessage()
  const events = await rig.events()
  assert.deepEqual(events.map((e) => e.name), ['OpenAI.createChatCompletion', 'OpenAI.createChatCompletion', 'anthropic.request'])
  assert.equal(hasTracer(), false, 'the automatic layer passed the calls through: it never even made an APM span')
})

test('without an enabled LLMObs the call still works and makes a plain APM span, silently', async () => {
  const sink: Sink = await startSink()
  const tracer = new Tracer({ url: sink.url, service: 'svc', flushIntervalMs: 60_000 })
  const off = new LLMObs(() => tracer)
  try {
    const client = new OpenAI({ apiKey: 'k', baseURL: `${oai.url}/v1`, maxRetries: 0 })
    wrapOpenAI(client, { llmobs: off })
    const res = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: q })
    assert.equal(res.choices[0].message.content, 'Hello world')
    await tracer.flush()
    const spans = v04Chunks(sink).flat()
    const names = spans.map((sp) => `${String(sp.name)} ${String(sp.resource)}`)
    assert.ok(names.includes('openai.request chat.completions.create'), names.join(','))
    assert.equal(logged.filter((m) => m.includes('annotate')).length, 0, 'no annotate warnings when LLMObs is off')
  } finally {
    await tracer.shutdown()
    await sink.close()
  }
})

test('never throws into user code: odd arguments reach the SDK as they are, odd clients are returned as they are', async () => {
  assert.equal(wrapOpenAI(null), null)
  const empty = {}
  assert.equal(wrapAnthropic(empty), empty)
  const client = wrapOpenAI(new OpenAI({ apiKey: 'k', baseURL: `${oai.url}/v1`, maxRetries: 0 }), { llmobs: rig.llmobs })
  // A body whose getters throw: the instrumentation reads what it can, the SDK decides.
  const hostile = { model: 'gpt-4o-mini', messages: q }
  Object.defineProperty(hostile, 'temperature', { enumerable: true, get () { throw new Error('hostile getter') } })
  const err = await Promise.resolve().then(() => client.chat.completions.create(hostile)).then(() => undefined, (e: unknown) => e)
  assert.ok(err instanceof Error && err.message === 'hostile getter', 'the SDK itself reads the getter and throws; our reading did not change that')
  // The SDK's own synchronous throw (no body at all) passes through unchanged too.
  const sync = (() => { try { client.chat.completions.create(undefined as unknown as Parameters<typeof client.chat.completions.create>[0]); return undefined } catch (e) { return e } })()
  assert.ok(sync instanceof TypeError, String(sync))
  const events = await rig.events()
  assert.equal(events.length, 2)
  assert.deepEqual(events.map((e) => [e.status, e.meta.error.message]), [['error', 'hostile getter'], ['error', (sync as Error).message]])
  assert.deepEqual(events[0].meta.input.messages, [{ role: 'user', content: 'hi' }], 'what could be read was recorded')
})
