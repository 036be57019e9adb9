import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import OpenAI from 'openai'
import { wrapOpenAI } from '../../src/integrations/openai/instrument.js'
import { startFakeOpenAI } from '../helpers/fake_openai.js'
import type { FakeServer } from '../helpers/fake_http.js'
import { closeAll, providerRig, type ProviderRig } from '../helpers/fake_rig.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

let rig: ProviderRig
let server: FakeServer
let client: OpenAI

before(async () => {
  rig = await providerRig()
  server = await startFakeOpenAI()
  client = wrapOpenAI(new OpenAI({ apiKey: 'k', baseURL: `${server.url}/v1`, maxRetries: 0 }), { llmobs: rig.llmobs })
})
after(() => closeAll(rig, server))

const q = [{ role: 'user' as const, content: 'hi' }]

/** Collects garbage until the span of a dropped call has ended (finalizers run a moment later). */
async function collectUntil (count: number): Promise<Array<Record<string, any>>> {
  const deadline = Date.now() + 30_000 // a cap for a span that never ends, not a speed budget
  for (;;) {
    gc()
    await new Promise((r) => setTimeout(r, 20))
    const finished = rig.llmobs.stats().created
    if (finished >= count || Date.now() > deadline) break
  }
  return rig.events()
}

test('a stream the caller drops unread ends its span as abandoned instead of holding its trace forever', async () => {
  const before = rig.llmobs.stats().created
  await (async () => {
    const stream = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: q, stream: true })
    assert.ok(stream !== undefined)
  })()
  const [e] = await collectUntil(before + 1)
  assert.ok(e !== undefined, 'the span ended')
  assert.equal(e.meta.metadata.abandoned, true)
  assert.equal(e.status, 'ok')
})

test('a request promise never awaited ends as abandoned', async () => {
  const before = rig.llmobs.stats().created
  ;(() => { void client.chat.completions.create({ model: 'gpt-4o-mini', messages: q }).asResponse })()
  const [e] = await collectUntil(before + 1)
  assert.ok(e !== undefined)
  assert.equal(e.meta.metadata.abandoned, true)
})

test('tee(): dropping the original stream object does not end the span while the branches are read', async () => {
  const [left, right] = await (async () => (await client.chat.completions.create({ model: 'gpt-4o-mini', messages: q, stream: true })).tee())()
  gc()
  await new Promise((r) => setTimeout(r, 20))
  gc()
  let a = ''
  let b = ''
  for await (const c of left) a += c.choices[0]?.delta?.content ?? ''
  for await (const c of right) b += c.choices[0]?.delta?.content ?? ''
  assert.equal(a, 'Hello world')
  assert.equal(b, 'Hello world')
  const [e] = await rig.events()
  assert.equal(e.meta.metadata.abandoned, undefined)
  assert.equal(e.meta.metadata.stream_status, 'completed')
  assert.equal(e.meta.output.messages[0].content, 'Hello world')
})
