import { test } from 'node:test'
import assert from 'node:assert/strict'
import { defaultTextMapGetter, ROOT_CONTEXT, SpanKind, trace, type Context } from '@opentelemetry/api'
import { startAgent } from '../../src/agent/start_agent.js'
import { Tracer } from '../../src/root/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { enableOtel } from '../../src/otel/enable.js'
import { getJson, request } from '../helpers/agent_client.js'

/**
 * The exactly-once matrix, reduced, with OTel SERVER spans as the local roots (issue 12): each
 * trace is an OTel server span started through the bridge, holding our LLMObs workflow and llm
 * spans and an OTel GenAI chat span. Sampling × agent faults; in every cell the local agent must
 * hold each LLM span created exactly once and llmobs.stats() must add up with nothing pending.
 * Each cell has its own agent, tracer, LLMObs and bridge (only the first bridge is the global
 * one: cells use their bridge's provider and propagator directly).
 */
interface Decision { label: string, agentRate?: number, upstream?: string, priorities: number[] }
const DECISIONS: Decision[] = [
  { label: 'keep', agentRate: 1, priorities: [1] },
  { label: 'drop', agentRate: 0, priorities: [0] },
  { label: 'upstream 0', upstream: '0', priorities: [0] },
  { label: 'upstream 2', upstream: '2', priorities: [2] },
]
const FAULTS = ['ok', '500', 'drop connection'] as const
type Fault = typeof FAULTS[number]
const TRACES_PER_CELL = 6 // × 3 LLMObs spans each
const PARALLEL = 4

interface Cell { decision: Decision, fault: Fault }
const label = (c: Cell): string => `${c.decision.label} × ${c.fault}`

type Stored = { trace_id: string, span_id: string, kind: string, name: string, event: { parent_id: string, span_id: string } }

async function setFault (url: string, body: Record<string, unknown>): Promise<void> {
  const r = await request(url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  assert.ok(r.status < 300, `fault accepted: ${r.status}`)
}

async function runCell (cell: Cell): Promise<string[]> {
  const { decision, fault } = cell
  const mlApp = `o-${label(cell).replace(/\W+/g, '')}`
  const agent = await startAgent({ port: 0, db: ':memory:', rates: { 'service:,env:': decision.agentRate ?? 1 } })
  const tracer = new Tracer({ url: agent.url, service: 'otel-matrix', flushIntervalMs: 100 })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp, flushIntervalMs: 100 })
  const bridge = enableOtel(tracer, { llmobs })
  const otel = bridge.provider.getTracer('matrix')
  try {
    // Warm-up, before any fault: discovery done, the agent's rates known to the sampler.
    tracer.trace('warmup', () => {})
    await llmobs.flush()
    // Each fault hits the first request on both routes an event can take: riding the trace, or rescued.
    for (const path of ['/v0.4/traces', '/evp_proxy/']) {
      if (fault === '500') await setFault(agent.url, { path, status: 500, count: 1 })
      if (fault === 'drop connection') await setFault(agent.url, { path, reset: true, count: 1 })
    }
    for (let i = 0; i < TRACES_PER_CELL; i++) {
      let parent: Context = ROOT_CONTEXT
      if (decision.upstream !== undefined) {
        const carrier = { 'x-datadog-trace-id': String(2_000_000 + i), 'x-datadog-parent-id': '77', 'x-datadog-sampling-priority': decision.upstream }
        parent = bridge.propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter)
        assert.ok(trace.getSpan(parent) !== undefined, 'the upstream context was extracted')
      }
      await otel.startActiveSpan('POST /chat', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'POST', 'http.route': '/chat' } }, parent, async (server) => {
        await llmobs.trace({ kind: 'workflow', name: `flow-${i}` }, async () => {
          await llmobs.trace({ kind: 'llm', name: 'ours', modelName: 'm' }, (span) => llmobs.annotate(span, { inputData: `q${i}`, outputData: 'a' }))
          otel.startSpan('chat m', { kind: SpanKind.CLIENT, attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'm', 'gen_ai.usage.input_tokens': 1 } }).end()
        })
        server.end()
      })
    }
    const cap = Date.now() + 40_000
    await llmobs.flush()
    while (llmobs.stats().pending > 0 && Date.now() < cap) await llmobs.flush()
    const { spans } = await getJson<{ spans: Stored[] }>(agent.url, `/api/spans?ml_app=${mlApp}&limit=1000`)
    const { chunks } = await getJson<{ chunks: Array<{ root_name: string, priority: number | null }> }>(agent.url, '/api/chunks?limit=1000')
    const c = await getJson<{ duplicates_suppressed: number, faults_injected: number }>(agent.url, '/api/counters')
    const s = llmobs.stats()
    const v: string[] = []
    const created = 3 * TRACES_PER_CELL
    const unique = new Set(spans.map((x) => `${x.trace_id}/${x.span_id}`)).size
    if (s.created !== created) v.push(`created ${s.created}`)
    if (unique !== created) v.push(`${unique} unique at the agent for ${created} created (lost)`)
    if (spans.length !== unique) v.push(`stored twice: ${spans.length} rows for ${unique} unique`)
    // The fault really happened: the trace payload after the warm-up was refused or cut.
    if (fault !== 'ok' && c.faults_injected < 1) v.push('no fault was injected')
    if (c.duplicates_suppressed !== 0) v.push(`${c.duplicates_suppressed} duplicates suppressed with no lost answer`)
    if (s.pending !== 0 || s.delivered !== s.created || Object.keys(s.dropped).length > 0) v.push(`stats ${JSON.stringify(s)}`)
    // The OTel GenAI span nests under our workflow, itself the LLMObs root of its trace.
    const flows = spans.filter((x) => x.kind === 'workflow')
    const chats = spans.filter((x) => x.name.startsWith('chat'))
    if (chats.length !== TRACES_PER_CELL || !chats.every((ch) => flows.some((f) => f.event.span_id === ch.event.parent_id))) v.push('OTel chat spans not under our workflows')
    // The local roots are the OTel server spans, and the priority came from where the cell says.
    const roots = chunks.filter((ch) => ch.root_name !== 'warmup')
    if (fault === 'ok' && roots.length !== TRACES_PER_CELL) v.push(`${roots.length} chunks at the agent`)
    if (!roots.every((ch) => ch.root_name === 'http.server.request')) v.push(`chunk roots ${JSON.stringify([...new Set(roots.map((ch) => ch.root_name))])}`)
    const priorities = [...new Set(roots.map((ch) => ch.priority ?? NaN))]
    if (!priorities.every((p) => decision.priorities.includes(p))) v.push(`chunk priorities ${JSON.stringify(priorities)}`)
    const [only] = decision.priorities
    if (only <= 0 && (s.rodeTrace !== 0 || s.rescuedPredictedDrop !== created)) v.push(`a dropped trace's spans must be rescued as predicted drops: ${JSON.stringify(s)}`)
    if (only > 0 && fault === 'ok' && s.rodeTrace !== created) v.push(`a kept trace's spans must ride it: ${JSON.stringify(s)}`)
    return v.map((x) => `${label(cell)}: ${x}`)
  } finally {
    await tracer.shutdown()
    await llmobs.disable()
    await agent.close()
  }
}

test('exactly once with OTel server spans as local roots: sampling × agent faults, 0 lost, 0 stored twice, the ledger adds up', { timeout: 120_000 }, async () => {
  const queue: Cell[] = []
  for (const decision of DECISIONS) for (const fault of FAULTS) queue.push({ decision, fault })
  const total = queue.length
  const bad: string[] = []
  let ran = 0
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    for (let cell = queue.shift(); cell !== undefined; cell = queue.shift()) { bad.push(...await runCell(cell)); ran++ }
  }))
  assert.equal(ran, total)
  assert.deepEqual(bad, [])
})
