import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { getJson, waitFor } from '../helpers/agent_client.js'
import { startFakeOpenAI } from '../helpers/fake_openai.js'
import type { FakeServer } from '../helpers/fake_http.js'

/**
 * A frozen serverless instance (issue 15): a child HTTP service answers one request (one LLM
 * call), and the test freezes it with SIGSTOP right after the answer, for 10 s, as a platform
 * does between invocations. With the request-scoped flush (awaited before answering, or done by
 * the withLambda wrapper) the event is at the agent while the process is frozen; without it the
 * event is not, and arrives only once the process runs again. The variants run side by side.
 */
const FIXTURE = new URL('../../../test/fixtures/serverless/frozen_server.mjs', import.meta.url).pathname
/** The writers' interval in the child: far longer than answer → SIGSTOP, so only a flush can explain an event at the agent. */
const INTERVAL_MS = 3000
const FROZEN_MS = 10_000

let agent: LocalAgent
let openai: FakeServer
const children = new Set<ChildProcess>()
before(async () => {
  agent = await startAgent({ port: 0, db: ':memory:' })
  openai = await startFakeOpenAI()
})
after(async () => {
  for (const c of children) { c.kill('SIGCONT'); c.kill('SIGKILL') }
  await Promise.all([agent.close(), openai.close()])
})

async function startService (mode: 'flush' | 'lambda' | 'none', mlApp: string): Promise<{ child: ChildProcess, url: string, stderr: () => string }> {
  const child = spawn(process.execPath, [FIXTURE, agent.url, openai.url, mlApp, mode, String(INTERVAL_MS)], { stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim()))
    child.once('exit', (code) => reject(new Error(`service exited (${String(code)}): ${err}`)))
  })
  return { child, url: `http://127.0.0.1:${port}`, stderr: () => err }
}

async function storedCount (mlApp: string): Promise<number> {
  const { spans } = await getJson<{ spans: unknown[] }>(agent.url, `/api/spans?ml_app=${mlApp}&limit=100`)
  return spans.length
}

async function frozenRun (mode: 'flush' | 'lambda' | 'none'): Promise<void> {
  const mlApp = `frozen-${mode}`
  const svc = await startService(mode, mlApp)
  const res = await fetch(svc.url)
  const body = await res.json() as { answer: string }
  // Frozen at once, as the platform does when the answer is out.
  svc.child.kill('SIGSTOP')
  try {
    assert.equal(res.status, 200, svc.stderr())
    assert.equal(body.answer, 'Hello world')
    const expected = mode === 'none' ? 0 : 1
    assert.equal(await storedCount(mlApp), expected, `${mode}: at the agent as the instance froze`)
    await new Promise((resolve) => setTimeout(resolve, FROZEN_MS))
    assert.equal(await storedCount(mlApp), expected, `${mode}: at the agent after ${FROZEN_MS} ms frozen`)
  } finally {
    svc.child.kill('SIGCONT')
  }
  // Thawed: the unflushed event leaves at the next interval (the variant is not vacuous: the
  // child does deliver, just not while frozen); the flushed one is not sent twice.
  if (mode === 'none') await waitFor(async () => (await storedCount(mlApp)) === 1, 30_000, 'the event after thawing')
  const { spans } = await getJson<{ spans: Array<{ name: string, path: string }> }>(agent.url, `/api/spans?ml_app=${mlApp}&limit=100`)
  assert.deepEqual(spans.map((s) => [s.name, s.path]), [['OpenAI.createChatCompletion', 'trace']])
  svc.child.kill('SIGKILL')
  children.delete(svc.child)
}

test('a frozen serverless instance: with the request-scoped flush the event is at the agent while frozen, without it it is not', async () => {
  await Promise.all([frozenRun('flush'), frozenRun('lambda'), frozenRun('none')])
})
