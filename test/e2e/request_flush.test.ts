import { after, before, beforeEach, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { log } from '../../src/diag/logger.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { waitUntilFlush, withLambda } from '../../src/llmobs/serverless.js'
import type { Span } from '../../src/trace/span.js'
import { Tracer } from '../../src/root/tracer.js'
import type { TracerOptions } from '../../src/config/tracer_config.js'
import { getJson, request } from '../helpers/agent_client.js'
import { startHoldingProxy, type HoldingProxy } from '../helpers/holding_proxy.js'

/**
 * Request-scoped flush (issue 15, item 3), against the real local agent over real HTTP. Both
 * writers run with a 60 s interval, so nothing reaches the agent unless a flush sends it: what
 * the agent holds when a flush resolves is what that flush sent and waited for. A holding proxy
 * between SDK and agent keeps another trace's request in flight for as long as a test needs.
 */
let agent: LocalAgent
before(async () => { agent = await startAgent({ port: 0, db: ':memory:' }) })
after(async () => { await agent.close() })

interface Rig { tracer: Tracer, llmobs: LLMObs, proxy: HoldingProxy, mlApp: string, close: () => Promise<void> }
const open = new Set<Rig>()
after(async () => { await Promise.all([...open].map((r) => r.close())) })

let n = 0
async function rig (tracerOpts: TracerOptions = {}): Promise<Rig> {
  const mlApp = `rf-${++n}`
  const proxy = await startHoldingProxy(agent.url)
  const tracer = new Tracer({ url: proxy.url, service: 'svc', env: 'test', flushIntervalMs: 60_000, ...tracerOpts })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp, flushIntervalMs: 60_000 })
  const r: Rig = {
    tracer,
    llmobs,
    proxy,
    mlApp,
    close: async () => {
      open.delete(r)
      await tracer.shutdown()
      await llmobs.disable()
      await proxy.close()
    },
  }
  open.add(r)
  return r
}

async function stored (mlApp: string): Promise<Map<string, string[]>> {
  const { spans } = await getJson<{ spans: Array<{ name: string, path: string }> }>(agent.url, `/api/spans?ml_app=${mlApp}&limit=1000`)
  const out = new Map<string, string[]>()
  for (const s of spans) out.set(s.name, [...(out.get(s.name) ?? []), s.path])
  return out
}

function llmCall (o: LLMObs, name: string): Promise<void> {
  return o.trace({ kind: 'llm', name, modelName: 'm', modelProvider: 'p' }, async (span) => {
    o.annotate(span, { inputData: `q ${name}`, outputData: `a ${name}` })
  })
}

/** A finished trace: a request span around one LLM call. */
async function request1 (r: Rig, name: string): Promise<Span> {
  let root: Span | undefined
  await r.tracer.trace(`req.${name}`, async (span) => {
    root = span
    await llmCall(r.llmobs, name)
  })
  return root as Span
}

/** A trace still open: its request span runs on, its LLM call finished. */
async function openRequest (r: Rig, name: string): Promise<Span> {
  const root = r.tracer.startSpan(`req.${name}`)
  await r.tracer.activate(root, () => llmCall(r.llmobs, name))
  return root
}

function assertLedger (o: LLMObs): void {
  const s = o.stats()
  const dropped = Object.values(s.dropped).reduce((a, b) => a + (b ?? 0), 0)
  assert.equal(s.created, s.delivered + s.pending + dropped, `ledger invariant: ${JSON.stringify(s)}`)
}

function settledFlag (p: Promise<void>): { settled: boolean, done: Promise<void> } {
  const f = { settled: false, done: p }
  f.done = p.then(() => { f.settled = true })
  return f
}

async function fault (body: Record<string, unknown>): Promise<void> {
  const res = await request(agent.url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  assert.equal(res.status, 200, res.body)
}

describe('request-scoped flush', { concurrency: false, timeout: 60_000 }, () => {
  test('one trace\'s flush settles that trace only: sent now, not waiting for another trace\'s payload in flight, not touching an open trace', async () => {
    const r = await rig()
    // D: its payload is in flight (held at the proxy) when A flushes.
    const d = await request1(r, 'd.llm')
    const hold = r.proxy.holdNext('/v0.4/traces')
    const dFlush = settledFlag(r.llmobs.flushTrace(d))
    await hold.arrived
    // B: a concurrent request still running, its LLM call finished.
    const b = await openRequest(r, 'b.llm')
    const a = await request1(r, 'a.llm')

    // A long timeout: had it waited for D's payload, it would not resolve while D is held.
    await r.llmobs.flush({ trace: a, timeoutMs: 120_000 })
    const now = await stored(r.mlApp)
    assert.deepEqual(now.get('a.llm'), ['trace'], 'A\'s event rode its trace payload, sent by the flush')
    assert.equal(now.has('d.llm'), false, 'D is still held')
    assert.equal(now.has('b.llm'), false, 'B was not flushed')
    assert.equal(dFlush.settled, false, 'D\'s flush is still waiting for its own payload')
    const s = r.llmobs.stats()
    assert.equal(s.delivered, 1)
    assert.equal(s.pending, 2)
    assertLedger(r.llmobs)

    hold.release()
    await dFlush.done
    assert.deepEqual((await stored(r.mlApp)).get('d.llm'), ['trace'], 'D\'s flush resolved once its payload settled')

    b.finish()
    await r.llmobs.flushTrace(b.trace)
    const all = await stored(r.mlApp)
    assert.deepEqual(all.get('b.llm'), ['trace'], 'B, once finished, rides its trace')
    assert.equal(r.llmobs.stats().pending, 0)
    assertLedger(r.llmobs)
    await r.close()
  })

  test('a trace still open: its finished LLM spans are taken out and sent (rescuedOpenTrace), the APM trace keeps waiting', async () => {
    const r = await rig()
    const root = await openRequest(r, 'o.llm')
    await r.tracer.activate(root, async () => {
      await r.llmobs.flushTrace()
    })
    assert.deepEqual((await stored(r.mlApp)).get('o.llm'), ['evp'])
    const s = r.llmobs.stats()
    assert.equal(s.rescuedOpenTrace, 1)
    assert.equal(s.pending, 0)
    assert.equal(r.tracer.stats().openTraces, 1, 'the APM trace still waits for its root')
    root.finish()
    await r.llmobs.flushTrace(root)
    assert.deepEqual((await stored(r.mlApp)).get('o.llm'), ['evp'], 'stored once: the span left scrubbed with its trace')
    assertLedger(r.llmobs)
    await r.close()
  })

  test('sampled out (events rescued to the LLMObs writer): the flush sends them now and waits for their post only', async () => {
    const r = await rig({ samplingRules: [{ sample_rate: 0 }] })
    const e = await request1(r, 'e.llm')
    const hold = r.proxy.holdNext('/evp_proxy/')
    const eFlush = settledFlag(r.llmobs.flushTrace(e))
    await hold.arrived
    const a = await request1(r, 'a.llm')
    await r.llmobs.flushTrace(a, { timeoutMs: 120_000 })
    const now = await stored(r.mlApp)
    assert.deepEqual(now.get('a.llm'), ['evp'])
    assert.equal(now.has('e.llm'), false)
    assert.equal(eFlush.settled, false, 'E\'s flush still waits for its own post')
    assert.equal(r.llmobs.stats().rescuedPredictedDrop, 2)
    hold.release()
    await eFlush.done
    assert.deepEqual((await stored(r.mlApp)).get('e.llm'), ['evp'])
    assert.equal(r.llmobs.stats().pending, 0)
    assertLedger(r.llmobs)
    await r.close()
  })

  test('the agent refuses the trace payload: its riders are rescued and the same flush delivers them', async () => {
    const r = await rig()
    const a = await request1(r, 'a.llm')
    await fault({ path: '/v0.4/traces', status: 400, count: 1 })
    await r.llmobs.flushTrace(a)
    assert.deepEqual((await stored(r.mlApp)).get('a.llm'), ['evp'])
    const s = r.llmobs.stats()
    assert.equal(s.rescuedPayloadFailed, 1)
    assert.equal(s.pending, 0)
    assertLedger(r.llmobs)
    await r.close()
  })

  test('past 4 trace payloads in flight, request-scoped flushes wait for a slot and leave together in one payload', { timeout: 60_000 }, async () => {
    const r = await rig()
    const holds = []
    for (let i = 0; i < 4; i++) {
      const d = await request1(r, `d${i}.llm`)
      const hold = r.proxy.holdNext('/v0.4/traces')
      holds.push({ hold, flush: settledFlag(r.llmobs.flushTrace(d, { timeoutMs: 120_000 })) })
      await hold.arrived
    }
    const a = await request1(r, 'a.llm')
    const aFlush = settledFlag(r.llmobs.flushTrace(a, { timeoutMs: 120_000 }))
    const b = await request1(r, 'b.llm')
    const bFlush = settledFlag(r.llmobs.flushTrace(b, { timeoutMs: 120_000 }))
    assert.equal(r.proxy.received('/v0.4/traces'), 4, 'A and B wait for a free slot')
    holds[0].hold.release()
    await Promise.all([holds[0].flush.done, aFlush.done, bFlush.done])
    assert.equal(r.proxy.received('/v0.4/traces'), 5, 'A and B left in one payload once a slot freed')
    const now = await stored(r.mlApp)
    assert.deepEqual([now.get('a.llm'), now.get('b.llm'), now.has('d1.llm')], [['trace'], ['trace'], false])
    for (const h of holds) h.hold.release()
    await Promise.all(holds.map((h) => h.flush.done))
    assert.equal(r.llmobs.stats().pending, 0)
    assertLedger(r.llmobs)
    await r.close()
  })

  test('the timeout bounds the wait: a held payload leaves the flush resolved, the event pending, owned by the ledger', async () => {
    const r = await rig()
    const a = await request1(r, 'a.llm')
    const hold = r.proxy.holdNext('/v0.4/traces')
    await r.llmobs.flushTrace(a, { timeoutMs: 50 })
    assert.equal(r.llmobs.stats().pending, 1)
    assertLedger(r.llmobs)
    hold.release()
    await r.llmobs.flushTrace(a)
    assert.deepEqual((await stored(r.mlApp)).get('a.llm'), ['trace'])
    await r.close()
  })
})

describe('misuse', { concurrency: false }, () => {
  let warnings: string[] = []
  beforeEach(() => {
    warnings = []
    log.resetWarnings()
    log.configure({ sink: (level, message) => { if (level === 'warn') warnings.push(message) } })
  })
  after(() => { log.configure({ sink: (level, message) => process.stderr.write(`[llmobs-ts] ${level}: ${message}\n`) }) })

  test('no active span: resolves, warns once', async () => {
    const r = await rig()
    await r.llmobs.flushTrace()
    await r.llmobs.flushTrace()
    assert.equal(warnings.length, 1, warnings.join('\n'))
    assert.match(warnings[0], /no active span/)
    await r.close()
  })

  test('arguments that are not a span or a trace: resolve, one warning for all', async () => {
    const r = await rig()
    const hostile = new Proxy({}, { get () { throw new Error('trap') }, getPrototypeOf () { throw new Error('trap') } })
    for (const bad of [42, 'span', {}, { trace: 1 }, hostile]) await r.llmobs.flushTrace(bad as unknown as Span)
    await r.llmobs.flush({ trace: undefined })
    await r.llmobs.flush({ trace: 7 as unknown as Span })
    await r.llmobs.flush(hostile as unknown as number)
    assert.equal(warnings.filter((w) => /flushTrace|flush\(\{ trace \}\)/.test(w)).length, 1, warnings.join('\n'))
    assert.equal(log.internalErrors.size, 0, [...log.internalErrors.keys()].join())
    await r.close()
  })

  test('after disable: resolves, warns once, and still delivers an event of a span started while enabled', async () => {
    const r = await rig()
    const root = r.tracer.startSpan('req.late')
    let release!: () => void
    const call = r.tracer.activate(root, () => r.llmobs.trace({ kind: 'llm', name: 'late.llm' }, () => new Promise<void>((resolve) => { release = resolve })))
    await r.llmobs.disable()
    release()
    await call
    await r.llmobs.flushTrace(root)
    assert.deepEqual((await stored(r.mlApp)).get('late.llm'), ['evp'], 'taken out of its open trace by the draining core\'s events')
    root.finish()
    await r.llmobs.flushTrace(root)
    assert.equal(warnings.filter((w) => /not enabled/.test(w)).length, 1, warnings.join('\n'))
    assert.equal(r.llmobs.stats().pending, 0)
    assertLedger(r.llmobs)
    await r.close()
  })
})

describe('serverless helpers', { concurrency: false }, () => {
  test('withLambda: the invocation\'s trace is at the agent when the handler\'s promise resolves; errors pass through, flushed too', async () => {
    const r = await rig()
    const handler = withLambda(async (event: { q: string }) => {
      await llmCall(r.llmobs, `lambda.${event.q}`)
      if (event.q === 'boom') throw new Error('boom')
      return { statusCode: 200, body: event.q }
    }, { tracer: r.tracer, llmobs: r.llmobs })
    const ctx = { functionName: 'fn', getRemainingTimeInMillis: () => 30_000 }
    assert.deepEqual(await handler({ q: 'ok' }, ctx), { statusCode: 200, body: 'ok' })
    assert.deepEqual((await stored(r.mlApp)).get('lambda.ok'), ['trace'])
    await assert.rejects(handler({ q: 'boom' }, ctx), /boom/)
    assert.deepEqual((await stored(r.mlApp)).get('lambda.boom'), ['trace'])
    const traces = await getJson<{ traces: Array<{ root_name: string }> }>(agent.url, `/api/traces?ml_app=${r.mlApp}&limit=10`)
    assert.ok(traces.traces.length >= 2)
    assertLedger(r.llmobs)
    await r.close()
  })

  test('withLambda: a callback-style handler is returned unwrapped, with a warning', () => {
    const warnings: string[] = []
    log.resetWarnings()
    log.configure({ sink: (level, message) => { if (level === 'warn') warnings.push(message) } })
    try {
      const cb = (_e: unknown, _c: unknown, _done: unknown): void => {}
      assert.equal(withLambda(cb as never), cb)
      assert.equal(warnings.length, 1)
    } finally {
      log.configure({ sink: (level, message) => process.stderr.write(`[llmobs-ts] ${level}: ${message}\n`) })
    }
  })

  test('waitUntilFlush, called while the request span is open: resolves once the trace finished and is at the agent', async () => {
    const r = await rig()
    let pending: Promise<void> | undefined
    let finishedBeforeFlush = false
    await r.tracer.trace('worker.fetch', async (span) => {
      await llmCall(r.llmobs, 'edge.llm')
      pending = waitUntilFlush(span, { tracer: r.tracer, llmobs: r.llmobs })
      finishedBeforeFlush = span.isFinished
    })
    assert.equal(finishedBeforeFlush, false)
    await pending
    assert.deepEqual((await stored(r.mlApp)).get('edge.llm'), ['trace'], 'it waited for the trace to close, then sent it')
    assert.equal(r.tracer.stats().openTraces, 0)
    assert.equal(r.llmobs.stats().pending, 0)
    assertLedger(r.llmobs)
    await r.close()
  })
})
