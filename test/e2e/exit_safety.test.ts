import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { DEFAULTS } from '../../src/config/defaults.js'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { getJson } from '../helpers/agent_client.js'

/**
 * Exit safety (issue 7): a tracer is a guest in its host's process. Each case runs a fixture
 * (test/fixtures/exit/*.mjs) as a child process and judges how the process ends: what reached
 * the agent, the exit code, and how long the exit took.
 */
const FIXTURES = new URL('../../../test/fixtures/exit/', import.meta.url)
const REQUESTS = 25
/** Each request: an APM root around a workflow around an llm span. */
const LLM_SPANS = REQUESTS * 2
/** Scheduling slack on a loaded CI machine, on top of the deadlines under test. */
const SLACK_MS = 2500

interface Line { event: string, at: number, ms?: number, stats?: { created: number, pending: number } }
interface Run { code: number | null, signal: NodeJS.Signals | null, lines: Line[], stderr: string, markAt: number | undefined, exitAt: number }

/**
 * Runs a fixture; `markAt` is when the line `mark` arrived (the spans are made). With `sigterm`,
 * SIGTERM is sent right then. A child still running after `killAfterMs` is killed: the test fails.
 */
function runFixture (file: string, args: string[], opts: { mark: string, sigterm?: boolean, killAfterMs?: number }): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [new URL(file, FIXTURES).pathname, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const lines: Line[] = []
    let out = ''
    let stderr = ''
    let markAt: number | undefined
    const guard = setTimeout(() => child.kill('SIGKILL'), opts.killAfterMs ?? 60_000)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      let nl: number
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = JSON.parse(out.slice(0, nl)) as Line
        out = out.slice(nl + 1)
        lines.push(line)
        if (line.event === opts.mark && markAt === undefined) {
          markAt = Date.now()
          if (opts.sigterm === true) child.kill('SIGTERM')
        }
      }
    })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    // The exit time is taken at 'exit'; the result waits for 'close', when stdout has been read to
    // the end ('exit' can come before the last lines the child printed).
    let exitAt = 0
    child.on('exit', () => { exitAt = Date.now() })
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, lines, stderr, markAt, exitAt: exitAt === 0 ? Date.now() : exitAt })
    })
  })
}

/** A destination that accepts connections and never answers (nor closes them). */
async function silentServer (): Promise<{ url: string, close: () => Promise<void> }> {
  const sockets = new Set<net.Socket>()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('error', () => {})
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()) }),
  }
}

let agent: LocalAgent
let silent: { url: string, close: () => Promise<void> }
before(async () => {
  agent = await startAgent({ port: 0, db: ':memory:' })
  silent = await silentServer()
})
after(async () => {
  await agent.close()
  await silent.close()
})

async function storedSpans (mlApp: string): Promise<number> {
  const { spans } = await getJson<{ spans: Array<{ trace_id: string, span_id: string }> }>(agent.url, `/api/spans?ml_app=${mlApp}&limit=1000`)
  assert.equal(new Set(spans.map((s) => `${s.trace_id}/${s.span_id}`)).size, spans.length, 'each span stored once')
  return spans.length
}

/** APM chunks the agent received from a fixture (each fixture's service is its ml_app). */
async function chunksOf (service: string): Promise<number> {
  const { chunks } = await getJson<{ chunks: Array<{ service: string }> }>(agent.url, '/api/chunks?limit=1000')
  return chunks.filter((c) => c.service === service).length
}

const elapsed = (r: Run): number => r.exitAt - (r.markAt ?? r.exitAt)

describe('exit safety', { concurrency: true }, () => {
  test('natural exit: with no flush and no shutdown, beforeExit delivers every LLM span and the APM traces', async () => {
    const r = await runFixture('natural_exit.mjs', [agent.url, String(REQUESTS), '0.5', 'exit-natural'], { mark: 'done' })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.lines[0].stats?.created, LLM_SPANS)
    assert.ok((r.lines[0].stats?.pending ?? 0) > 0, 'nothing was sent before the process began to exit')
    assert.equal(await storedSpans('exit-natural'), LLM_SPANS)
    assert.equal(await chunksOf('exit-natural'), REQUESTS, 'every APM chunk reached the agent')
    assert.ok(elapsed(r) < DEFAULTS.exitFlushTimeoutMs, `exit took ${elapsed(r)} ms with a healthy agent`)
  })

  test('await tracer.shutdown(deadline) delivers within the deadline; then the process ends by itself', async () => {
    const r = await runFixture('shutdown.mjs', [agent.url, String(REQUESTS), '0', 'exit-shutdown', '3000'], { mark: 'done' })
    assert.equal(r.code, 0, r.stderr)
    const shutdown = r.lines.find((l) => l.event === 'tracer.shutdown')
    const disable = r.lines.find((l) => l.event === 'llmobs.disable')
    assert.ok(shutdown?.ms !== undefined && shutdown.ms < 3000, JSON.stringify(shutdown))
    // Sample rate 0: every event took the rescue route through the LLMObs writer.
    assert.equal(disable?.stats?.pending, 0, JSON.stringify(disable))
    assert.equal(await storedSpans('exit-shutdown'), LLM_SPANS)
    assert.ok(elapsed(r) < 3000 + SLACK_MS, `exit took ${elapsed(r)} ms`)
  })

  test('SIGTERM with flushOnSigterm: flushes everything, then exits 143', async () => {
    const r = await runFixture('sigterm.mjs', [agent.url, String(REQUESTS), '0.5', 'exit-sigterm', 'opt-in'], { mark: 'ready', sigterm: true })
    assert.equal(r.code, 143, `code ${r.code} signal ${r.signal}: ${r.stderr}`)
    assert.equal(await storedSpans('exit-sigterm'), LLM_SPANS)
    assert.ok(elapsed(r) < DEFAULTS.shutdownTimeoutMs, `exit took ${elapsed(r)} ms with a healthy agent`)
  })

  test('SIGTERM without the opt-in: the tracer installs no handler, the default disposition applies', async () => {
    const r = await runFixture('sigterm.mjs', [agent.url, String(REQUESTS), '0.5', 'exit-sigterm-default', 'no'], { mark: 'ready', sigterm: true })
    assert.equal(r.signal, 'SIGTERM')
    assert.equal(r.code, null)
  })

  test('a destination that never answers: natural exit is bounded (not held for the retry budget)', async () => {
    const r = await runFixture('natural_exit.mjs', [silent.url, String(REQUESTS), '0.5', 'exit-silent-natural'], { mark: 'done' })
    assert.equal(r.code, 0, r.stderr)
    // Before the fix in src/diag/exit_flush.ts and src/transport/http_transport.ts this took 85 s:
    // every beforeExit restarted a flush and in-flight sockets held the loop for the retry budget.
    // The trace flush and the LLMObs writers' flush share one deadline (LlmobsCore.flush).
    assert.ok(elapsed(r) < DEFAULTS.exitFlushTimeoutMs + SLACK_MS, `exit took ${elapsed(r)} ms`)
  })

  test('a destination that never answers: tracer.shutdown(1000) returns on time, and the process ends when LLMObs is disabled', async () => {
    const r = await runFixture('shutdown.mjs', [silent.url, String(REQUESTS), '0.5', 'exit-silent-shutdown', '1000'], { mark: 'done' })
    assert.equal(r.code, 0, r.stderr)
    const shutdown = r.lines.find((l) => l.event === 'tracer.shutdown')
    const disable = r.lines.find((l) => l.event === 'llmobs.disable')
    assert.ok(shutdown?.ms !== undefined && shutdown.ms < 1000 + 500, JSON.stringify(shutdown))
    // llmobs.disable() waits for its writers at most the shutdown deadline.
    assert.ok(disable?.ms !== undefined && disable.ms < DEFAULTS.shutdownTimeoutMs + 500, JSON.stringify(disable))
    // After both returned, nothing of ours holds the process: no lingering retries.
    assert.ok(r.exitAt - (r.markAt ?? 0) < (shutdown?.ms ?? 0) + (disable?.ms ?? 0) + SLACK_MS, `exit took ${elapsed(r)} ms`)
    assert.match(r.stderr, /shutdown deadline of 1000 ms reached/)
  })

  test('a destination that never answers: SIGTERM with flushOnSigterm still exits 143 within the shutdown deadline', async () => {
    const r = await runFixture('sigterm.mjs', [silent.url, String(REQUESTS), '0.5', 'exit-silent-sigterm', 'opt-in'], { mark: 'ready', sigterm: true })
    assert.equal(r.code, 143, `code ${r.code} signal ${r.signal}`)
    assert.ok(elapsed(r) < DEFAULTS.shutdownTimeoutMs + SLACK_MS, `exit took ${elapsed(r)} ms`)
  })
})
