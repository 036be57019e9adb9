import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { Tracer } from '../../src/trace/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { getJson, request } from '../helpers/agent_client.js'

/**
 * The exactly-once matrix (issue 4): sampling × upstream priority × agent faults. In every cell
 * the local agent must hold exactly the LLM spans created, each once, and llmobs.stats() must add
 * up with nothing pending after flush. Each cell has its own agent, tracer and LLMObs.
 */
const RATES = [0, 0.3, 1] as const
const UPSTREAM = ['none', '-1', '2'] as const
const FAULTS = ['none', '503 once', '429', '413', 'agent down 2 s'] as const
const TRACES_PER_CELL = 8 // × 3 LLMObs spans each
const PARALLEL = 5

type Cell = { rate: number, upstream: typeof UPSTREAM[number], fault: typeof FAULTS[number] }

interface CellResult { created: number, unique: number, rows: number, duplicatesSuppressed: number, stats: ReturnType<LLMObs['stats']>, label: string }

async function runCell (cell: Cell): Promise<CellResult> {
  const label = `rate=${cell.rate} upstream=${cell.upstream} fault=${cell.fault}`
  const mlApp = `m-${cell.rate}-${cell.upstream}-${cell.fault.replace(/\W+/g, '')}`
  const dir = mkdtempSync(join(tmpdir(), 'llmobs-matrix-'))
  const db = join(dir, 'agent.db')
  let agent: LocalAgent = await startAgent({ port: 0, db })
  const port = agent.port
  const tracer = new Tracer({ url: agent.url, service: 'matrix', flushIntervalMs: 100, samplingRules: [{ sample_rate: cell.rate }] })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp, flushIntervalMs: 100 })
  await llmobs.flush() // discovery done before faults start
  try {
    if (cell.fault === '503 once') await fault(agent.url, { path: '/v0.4/traces', status: 503, count: 1 })
    if (cell.fault === '429') await fault(agent.url, { path: '/v0.4/traces', status: 429, count: 2 })
    if (cell.fault === '413') await fault(agent.url, { path: '/v0.4/traces', status: 413, count: 1 })
    let restart: Promise<void> | undefined
    if (cell.fault === 'agent down 2 s') {
      await agent.close()
      restart = new Promise((resolve, reject) => setTimeout(() => {
        startAgent({ port, db }).then((a) => { agent = a; resolve() }, reject)
      }, 2000))
    }
    for (let i = 0; i < TRACES_PER_CELL; i++) {
      const childOf = cell.upstream === 'none'
        ? undefined
        : tracer.extract({ 'x-datadog-trace-id': String(1_000_000 + i), 'x-datadog-parent-id': '99', 'x-datadog-sampling-priority': cell.upstream })
      await tracer.trace('request', childOf === undefined || childOf === null ? {} : { childOf }, () =>
        llmobs.trace({ kind: 'workflow', name: `flow-${i}` }, async () => {
          await llmobs.trace({ kind: 'llm', name: 'chat', modelName: 'm' }, (span) => llmobs.annotate(span, { inputData: `q${i}`, outputData: 'a', metrics: { inputTokens: 1 } }))
          await llmobs.trace({ kind: 'tool', name: 'lookup' }, () => {})
        }))
    }
    await llmobs.flush()
    await restart
    await llmobs.flush()
    const { spans } = await getJson<{ spans: Array<{ trace_id: string, span_id: string }> }>(agent.url, `/api/spans?ml_app=${mlApp}&limit=1000`)
    const unique = new Set(spans.map((s) => `${s.trace_id}/${s.span_id}`)).size
    const c = await getJson<{ duplicates_suppressed: number }>(agent.url, '/api/counters')
    return { created: llmobs.stats().created, unique, rows: spans.length, duplicatesSuppressed: c.duplicates_suppressed, stats: llmobs.stats(), label }
  } finally {
    await tracer.shutdown()
    await llmobs.disable()
    await agent.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

async function fault (url: string, body: Record<string, unknown>): Promise<void> {
  const r = await request(url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
  assert.ok(r.status < 300, `fault accepted: ${r.status}`)
}

test('exactly once: every LLM span created reaches the local agent once, in every cell of the matrix', { timeout: 240_000 }, async () => {
  const cells: Cell[] = []
  for (const rate of RATES) for (const upstream of UPSTREAM) for (const f of FAULTS) cells.push({ rate, upstream, fault: f })
  const results: CellResult[] = []
  const queue = [...cells]
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    for (let cell = queue.shift(); cell !== undefined; cell = queue.shift()) results.push(await runCell(cell))
  }))
  assert.equal(results.length, 45)
  const bad: string[] = []
  let routes = { rode: 0, predicted: 0, failed: 0 }
  for (const r of results) {
    const s = r.stats
    const ok = r.created === 3 * TRACES_PER_CELL && r.unique === r.created && r.rows === r.unique &&
      r.duplicatesSuppressed === 0 && s.pending === 0 && s.delivered === s.created && Object.keys(s.dropped).length === 0
    if (!ok) bad.push(`${r.label}: created ${r.created}, unique at agent ${r.unique}, rows ${r.rows}, dup-suppressed ${r.duplicatesSuppressed}, stats ${JSON.stringify(s)}`)
    routes = { rode: routes.rode + s.rodeTrace, predicted: routes.predicted + s.rescuedPredictedDrop, failed: routes.failed + s.rescuedPayloadFailed }
  }
  assert.deepEqual(bad, [])
  // The matrix must exercise every route, or it proves less than it claims.
  assert.ok(routes.rode > 0 && routes.predicted > 0 && routes.failed > 0, JSON.stringify(routes))
})
