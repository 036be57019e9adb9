import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { Tracer } from '../../src/root/tracer.js'
import type { TracerOptions } from '../../src/config/tracer_config.js'
import type { Span } from '../../src/trace/span.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import type { LlmobsOptions } from '../../src/config/llmobs_config.js'
import { log } from '../../src/diag/logger.js'
import { getJson, request, waitFor } from '../helpers/agent_client.js'

/**
 * Exactly once through every lifecycle (issue 10): traces still open at flush, enable/disable
 * cycles, processors that edit events in place, evaluations. Each case runs against its own real
 * local agent and judges what the agent stored and what `llmobs.stats()` says.
 */

interface Rig { agent: LocalAgent, tracer: Tracer, llmobs: LLMObs, close: () => Promise<void> }
const rigs = new Set<Rig>()
after(async () => { await Promise.all([...rigs].map((r) => r.close())) })

async function rig (tracerOpts: TracerOptions = {}, llmobsOpts: LlmobsOptions = {}): Promise<Rig> {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const tracer = new Tracer({ url: agent.url, service: 'life', flushIntervalMs: 60_000, ...tracerOpts })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp: 'life', flushIntervalMs: 60_000, ...llmobsOpts })
  const r: Rig = {
    agent,
    tracer,
    llmobs,
    close: async () => {
      rigs.delete(r)
      await tracer.shutdown(2000)
      await llmobs.disable()
      await agent.close()
    },
  }
  rigs.add(r)
  return r
}

interface Stored { name: string, span_id: string, path: string }
async function stored (agent: LocalAgent): Promise<Stored[]> {
  return (await getJson<{ spans: Stored[] }>(agent.url, '/api/spans?limit=1000')).spans
}

async function fault (agent: LocalAgent, spec: Record<string, unknown>): Promise<void> {
  const r = await request(agent.url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(spec) })
  assert.equal(r.status, 200, r.body)
}

/** An LLM span that finishes inside an APM parent that does not (yet). */
function llmUnderOpenParent (r: Rig, name: string): Span {
  const parent = r.tracer.startSpan('http.request')
  r.tracer.activate(parent, () => r.llmobs.trace({ kind: 'llm', name, modelName: 'm' }, (s) => r.llmobs.annotate(s, { inputData: 'q', outputData: 'a' })))
  return parent
}

function assertBalanced (s: ReturnType<LLMObs['stats']>, where: string): void {
  const dropped = Object.values(s.dropped).reduce((a, b) => a + (b ?? 0), 0)
  assert.equal(s.created, s.delivered + s.pending + dropped, `${where}: created = delivered + pending + dropped`)
}

test('flush delivers LLM spans whose APM parent is still open; the parent leaves later, scrubbed, and nothing is stored twice', async () => {
  const r = await rig()
  const parents = [llmUnderOpenParent(r, 'open-1'), llmUnderOpenParent(r, 'open-2')]
  await r.llmobs.flush()
  assert.deepEqual((await stored(r.agent)).map((s) => s.name).sort(), ['open-1', 'open-2'])
  let s = r.llmobs.stats()
  assert.equal(s.pending, 0)
  assert.equal(s.delivered, 2)
  assert.equal(s.rescuedOpenTrace, 2)
  for (const p of parents) p.finish()
  await r.llmobs.flush()
  const c = r.agent.counters()
  assert.equal(c.chunks_received, 2, 'the APM traces still arrive')
  assert.equal(c.llmobs_extracted, 0, 'their spans were scrubbed of _llmobs')
  assert.equal(c.duplicates_suppressed, 0)
  assert.equal((await stored(r.agent)).length, 2)
  s = r.llmobs.stats()
  assert.equal(s.delivered, 2)
  assert.equal(s.rodeTrace, 0)
  await r.close()
})

test('open traces are bounded in count: the oldest leave as partial chunks and their LLM events are delivered', async () => {
  const r = await rig({ maxOpenTraces: 3 })
  const parents: Span[] = []
  for (let i = 0; i < 10; i++) parents.push(llmUnderOpenParent(r, `bounded-${i}`))
  assert.equal(r.tracer.stats().openTraces, 3)
  assert.equal(r.tracer.stats().openTracesEvicted, 7)
  await r.tracer.flush()
  assert.equal((await stored(r.agent)).length, 7, 'evicted traces rode their partial chunks to the agent')
  await r.llmobs.flush()
  assert.equal((await stored(r.agent)).length, 10)
  const s = r.llmobs.stats()
  assert.equal(s.pending, 0)
  assert.equal(s.rodeTrace, 7)
  assert.equal(s.rescuedOpenTrace, 3)
  assertBalanced(s, 'bounded')
  await r.close()
})

test('open traces are bounded in age, even with no further traffic', async () => {
  const r = await rig({ maxOpenTraceAgeMs: 30, flushIntervalMs: 20 })
  llmUnderOpenParent(r, 'aged')
  await waitFor(() => r.tracer.stats().openTracesEvicted === 1, 10_000, 'age eviction')
  await waitFor(async () => (await stored(r.agent)).length === 1, 10_000, 'the evicted trace to reach the agent')
  assert.equal(r.llmobs.stats().rodeTrace, 1)
  assert.equal(r.tracer.stats().openTraces, 0)
  await r.close()
})

test('a predicted drop in an open trace: flush sends the event once, the later drop does not send it again', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 0 }] })
  const parent = llmUnderOpenParent(r, 'dropped-later')
  await r.llmobs.flush()
  parent.finish()
  await r.llmobs.flush()
  const s = r.llmobs.stats()
  assert.equal(s.rescuedOpenTrace, 1)
  assert.equal(s.rescuedPredictedDrop, 0, 'already submitted: the rescue does not ship it again')
  assert.equal(r.agent.counters().llmobs_evp, 1)
  assert.equal((await stored(r.agent)).length, 1)
  await r.close()
})

test('enable/disable cycles with LLM spans running across them: one ledger, each event shipped once, nothing settled twice', async () => {
  log.resetWarnings()
  const r = await rig({ samplingRules: [{ sample_rate: 1 }] })
  const parents: Span[] = []
  const releases: Array<() => void> = []
  const running: Array<Promise<void>> = []
  for (let cycle = 0; cycle < 4; cycle++) {
    // An LLM span still running in an open trace at disable: its event is built after the
    // next enable, by the core that started it, and rides the trace.
    const parent = r.tracer.startSpan('http.request')
    parents.push(parent)
    running.push(r.tracer.activate(parent, () => r.llmobs.trace({ kind: 'llm', name: `cycle-${cycle}` }, () => new Promise<void>((resolve) => releases.push(resolve)))))
    await r.llmobs.disable()
    assert.equal(r.llmobs.enabled, false)
    r.llmobs.enable({ mlApp: 'life', flushIntervalMs: 60_000 })
  }
  for (const release of releases) release()
  await Promise.all(running)
  assert.equal(r.llmobs.stats().created, 4, 'every span started while enabled became an event')
  // The trace payload carrying half of them fails: those events are rescued once, by their own core.
  await fault(r.agent, { path: '/v0.4/traces', status: 400, count: 1 })
  parents[0].finish()
  parents[1].finish()
  await r.tracer.flush()
  parents[2].finish()
  parents[3].finish()
  await r.llmobs.flush()
  const s = r.llmobs.stats()
  assert.equal(s.created, 4)
  assert.equal(s.delivered, 4)
  assert.equal(s.pending, 0)
  assert.equal(s.rodeTrace, 4)
  assert.equal(s.rescuedPayloadFailed, 2)
  assert.equal(r.agent.counters().llmobs_evp, 2, 'the two rescued events were posted once each')
  assert.equal(r.agent.counters().duplicates_suppressed, 0, 'no event shipped twice')
  assert.deepEqual((await stored(r.agent)).map((x) => x.name).sort(), ['cycle-0', 'cycle-1', 'cycle-2', 'cycle-3'])
  assert.deepEqual([...log.internalErrors.keys()], [], 'no internal error (an event settled twice is one)')
  await r.close()
})

test('disable with events in open traces: stats keep counting and they are delivered', async () => {
  const r = await rig()
  const parent = llmUnderOpenParent(r, 'open-at-disable')
  await r.llmobs.disable()
  const s = r.llmobs.stats()
  assert.equal(s.created, 1, 'stats read the same ledger after disable')
  assert.equal(s.delivered, 1)
  assert.equal(s.pending, 0)
  parent.finish()
  await r.tracer.flush()
  assert.equal((await stored(r.agent)).length, 1)
  assert.equal(r.agent.counters().duplicates_suppressed, 0)
  await r.close()
})

test('an LLM span running at disable() is still built, counted and delivered', async () => {
  const r = await rig()
  let release!: () => void
  const running = r.llmobs.trace({ kind: 'llm', name: 'in-flight' }, async (span) => {
    await new Promise<void>((resolve) => { release = resolve })
    r.llmobs.annotate(span, { outputData: 'late answer' })
  })
  await r.llmobs.disable()
  release()
  await running
  assert.equal(r.llmobs.stats().created, 1)
  await r.llmobs.flush()
  const s = r.llmobs.stats()
  assert.equal(s.delivered, 1, 'flush after disable still delivers what is in flight')
  assert.equal(s.pending, 0)
  assert.deepEqual((await stored(r.agent)).map((x) => x.name), ['in-flight'])
  await r.close()
})

test('a disabled direct-mode core gives APM export back', async () => {
  const r = await rig({}, { apmTracingEnabled: false })
  assert.equal(r.llmobs.exportMode, 'llmobs_agent_proxy')
  await r.llmobs.trace({ kind: 'task', name: 'direct' }, () => {})
  await r.llmobs.flush()
  assert.equal(r.agent.counters().chunks_received, 0, 'no APM while LLMObs runs without APM')
  await r.llmobs.disable()
  r.tracer.trace('plain-after-disable', () => {})
  await r.tracer.flush()
  assert.equal(r.agent.counters().chunks_received, 1, 'APM export is back after disable')
  assert.equal(r.llmobs.stats().delivered, 1)
  await r.close()
})

test('processors that break events in place: the broken event is dropped and counted, its batch-mates are delivered', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 0 }] })
  r.llmobs.registerProcessor((e) => {
    if (e.name === 'null-tags') (e as { tags: unknown }).tags = null
    if (e.name === 'set-tags') (e as { tags: unknown }).tags = new Set(e.tags)
    if (e.name === 'bigint') (e.meta as unknown as Record<string, unknown>).metadata = { n: 10n }
    return undefined
  })
  for (let i = 0; i < 9; i++) await r.llmobs.trace({ kind: 'task', name: `good-${i}` }, () => {})
  for (const name of ['null-tags', 'set-tags', 'bigint']) await r.llmobs.trace({ kind: 'task', name }, () => {})
  await r.llmobs.flush()
  const s = r.llmobs.stats()
  assert.equal(s.created, 12)
  assert.equal(s.delivered, 9)
  assert.equal(s.dropped.encoding_error, 3)
  assert.equal(s.pending, 0)
  assert.equal((await stored(r.agent)).length, 9)
  assert.equal(r.agent.counters().requests_rejected, 0, 'the intake never saw a bad event')
  await r.close()
})

test('a processor registered before a disable/enable cycle still applies after it', async () => {
  const r = await rig()
  r.llmobs.registerProcessor((e) => { e.tags.push('redacted:yes'); return e })
  await r.llmobs.disable()
  r.llmobs.enable({ mlApp: 'life', flushIntervalMs: 60_000 })
  await r.llmobs.trace({ kind: 'task', name: 'after-cycle' }, () => {})
  await r.llmobs.flush()
  const [span] = await getJson<{ spans: Array<{ event: { tags: string[] } }> }>(r.agent.url, '/api/spans?limit=10').then((b) => b.spans)
  assert.ok(span.event.tags.includes('redacted:yes'))
  await r.close()
})

test('evaluations have their own ledger: delivered, refused, retried, apart from span events', async () => {
  const r = await rig({}, { flushIntervalMs: 60_000 })
  const exported = await r.llmobs.trace({ kind: 'llm', name: 'judged' }, (span) => r.llmobs.exportSpan(span))
  r.llmobs.submitEvaluation(exported, { label: 'quality', metricType: 'score', value: 0.5, timestampMs: 1 })
  r.llmobs.submitEvaluation(exported, { label: 'tone', metricType: 'categorical', value: 'ok', timestampMs: 1 })
  await r.llmobs.flush()
  let e = r.llmobs.stats().evaluations
  assert.deepEqual({ created: e.created, delivered: e.delivered, pending: e.pending }, { created: 2, delivered: 2, pending: 0 })
  await fault(r.agent, { path: '/evp_proxy/v2/api/intake', status: 503, count: 1 })
  r.llmobs.submitEvaluation(exported, { label: 'retried', metricType: 'boolean', value: true, timestampMs: 2 })
  await r.llmobs.flush()
  await fault(r.agent, { path: '/evp_proxy/v2/api/intake', status: 403, count: 1 })
  r.llmobs.submitEvaluation(exported, { label: 'refused', metricType: 'boolean', value: false, timestampMs: 3 })
  await r.llmobs.flush()
  e = r.llmobs.stats().evaluations
  assert.equal(e.created, 4)
  assert.equal(e.delivered, 3)
  assert.equal(e.dropped.refused, 1)
  assert.equal(e.pending, 0)
  assert.ok(e.retried >= 1, 'the 503 was retried')
  const s = r.llmobs.stats()
  assert.equal(s.retried, 0, 'evaluation retries are not counted as span-event retries')
  assert.equal(s.created, 1)
  assert.equal(s.dropped.refused, undefined)
  assert.equal(r.agent.counters().evaluations, 3)
  await r.close()
})

test('flush() without a timeout is bounded: an unreachable agent leaves events pending, not a caller waiting', { timeout: 30_000 }, async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const url = agent.url
  await agent.close()
  const tracer = new Tracer({ url, service: 'down', flushIntervalMs: 60_000, samplingRules: [{ sample_rate: 0 }] })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp: 'down', flushIntervalMs: 60_000 })
  await llmobs.trace({ kind: 'task', name: 'nowhere' }, () => {})
  // The default (5 s) must end it; the per-event retry budget (30 s) would outlast the test.
  await llmobs.flush()
  assert.equal(llmobs.stats().pending, 1, 'still owned by the ledger')
  await tracer.shutdown(100)
  await llmobs.disable()
})

test('an APM processor that strips meta_struct from a kept chunk: the event is still delivered, once', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 1 }] })
  r.tracer.addProcessor((spans) => { for (const s of spans) s.metaStruct = undefined; return spans })
  await r.llmobs.trace({ kind: 'llm', name: 'stripped' }, () => {})
  await r.llmobs.flush()
  const s = r.llmobs.stats()
  assert.deepEqual([s.delivered, s.pending, s.rodeTrace, s.rescuedPayloadFailed], [1, 0, 0, 1])
  assert.deepEqual((await stored(r.agent)).map((x) => x.name), ['stripped'])
  await r.close()
})

for (const rate of [0, 1]) {
  test(`an APM processor that copies spans (sample rate ${rate}): each event is sent once, by one path`, async () => {
    log.resetWarnings()
    const r = await rig({ samplingRules: [{ sample_rate: rate }] })
    r.tracer.addProcessor((spans) => spans.map((s) => ({ ...s, meta: { ...s.meta } })))
    for (let i = 0; i < 3; i++) await r.llmobs.trace({ kind: 'workflow', name: `copied-${i}` }, () => r.llmobs.trace({ kind: 'llm', name: `copied-llm-${i}` }, () => {}))
    await r.llmobs.flush()
    const s = r.llmobs.stats()
    assert.deepEqual([s.created, s.delivered, s.pending], [6, 6, 0])
    assert.equal(s.rodeTrace + s.rescuedPredictedDrop, 6, `one hand-over per event: ${JSON.stringify(s)}`)
    const c = r.agent.counters()
    assert.equal(c.llmobs_evp + c.llmobs_extracted, 6, 'the agent received each event once')
    assert.equal(c.duplicates_suppressed, 0)
    assert.deepEqual([...log.internalErrors.keys()], [])
    await r.close()
  })
}

test('disable, then enable without APM: an event still riding an open trace is rescued when its chunk is not exported', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 1 }] })
  const parent = r.tracer.startSpan('http.request')
  let release!: () => void
  const running = r.tracer.activate(parent, () => r.llmobs.trace({ kind: 'llm', name: 'mode-change' }, () => new Promise<void>((resolve) => { release = resolve })))
  await r.llmobs.disable()
  r.llmobs.enable({ mlApp: 'life', flushIntervalMs: 60_000, apmTracingEnabled: false })
  release()
  await running
  parent.finish()
  await r.llmobs.flush()
  const s = r.llmobs.stats()
  assert.deepEqual([s.created, s.delivered, s.pending, s.rescuedPayloadFailed], [1, 1, 0, 1])
  assert.deepEqual((await stored(r.agent)).map((x) => x.name), ['mode-change'])
  await r.close()
})

test('an event that cannot be built (user code broke the span) is counted, not lost', async () => {
  log.resetWarnings()
  const r = await rig()
  await r.llmobs.trace({ kind: 'task', name: 'broken' }, (span) => { Object.defineProperty(span, 'error', { get () { throw new Error('boom') } }) })
  await r.llmobs.trace({ kind: 'task', name: 'fine' }, () => {})
  await r.llmobs.flush()
  const s = r.llmobs.stats()
  assert.deepEqual([s.created, s.delivered, s.pending, s.dropped.encoding_error], [2, 1, 0, 1])
  await r.close()
})
