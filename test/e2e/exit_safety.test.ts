import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { getJson } from '../helpers/agent_client.js'

/**
 * Exit safety (issue 7): a tracer is a guest in its host's process. Each case runs a fixture
 * (test/fixtures/exit/*.mjs) as a child process and judges how the process ends: what reached
 * the agent, the exit code, what the ledger held at the end and what still held the event loop.
 * No case measures how long the exit took: the only clock is the guard that kills a child still
 * running after a minute (a hang), far beyond every deadline under test.
 */
const FIXTURES = new URL('../../../test/fixtures/exit/', import.meta.url)
const REQUESTS = 25
/** Each request: an APM root around a workflow around an llm span. */
const LLM_SPANS = REQUESTS * 2
const GUARD_MS = 60_000

interface Stats { created: number, delivered: number, pending: number, rescuedPredictedDrop: number, dropped: Record<string, number> }
interface Line { event: string, code?: number, stats?: Stats, resources?: string[] }
interface Run { code: number | null, signal: NodeJS.Signals | null, lines: Line[], stderr: string }

/**
 * Runs a fixture. With `sigterm`, SIGTERM is sent when the line `mark` arrives (the spans are
 * made). A child still running after GUARD_MS is killed: its code is null and the test fails.
 */
function runFixture (file: string, args: string[], opts: { mark: string, sigterm?: boolean }): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [new URL(file, FIXTURES).pathname, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    const lines: Line[] = []
    let out = ''
    let stderr = ''
    let marked = false
    const guard = setTimeout(() => child.kill('SIGKILL'), GUARD_MS)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      let nl: number
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = JSON.parse(out.slice(0, nl)) as Line
        out = out.slice(nl + 1)
        lines.push(line)
        if (line.event === opts.mark && !marked) {
          marked = true
          if (opts.sigterm === true) child.kill('SIGTERM')
        }
      }
    })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    // 'close', not 'exit': by then stdout has been read to the end.
    child.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, lines, stderr })
    })
  })
}

function line (r: Run, event: string): Line {
  const l = r.lines.find((x) => x.event === event)
  assert.ok(l !== undefined, `line "${event}" in ${JSON.stringify(r.lines)} (stderr: ${r.stderr})`)
  return l
}

/** What held the child's event loop once shutdown returned, minus its own stdio pipes. */
function holders (r: Run): string[] {
  return (line(r, 'idle').resources ?? []).filter((x) => x !== 'PipeWrap' && x !== 'TTYWrap')
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

const DEADLINE_WARNING = /deadline of \d+ ms reached/

describe('exit safety', { concurrency: true }, () => {
  test('natural exit after discovery: only the LLMObs beforeExit flush can deliver the rescued events, and it does', async () => {
    // Sample rate 0: every event is rescued into the LLMObs writer, whose own timer is 60 s away.
    const r = await runFixture('natural_exit.mjs', [agent.url, String(REQUESTS), '0', 'exit-natural', 'after-discovery'], { mark: 'done' })
    assert.equal(r.code, 0, r.stderr)
    const done = line(r, 'done').stats
    assert.deepEqual([done?.created, done?.rescuedPredictedDrop, done?.pending], [LLM_SPANS, LLM_SPANS, LLM_SPANS], 'nothing was sent before the process began to exit')
    assert.deepEqual([line(r, 'exit').stats?.delivered, line(r, 'exit').stats?.pending], [LLM_SPANS, 0], 'acknowledged before the process ended')
    assert.equal(await storedSpans('exit-natural'), LLM_SPANS)
    assert.equal(await chunksOf('exit-natural'), REQUESTS, 'every APM chunk reached the agent')
    assert.doesNotMatch(r.stderr, DEADLINE_WARNING)
  })

  test('natural exit while discovery may still run: with no flush and no shutdown, every LLM span and APM trace is delivered', async () => {
    const r = await runFixture('natural_exit.mjs', [agent.url, String(REQUESTS), '0.5', 'exit-natural-early'], { mark: 'done' })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(line(r, 'done').stats?.created, LLM_SPANS)
    assert.ok((line(r, 'done').stats?.pending ?? 0) > 0, 'nothing was sent before the process began to exit')
    assert.equal(await storedSpans('exit-natural-early'), LLM_SPANS)
    assert.equal(await chunksOf('exit-natural-early'), REQUESTS, 'every APM chunk reached the agent')
  })

  test('await tracer.shutdown(deadline) delivers before its deadline; then nothing of ours holds the process', async () => {
    const r = await runFixture('shutdown.mjs', [agent.url, String(REQUESTS), '0', 'exit-shutdown', '3000'], { mark: 'done' })
    assert.equal(r.code, 0, r.stderr)
    // tracer.shutdown() drains LLM Observability too, after the trace payloads (one ordered drain).
    const atShutdown = line(r, 'tracer.shutdown').stats
    assert.deepEqual([atShutdown?.delivered, atShutdown?.pending], [LLM_SPANS, 0])
    // stats() still reads the ledger after disable().
    const atDisable = line(r, 'llmobs.disable').stats
    assert.deepEqual([atDisable?.created, atDisable?.delivered, atDisable?.pending], [LLM_SPANS, LLM_SPANS, 0])
    // Sample rate 0: every event took the rescue route through the LLMObs writer.
    assert.equal(await storedSpans('exit-shutdown'), LLM_SPANS)
    assert.equal(await chunksOf('exit-shutdown'), REQUESTS)
    assert.doesNotMatch(r.stderr, DEADLINE_WARNING, 'the work finished, not the deadline')
    assert.deepEqual(holders(r), [])
  })

  test('SIGTERM with flushOnSigterm: flushes everything, then exits 143', async () => {
    const r = await runFixture('sigterm.mjs', [agent.url, String(REQUESTS), '0.5', 'exit-sigterm', 'opt-in'], { mark: 'ready', sigterm: true })
    assert.equal(r.code, 143, `code ${r.code} signal ${r.signal}: ${r.stderr}`)
    assert.deepEqual([line(r, 'exit').stats?.delivered, line(r, 'exit').stats?.pending], [LLM_SPANS, 0], 'flushed before exiting')
    assert.equal(await storedSpans('exit-sigterm'), LLM_SPANS)
    assert.doesNotMatch(r.stderr, DEADLINE_WARNING)
  })

  test('SIGTERM without the opt-in: the tracer installs no handler, the default disposition applies', async () => {
    const r = await runFixture('sigterm.mjs', [agent.url, String(REQUESTS), '0.5', 'exit-sigterm-default', 'no'], { mark: 'ready', sigterm: true })
    assert.equal(r.signal, 'SIGTERM')
    assert.equal(r.code, null)
  })

  test('a destination that never answers: natural exit ends by itself, not held for the retry budget', async () => {
    const r = await runFixture('natural_exit.mjs', [silent.url, String(REQUESTS), '0.5', 'exit-silent-natural', 'after-discovery'], { mark: 'done' })
    // Before the fix in src/root/exit_flush.ts and src/transport/http_transport.ts the process was
    // held for 85 s (the guard kills it first): every beforeExit restarted a flush and in-flight
    // sockets held the loop for the retry budget.
    assert.equal(r.code, 0, r.stderr)
    // Still pending, none given up: the exit did not wait for the retries to run out.
    const end = line(r, 'exit').stats
    assert.deepEqual([end?.created, end?.delivered, end?.pending, end?.dropped], [LLM_SPANS, 0, LLM_SPANS, {}])
  })

  test('a destination that never answers: tracer.shutdown(1000) gives up at its deadline, and nothing holds the process once LLMObs is disabled', async () => {
    const r = await runFixture('shutdown.mjs', [silent.url, String(REQUESTS), '0.5', 'exit-silent-shutdown', '1000'], { mark: 'done' })
    assert.equal(r.code, 0, r.stderr)
    assert.equal(line(r, 'tracer.shutdown').stats?.delivered, 0, 'shutdown returned while the destination never answered')
    assert.match(r.stderr, /shutdown deadline of 1000 ms reached/)
    line(r, 'llmobs.disable')
    // After both returned, nothing of ours holds the process: no lingering retries or sockets.
    assert.deepEqual(holders(r), [])
  })

  test('a destination that never answers: SIGTERM with flushOnSigterm still exits 143, not held for the retry budget', async () => {
    const r = await runFixture('sigterm.mjs', [silent.url, String(REQUESTS), '0.5', 'exit-silent-sigterm', 'opt-in'], { mark: 'ready', sigterm: true })
    assert.equal(r.code, 143, `code ${r.code} signal ${r.signal}`)
    const end = line(r, 'exit').stats
    assert.deepEqual([end?.delivered, end?.pending, end?.dropped], [0, LLM_SPANS, {}])
  })
})
