import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { Tracer } from '../../src/root/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { getJson, request, waitFor } from '../helpers/agent_client.js'
import { startLossyProxy, type LossyProxy } from '../helpers/lossy_proxy.js'

/**
 * The exactly-once matrix (issue 4): how the priority is decided × agent faults. In every cell
 * the local agent must hold exactly the LLM spans created, each once, and llmobs.stats() must add
 * up with nothing pending. Each cell has its own agent, tracer and LLMObs.
 *
 * Every priority is reached by the two ways a trace gets it: -1/2 by a sampling rule or upstream,
 * 0/1 by the agent's `rate_by_service` or upstream. 'answer lost' is the one fault where the agent
 * stores a request whose answer the client never gets (it times out and resends): there the
 * agent's de-duplication keeps the event stored once, and duplicates_suppressed must be > 0.
 * Everywhere else it must be 0. The client's timeouts are fixed (10 s traces, 5 s LLMObs,
 * src/config/defaults.ts), so those cells take that long; cells run in parallel.
 */
interface Decision { label: string, rules?: Array<{ sample_rate: number }>, agentRate?: number, upstream?: string, priorities: number[] }
const DECISIONS: Decision[] = [
  { label: 'rule 0', rules: [{ sample_rate: 0 }], priorities: [-1] },
  { label: 'rule 0.3', rules: [{ sample_rate: 0.3 }], priorities: [-1, 2] },
  { label: 'rule 1', rules: [{ sample_rate: 1 }], priorities: [2] },
  { label: 'agent rate 0', agentRate: 0, priorities: [0] },
  { label: 'agent rate 0.5', agentRate: 0.5, priorities: [0, 1] },
  { label: 'agent rate 1', agentRate: 1, priorities: [1] },
  { label: 'upstream -1', upstream: '-1', priorities: [-1] },
  { label: 'upstream 0', upstream: '0', priorities: [0] },
  { label: 'upstream 1', upstream: '1', priorities: [1] },
  { label: 'upstream 2', upstream: '2', priorities: [2] },
]
const FAULTS = ['none', '503 once', '429', '413', 'agent down', 'answer lost'] as const
type Fault = typeof FAULTS[number]
/** Started first: they wait on client timeouts or an outage, the others fill the gaps. */
const SLOW: Fault[] = ['answer lost', 'agent down']
const TRACES_PER_CELL = 8 // × 3 LLMObs spans each
const PARALLEL = 6

interface Cell { decision: Decision, fault: Fault }

interface CellResult {
  cell: Cell
  created: number
  unique: number
  rows: number
  duplicatesSuppressed: number
  /** Priorities of the APM chunks the agent received (warm-up excluded). */
  priorities: number[]
  lost: number
  stats: ReturnType<LLMObs['stats']>
}

const label = (c: Cell): string => `${c.decision.label} × ${c.fault}`

async function runCell (cell: Cell): Promise<CellResult> {
  const { decision, fault } = cell
  const mlApp = `m-${label(cell).replace(/\W+/g, '')}`
  const dir = mkdtempSync(join(tmpdir(), 'llmobs-matrix-'))
  const db = join(dir, 'agent.db')
  const rates = { 'service:,env:': decision.agentRate ?? 1 }
  let agent: LocalAgent = await startAgent({ port: 0, db, rates })
  const port = agent.port
  let proxy: LossyProxy | undefined
  if (fault === 'answer lost') proxy = await startLossyProxy(agent.url)
  const tracer = new Tracer({ url: proxy?.url ?? agent.url, service: 'matrix', flushIntervalMs: 100, samplingRules: decision.rules })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp, flushIntervalMs: 100 })
  try {
    // Warm-up, before any fault: discovery done, and the agent's rates known to the sampler.
    tracer.trace('warmup', () => {})
    await llmobs.flush()
    if (fault === '503 once') await setFault(agent.url, { path: '/v0.4/traces', status: 503, count: 1 })
    if (fault === '429') await setFault(agent.url, { path: '/v0.4/traces', status: 429, count: 2 })
    if (fault === '413') await setFault(agent.url, { path: '/v0.4/traces', status: 413, count: 1 })
    if (proxy !== undefined) {
      // Lose the first answer on each path the events take: the trace payload they ride, or the
      // LLMObs batch they are rescued into.
      if (decision.priorities.some((p) => p > 0)) proxy.loseNextAnswer('/v0.4/traces')
      if (decision.priorities.some((p) => p <= 0)) proxy.loseNextAnswer('/evp_proxy/')
    }
    if (fault === 'agent down') await agent.close()
    for (let i = 0; i < TRACES_PER_CELL; i++) {
      const childOf = decision.upstream === undefined
        ? undefined
        : tracer.extract({ 'x-datadog-trace-id': String(1_000_000 + i), 'x-datadog-parent-id': '99', 'x-datadog-sampling-priority': decision.upstream })
      await tracer.trace('request', childOf === undefined || childOf === null ? {} : { childOf }, () =>
        llmobs.trace({ kind: 'workflow', name: `flow-${i}` }, async () => {
          await llmobs.trace({ kind: 'llm', name: 'chat', modelName: 'm' }, (span) => llmobs.annotate(span, { inputData: `q${i}`, outputData: 'a', metrics: { inputTokens: 1 } }))
          await llmobs.trace({ kind: 'tool', name: 'lookup' }, () => {})
        }))
    }
    if (fault === 'agent down') {
      // Back only once the outage has done its damage, however slow this machine: a trace payload
      // gave up (its riders were rescued) and the LLMObs writer is retrying.
      await waitFor(() => (tracer.writer?.stats.payloadsFailed ?? 0) > 0 && llmobs.stats().retried > 0, 60_000, `${label(cell)}: the outage to be felt`)
      agent = await startAgent({ port, db, rates })
    }
    await settle(llmobs)
    const { spans } = await getJson<{ spans: Array<{ trace_id: string, span_id: string }> }>(agent.url, `/api/spans?ml_app=${mlApp}&limit=1000`)
    const { chunks } = await getJson<{ chunks: Array<{ root_name: string, priority: number | null }> }>(agent.url, '/api/chunks?limit=1000')
    const c = await getJson<{ duplicates_suppressed: number }>(agent.url, '/api/counters')
    return {
      cell,
      created: llmobs.stats().created,
      unique: new Set(spans.map((s) => `${s.trace_id}/${s.span_id}`)).size,
      rows: spans.length,
      duplicatesSuppressed: c.duplicates_suppressed,
      priorities: [...new Set(chunks.filter((ch) => ch.root_name !== 'warmup').map((ch) => ch.priority ?? NaN))].sort((a, b) => a - b),
      lost: proxy?.lost ?? 0,
      stats: llmobs.stats(),
    }
  } finally {
    await tracer.shutdown()
    await llmobs.disable()
    await proxy?.close()
    await agent.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

/**
 * flush() returns within 5 s by design, with what is left still pending; an outage or a lost
 * answer (a 10 s client timeout, then the resend) can outlast one call. The cap only ends a hung
 * cell, whose assertions then fail on `pending`.
 */
async function settle (llmobs: LLMObs): Promise<void> {
  const cap = Date.now() + 90_000
  await llmobs.flush()
  while (llmobs.stats().pending > 0 && Date.now() < cap) {
    await sleep(50)
    await llmobs.flush()
  }
}

async function setFault (url: string, body: Record<string, unknown>): Promise<void> {
  const r = await request(url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  assert.ok(r.status < 300, `fault accepted: ${r.status}`)
}

/** What must hold in one cell; an empty list means it kept the promise. */
function violations (r: CellResult): string[] {
  const s = r.stats
  const v: string[] = []
  if (r.created !== 3 * TRACES_PER_CELL) v.push(`created ${r.created}`)
  if (r.unique !== r.created) v.push(`${r.unique} unique at the agent for ${r.created} created`)
  if (r.rows !== r.unique) v.push(`stored twice: ${r.rows} rows for ${r.unique} unique`)
  if (s.pending !== 0 || s.delivered !== s.created || Object.keys(s.dropped).length > 0) v.push(`stats ${JSON.stringify(s)}`)
  if (r.cell.fault === 'answer lost') {
    if (r.lost === 0) v.push('no answer was lost')
    if (r.duplicatesSuppressed === 0) v.push('a resend after a lost answer must reach the agent as a suppressed duplicate')
  } else if (r.duplicatesSuppressed !== 0) {
    v.push(`${r.duplicatesSuppressed} duplicates suppressed with no lost answer to explain them`)
  }
  // The priority really came from where the cell says. (With the agent down, every payload
  // carrying the cell's chunks fails by construction: the decision's other cells show it.)
  const seen = r.cell.fault === 'agent down' || r.priorities.length > 0
  if (!seen || !r.priorities.every((p) => r.cell.decision.priorities.includes(p))) {
    v.push(`chunk priorities ${JSON.stringify(r.priorities)}, expected among ${JSON.stringify(r.cell.decision.priorities)}`)
  }
  // A single-priority cell takes exactly its priority's route (DESIGN §4): <= 0 is rescued as a
  // predicted drop before the payload is built, > 0 rides the trace.
  const [only] = r.cell.decision.priorities
  if (r.cell.decision.priorities.length === 1) {
    const want = only <= 0 ? { rode: 0, predicted: r.created } : { rode: r.created, predicted: 0 }
    if (s.rodeTrace !== want.rode || s.rescuedPredictedDrop !== want.predicted || (only <= 0 && s.rescuedPayloadFailed !== 0)) {
      v.push(`routes rode ${s.rodeTrace} / predicted ${s.rescuedPredictedDrop} / failed ${s.rescuedPayloadFailed}, expected rode ${want.rode} / predicted ${want.predicted}`)
    }
  }
  return v
}

test('exactly once: every LLM span created reaches the local agent once, in every cell of the matrix', { timeout: 300_000 }, async (t) => {
  const cells: Cell[] = []
  for (const decision of DECISIONS) for (const fault of FAULTS) cells.push({ decision, fault })
  const queue = [...cells.filter((c) => SLOW.includes(c.fault)), ...cells.filter((c) => !SLOW.includes(c.fault))]
  const results: CellResult[] = []
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    for (let cell = queue.shift(); cell !== undefined; cell = queue.shift()) results.push(await runCell(cell))
  }))
  assert.equal(results.length, DECISIONS.length * FAULTS.length)
  const bad = results.flatMap((r) => violations(r).map((v) => `${label(r.cell)}: ${v}`))
  assert.deepEqual(bad, [])

  // Every route must be exercised for every priority it applies to, or the matrix proves less
  // than it claims: -1 and 0 are rescued as predicted drops; 1 and 2 ride, and ride failed
  // payloads into the rescue.
  const byPriority = new Map<number, { rode: number, predicted: number, failed: number, sources: Set<string> }>()
  for (const r of results) {
    if (r.cell.decision.priorities.length !== 1) continue
    const p = r.cell.decision.priorities[0]
    const acc = byPriority.get(p) ?? { rode: 0, predicted: 0, failed: 0, sources: new Set<string>() }
    acc.rode += r.stats.rodeTrace
    acc.predicted += r.stats.rescuedPredictedDrop
    acc.failed += r.stats.rescuedPayloadFailed
    acc.sources.add(r.cell.decision.label.replace(/ [-\d.]+$/, ''))
    byPriority.set(p, acc)
  }
  for (const [p, acc] of [...byPriority].sort((a, b) => a[0] - b[0])) t.diagnostic(`priority ${p} via ${[...acc.sources].join(' and ')}: rode ${acc.rode}, predicted drop ${acc.predicted}, payload failed ${acc.failed}`)
  assert.deepEqual([...byPriority.keys()].sort(), [-1, 0, 1, 2])
  for (const [p, acc] of byPriority) {
    assert.equal(acc.sources.size, 2, `priority ${p} reached two ways: ${[...acc.sources].join(', ')}`)
    if (p <= 0) assert.ok(acc.predicted > 0 && acc.rode === 0 && acc.failed === 0, `priority ${p}: ${JSON.stringify(acc)}`)
    else assert.ok(acc.rode > 0 && acc.failed > 0 && acc.predicted === 0, `priority ${p}: ${JSON.stringify(acc)}`)
  }
  const lostAnswers = results.filter((r) => r.cell.fault === 'answer lost')
  assert.ok(lostAnswers.every((r) => r.duplicatesSuppressed > 0 && r.rows === r.unique), 'the agent de-duplicated every resend')
})
