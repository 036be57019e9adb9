import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { getJson, request } from '../helpers/agent_client.js'

/**
 * Open traces at every exit path (issue 10): LLM spans under APM parents that never finish must
 * reach the agent at natural exit, on `tracer.shutdown()` and on SIGTERM with `flushOnSigterm`,
 * also when the agent refuses the last trace payloads (their events are rescued while draining,
 * and the LLMObs writer must be flushed after that, not before).
 */
const FIXTURE = new URL('../../../test/fixtures/exit/open_traces.mjs', import.meta.url).pathname
const OPEN = 6
/** OPEN traces of 2 LLM spans under a never-finished parent, plus 2 complete traces of 2. */
const LLM_SPANS = OPEN * 2 + 2 * 2

interface Run { code: number | null, signal: NodeJS.Signals | null, stderr: string, lines: Array<{ event: string }> }

function run (agentUrl: string, rate: string, mlApp: string, how: 'natural' | 'sigterm' | 'shutdown' | 'after-shutdown'): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [FIXTURE, agentUrl, String(OPEN), rate, mlApp, how], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let stderr = ''
    const lines: Array<{ event: string }> = []
    const guard = setTimeout(() => child.kill('SIGKILL'), 60_000)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      let nl: number
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = JSON.parse(out.slice(0, nl)) as { event: string }
        out = out.slice(nl + 1)
        lines.push(line)
        if (line.event === 'ready') child.kill('SIGTERM')
      }
    })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('close', (code, signal) => { clearTimeout(guard); resolve({ code, signal, stderr, lines }) })
  })
}

let agent: LocalAgent
before(async () => { agent = await startAgent({ port: 0, db: ':memory:' }) })
after(async () => { await agent.close() })

async function storedOnce (mlApp: string): Promise<number> {
  const { spans } = await getJson<{ spans: Array<{ trace_id: string, span_id: string }> }>(agent.url, `/api/spans?ml_app=${mlApp}&limit=1000`)
  assert.equal(new Set(spans.map((s) => `${s.trace_id}/${s.span_id}`)).size, spans.length, 'each span stored once')
  return spans.length
}

describe('open traces at exit', { concurrency: false }, () => {
  for (const how of ['natural', 'shutdown', 'sigterm'] as const) {
    for (const rate of ['1', '0']) {
      test(`${how}, sample rate ${rate}: every finished LLM span reaches the agent`, async () => {
        const mlApp = `open-${how}-${rate}`
        const r = await run(agent.url, rate, mlApp, how)
        assert.equal(r.code, how === 'sigterm' ? 143 : 0, r.stderr)
        assert.equal(await storedOnce(mlApp), LLM_SPANS, r.stderr)
      })
    }
  }

  test('an LLM span that finishes after tracer.shutdown(): natural exit still delivers it', async () => {
    const mlApp = 'open-after-shutdown'
    const r = await run(agent.url, '1', mlApp, 'after-shutdown')
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await storedOnce(mlApp), LLM_SPANS + 1, r.stderr)
  })

  test('SIGTERM while the agent refuses the trace payloads: the events rescued while draining are delivered before exit', async () => {
    const mlApp = 'open-sigterm-refused'
    const set = await request(agent.url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path: '/v0.4/traces', status: 400, count: 1000 }) })
    assert.equal(set.status, 200)
    try {
      const r = await run(agent.url, '1', mlApp, 'sigterm')
      assert.equal(r.code, 143, r.stderr)
      assert.equal(await storedOnce(mlApp), LLM_SPANS, r.stderr)
      assert.ok(agent.counters().llmobs_evp > 0, 'they came through the EVP proxy, rescued')
    } finally {
      await request(agent.url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ clear: true }) })
    }
  })
})
