import { test } from 'node:test'
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { startAgent } from '../../src/agent/start_agent.js'
import { Tracer } from '../../src/root/tracer.js'
import type { TracerOptions } from '../../src/config/tracer_config.js'
import type { Span } from '../../src/trace/span.js'
import { LLMObs, type ExportedSpan } from '../../src/llmobs/sdk.js'
import { getJson, request } from '../helpers/agent_client.js'

/**
 * The exactly-once matrix, second axis (issue 10): how the priority is decided × what the
 * application does with its traces and the SDK × a failing trace payload or not. Every cell has
 * its own local agent; in every cell each LLM span created (and not dropped by the user's own
 * processor) is stored once, nothing stays pending, and evaluations add up the same way.
 */
interface Decision { label: string, rules?: Array<{ sample_rate: number }>, agentRate?: number, upstream?: string }
const DECISIONS: Decision[] = [
  { label: 'rule 0', rules: [{ sample_rate: 0 }] },
  { label: 'rule 0.3', rules: [{ sample_rate: 0.3 }] },
  { label: 'rule 1', rules: [{ sample_rate: 1 }] },
  { label: 'agent rate 0', agentRate: 0 },
  { label: 'agent rate 1', agentRate: 1 },
  { label: 'upstream -1', upstream: '-1' },
  { label: 'upstream 2', upstream: '2' },
]
const LIFECYCLES = ['plain', 'partial flush', 'open at flush', 'open evicted', 'apm filter', 'event processor', 'disable/enable', 'evaluations'] as const
type Lifecycle = typeof LIFECYCLES[number]
/** 503 is retried (the payload gets through late); 400 refuses it (its events are rescued). */
const FAULTS = ['none', '503 once', '400 once'] as const
const TRACES = 6 // × 3 LLMObs spans
const PARALLEL = 6

interface Cell { decision: Decision, lifecycle: Lifecycle, fault: typeof FAULTS[number] }
const label = (c: Cell): string => `${c.decision.label} × ${c.lifecycle} × ${c.fault}`

async function runCell (cell: Cell): Promise<string[]> {
  const { decision, lifecycle } = cell
  const agent = await startAgent({ port: 0, db: ':memory:', rates: { 'service:,env:': decision.agentRate ?? 1 } })
  const tracerOpts: TracerOptions = { url: agent.url, service: 'life-matrix', flushIntervalMs: 100, samplingRules: decision.rules }
  if (lifecycle === 'partial flush') tracerOpts.partialFlushMinSpans = 2
  if (lifecycle === 'open evicted') tracerOpts.maxOpenTraces = 2
  const tracer = new Tracer(tracerOpts)
  const llmobs = new LLMObs(() => tracer)
  const mlApp = 'cell'
  llmobs.enable({ mlApp, flushIntervalMs: 100 })
  const exported: ExportedSpan[] = []
  try {
    tracer.trace('warmup', () => {})
    await llmobs.flush()
    if (cell.fault === '503 once') await setFault(agent.url, { path: '/v0.4/traces', status: 503, count: 1 })
    if (cell.fault === '400 once') await setFault(agent.url, { path: '/v0.4/traces', status: 400, count: 1 })
    if (lifecycle === 'apm filter') tracer.addProcessor((spans) => spans.filter((s) => s.name !== 'lookup'))
    if (lifecycle === 'event processor') {
      llmobs.registerProcessor((e) => {
        if (e.name === 'lookup') return null
        e.tags.push('edited:in-place')
        return undefined
      })
    }
    const open: Span[] = []
    for (let i = 0; i < TRACES; i++) {
      const childOf = decision.upstream === undefined
        ? undefined
        : tracer.extract({ 'x-datadog-trace-id': String(2_000_000 + i), 'x-datadog-parent-id': '99', 'x-datadog-sampling-priority': decision.upstream }) ?? undefined
      const root = tracer.startSpan('request', { childOf })
      await tracer.activate(root, () => llmobs.trace({ kind: 'workflow', name: `flow-${i}` }, async () => {
        if (lifecycle === 'disable/enable') {
          // A cycle while this trace's workflow runs: its event is built by a disabled core.
          await llmobs.disable()
          llmobs.enable({ mlApp, flushIntervalMs: 100 })
        }
        await llmobs.trace({ kind: 'llm', name: 'chat', modelName: 'm' }, (span) => {
          llmobs.annotate(span, { inputData: `q${i}`, outputData: 'a' })
          if (lifecycle === 'evaluations') exported.push(llmobs.exportSpan(span) as ExportedSpan)
        })
        await llmobs.trace({ kind: 'tool', name: 'lookup' }, () => {})
      }))
      if (lifecycle === 'open at flush' || lifecycle === 'open evicted') open.push(root)
      else root.finish()
    }
    for (const [n, e] of exported.entries()) llmobs.submitEvaluation(e, { label: 'score', metricType: 'score', value: n, timestampMs: 1000 + n })
    const v: string[] = []
    if (lifecycle === 'open at flush') {
      await llmobs.flush()
      const early = llmobs.stats()
      if (early.pending !== 0 || early.delivered !== early.created) v.push(`flush with the parents open left ${early.pending} pending`)
    }
    for (const root of open) root.finish()
    await settle(llmobs)

    const s = llmobs.stats()
    const droppedByUser = s.dropped.user_processor ?? 0
    const { spans } = await getJson<{ spans: Array<{ trace_id: string, span_id: string, event: { tags?: string[] } }> }>(agent.url, `/api/spans?ml_app=${mlApp}&limit=1000`)
    const unique = new Set(spans.map((x) => `${x.trace_id}/${x.span_id}`)).size
    if (s.created !== 3 * TRACES) v.push(`created ${s.created}`)
    if (lifecycle === 'event processor' && droppedByUser !== TRACES) v.push(`user processor dropped ${droppedByUser}`)
    if (s.pending !== 0 || s.delivered + droppedByUser !== s.created || Object.keys(s.dropped).some((k) => k !== 'user_processor')) v.push(`stats ${JSON.stringify(s)}`)
    if (unique !== s.delivered) v.push(`${unique} unique at the agent for ${s.delivered} delivered`)
    if (spans.length !== unique) v.push(`stored twice: ${spans.length} rows for ${unique}`)
    if (agent.counters().duplicates_suppressed !== 0) v.push(`${agent.counters().duplicates_suppressed} duplicates suppressed`)
    if (lifecycle === 'event processor' && !spans.every((x) => x.event.tags?.includes('edited:in-place') === true)) v.push('an in-place edit was lost')
    const e = s.evaluations
    const wantEvals = lifecycle === 'evaluations' ? TRACES : 0
    if (e.created !== wantEvals || e.delivered !== wantEvals || e.pending !== 0) v.push(`evaluations ${JSON.stringify(e)}`)
    if (agent.counters().evaluations !== wantEvals) v.push(`${agent.counters().evaluations} evaluations at the agent`)
    return v
  } finally {
    await tracer.shutdown()
    await llmobs.disable()
    await agent.close()
  }
}

async function setFault (url: string, body: Record<string, unknown>): Promise<void> {
  const r = await request(url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  assert.ok(r.status < 300, `fault accepted: ${r.status}`)
}

/** flush() is bounded (5 s); a retried payload can outlast one call. The cap only ends a hung cell. */
async function settle (llmobs: LLMObs): Promise<void> {
  const cap = Date.now() + 60_000
  await llmobs.flush()
  while ((llmobs.stats().pending > 0 || llmobs.stats().evaluations.pending > 0) && Date.now() < cap) {
    await sleep(50)
    await llmobs.flush()
  }
}

test('exactly once through every lifecycle: priority decision × what the app does × a failing payload', { timeout: 300_000 }, async () => {
  const queue: Cell[] = []
  for (const decision of DECISIONS) for (const lifecycle of LIFECYCLES) for (const fault of FAULTS) queue.push({ decision, lifecycle, fault })
  const total = queue.length
  const bad: string[] = []
  let done = 0
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    for (let cell = queue.shift(); cell !== undefined; cell = queue.shift()) {
      const c = cell
      bad.push(...(await runCell(c)).map((v) => `${label(c)}: ${v}`))
      done++
    }
  }))
  assert.equal(done, total)
  assert.deepEqual(bad, [])
})
