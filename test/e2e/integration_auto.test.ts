import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { startFakeAnthropic } from '../helpers/fake_anthropic.js'
import type { FakeServer } from '../helpers/fake_http.js'
import { startFakeOpenAI } from '../helpers/fake_openai.js'

const run = promisify(execFile)
// Compiled to dist/test/e2e/: the fixtures stay in the source tree, register is the built one.
const root = fileURLToPath(new URL('../../../', import.meta.url))
const register = `${root}dist/src/register.js`

let agent: LocalAgent
let openai: FakeServer
let anthropic: FakeServer

before(async () => {
  agent = await startAgent({ port: 0, db: ':memory:' })
  openai = await startFakeOpenAI()
  anthropic = await startFakeAnthropic()
})
after(() => Promise.all([agent.close(), openai.close(), anthropic.close()]))

async function child (mlApp: string, args: string[]): Promise<Array<Record<string, any>>> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    OPENAI_URL: openai.url,
    ANTHROPIC_URL: anthropic.url,
    DD_TRACE_AGENT_URL: agent.url,
    DD_LLMOBS_ENABLED: 'true',
    DD_LLMOBS_ML_APP: mlApp,
    DD_SERVICE: `svc-${mlApp}`,
  }
  const { stderr } = await run(process.execPath, args, { cwd: root, env, timeout: 20_000 })
  assert.doesNotMatch(stderr, /fixture failed|internal error|Error:|Warning/, stderr)
  const res = await fetch(`${agent.url}/api/spans?limit=1000&ml_app=${mlApp}`)
  return ((await res.json()) as { spans: Array<{ event: Record<string, any> }> }).spans.map((s) => s.event)
}

/** Each model requested by the fixture, with the span name its call must produce (exactly once). */
const EXPECTED: Array<[string, string]> = [
  ['auto-chat', 'OpenAI.createChatCompletion'],
  ['auto-chat-stream', 'OpenAI.createChatCompletion'],
  ['auto-embed', 'OpenAI.createEmbedding'],
  ['both-chat', 'OpenAI.createChatCompletion'],
  ['auto-claude', 'anthropic.request'],
  ['auto-claude-stream', 'anthropic.request'],
  ['auto-ai', 'doGenerate'],
  ['auto-ai-stream', 'doStream'],
  ['auto-ai-embed', 'doEmbed'],
  ['both-ai', 'doGenerate'],
]

function check (events: Array<Record<string, any>>): void {
  const flow = events.filter((e) => e.name === 'auto-flow')
  assert.equal(flow.length, 1, 'the workflow span')
  const byModel = new Map<string, Array<Record<string, any>>>()
  for (const e of events) {
    if (e.name === 'auto-flow') continue
    const requested = String(e.meta.model_name).replace(/-2024-07-18$|-20250929$/, '')
    byModel.set(requested, [...(byModel.get(requested) ?? []), e])
  }
  for (const [model, name] of EXPECTED) {
    const spans = byModel.get(model) ?? []
    assert.equal(spans.length, 1, `${model}: expected one span, got ${spans.length}`)
    assert.equal(spans[0].name, name)
    assert.equal(spans[0].parent_id, flow[0].span_id, `${model} nests under the workflow`)
    assert.equal(spans[0].status, 'ok')
  }
  const failed = byModel.get('fail-429') ?? []
  assert.equal(failed.length, 1)
  assert.equal(failed[0].status, 'error')
  assert.equal(failed[0].meta.error.type, 'RateLimitError')
  assert.equal(events.length, EXPECTED.length + 2)
  const stream = byModel.get('auto-chat-stream')?.[0]
  assert.equal(stream?.metrics.output_tokens, 5)
  assert.equal(typeof stream?.metrics.time_to_first_token, 'number')
}

test('ESM automatic mode: node --import llmobs-ts/register traces openai, @anthropic-ai/sdk and ai', async () => {
  check(await child('auto-esm', ['--import', register, `${root}test/fixtures/auto_esm.mjs`]))
})

test('CommonJS automatic mode: node -r llmobs-ts/register traces the same calls', async () => {
  check(await child('auto-cjs', ['-r', register, `${root}test/fixtures/auto_cjs.cjs`]))
})
