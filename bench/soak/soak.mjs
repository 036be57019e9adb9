// `npm run soak` (node --expose-gc bench/soak/soak.mjs): a steady load of traced LLM requests at
// mixed sampling while the local agent — a child process on a loopback port with a SQLite file —
// goes down, restarts, answers 5xx, 429 and 413, stalls past the timeouts and resets
// connections. One tracer and one LLMObs live through every scenario, as in a real service.
//
// Per scenario it reports LLM spans created, unique at the agent, stored twice, the agent's
// duplicates_suppressed, dropped by reason (llmobs.stats()), and the heap after GC; and checks the
// promise (DESIGN §4): nothing stored twice; lost 0 when the outage fits the buffer and retry
// budget; whatever is lost is counted as dropped with a reason; heapUsed after GC at the end
// within 5 MiB of its value after warm-up. Exits 1 when the promise is broken.
//
// Options: --short (the test-suite version: lower rate, shorter scenarios), --json (a last line
// of JSON results), --rate=<requests/s>, --only=<slug,...>.
import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Tracer } from '../../dist/src/root/tracer.js'
import { LLMObs } from '../../dist/src/llmobs/sdk.js'
import { log } from '../../dist/src/diag/logger.js'
import { startAgentProcess } from './agent_process.mjs'
import { LLM_SPANS_PER_REQUEST, SPANS_PER_REQUEST, runLoad } from './load.mjs'
import { buildScenarios } from './scenarios.mjs'

const args = process.argv.slice(2)
const flag = (name) => args.includes(`--${name}`)
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1]

const SHORT = flag('short')
const JSON_OUT = flag('json')
/** Requests per second; each is 4 APM spans, 3 of them LLMObs spans. */
const RATE = Number(option('rate') ?? (SHORT ? 150 : 400))
const ONLY = option('only')?.split(',')
/** A scenario's events must settle (delivered or dropped) within this after its load ends. */
const SETTLE_MAX_MS = 90_000
const HEAP_BUDGET_BYTES = 5 * 1024 * 1024
/** Scenarios before the heap baseline (JIT, caches and pools reach their working size). */
const WARMUP_SCENARIOS = SHORT ? 1 : 2

if (typeof global.gc !== 'function') {
  console.error('soak: run node with --expose-gc (npm run soak does)')
  process.exit(2)
}

// With --json, stdout carries only the JSON line; the human report goes to stderr.
const out = (line = '') => { (JSON_OUT ? process.stderr : process.stdout).write(line + '\n') }
const warnings = []
log.configure({ sink: (level, message) => { warnings.push(`${level}: ${message}`) } })

function freePort () {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)) })
  })
}

function heapAfterGc () {
  global.gc()
  global.gc()
  return process.memoryUsage().heapUsed
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))
const mib = (b) => (b / 1048576).toFixed(1)

const dir = mkdtempSync(join(tmpdir(), 'llmobs-soak-'))
const db = join(dir, 'agent.db')
const port = await freePort()
const url = `http://127.0.0.1:${port}`

let agent
const ctx = {
  async startAgent (caps = {}) {
    if (agent !== undefined) return
    agent = await startAgentProcess({ port, db, caps })
  },
  async killAgent () {
    const a = agent
    agent = undefined
    await a?.kill()
  },
  async restartAgent (caps) {
    const a = agent
    agent = undefined
    await a?.close()
    await ctx.startAgent(caps)
  },
  async fault (body) {
    if (agent === undefined) return
    const r = await fetch(url + '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    if (r.status !== 200) throw new Error(`fault refused: ${r.status} ${await r.text()}`)
  },
  async clearFaults () {
    if (agent !== undefined) await fetch(url + '/api/faults', { method: 'DELETE' }).then((r) => r.text())
  },
  async counters () {
    return (await fetch(url + '/api/counters')).json()
  },
}

const scenarios = buildScenarios({ short: SHORT }).filter((s) => ONLY === undefined || ONLY.includes(s.slug))
const startsDown = scenarios[0]?.startsDown === true
if (!startsDown) await ctx.startAgent()

const tracer = new Tracer({ url, service: 'soak', env: 'soak', samplingRules: [{ sample_rate: 0.5 }] })
const llmobs = new LLMObs(() => tracer)
llmobs.enable({ mlApp: 'soak' })

const started = performance.now()
out(`soak: node ${process.version}, ${RATE} requests/s (${RATE * LLM_SPANS_PER_REQUEST} LLM spans/s, ${RATE * SPANS_PER_REQUEST} spans/s), agent ${url} (child process, SQLite file)${SHORT ? ', short' : ''}`)

const results = []
let baselineHeap
let spansAfterBaseline = 0
for (const [index, s] of scenarios.entries()) {
  const t0 = performance.now()
  const mlApp = `soak-${s.slug}`
  if (s.before !== undefined) await s.before(ctx)
  const before = llmobs.stats()
  const countersBefore = agent === undefined ? undefined : await ctx.counters()
  const loadStart = performance.now()
  const script = (async () => {
    for (const ev of s.timeline) {
      const wait = loadStart + ev.at - performance.now()
      if (wait > 0) await sleep(wait)
      await ev.run(ctx)
    }
  })()
  const load = await runLoad({ tracer, llmobs, mlApp, rate: s.rate ?? RATE, durationMs: s.durationMs })
  await script
  await ctx.clearFaults()
  await ctx.startAgent()
  // Settle: every event of this scenario delivered or dropped.
  const settleStart = performance.now()
  while (llmobs.stats().pending > 0 && performance.now() - settleStart < SETTLE_MAX_MS) await llmobs.flush(5000)
  const settleMs = performance.now() - settleStart
  if (s.after !== undefined) await s.after(ctx)
  const after = llmobs.stats()
  const countersAfter = await ctx.counters()
  const stored = await agent.count(mlApp)
  const heap = heapAfterGc()
  if (index === WARMUP_SCENARIOS - 1) baselineHeap = heap
  if (index >= WARMUP_SCENARIOS) spansAfterBaseline += load.requests * SPANS_PER_REQUEST

  const delta = (k) => after[k] - before[k]
  const dropped = {}
  for (const [reason, n] of Object.entries(after.dropped)) {
    const d = n - (before.dropped[reason] ?? 0)
    if (d > 0) dropped[reason] = d
  }
  const droppedTotal = Object.values(dropped).reduce((a, b) => a + b, 0)
  const created = delta('created')
  const r = {
    scenario: s.name,
    slug: s.slug,
    requests: load.requests,
    skipped: load.skipped,
    created,
    unique: stored.unique,
    storedTwice: stored.rows - stored.unique,
    duplicatesSuppressed: countersAfter.duplicates_suppressed - (countersBefore?.duplicates_suppressed ?? 0),
    delivered: delta('delivered'),
    pending: after.pending,
    dropped,
    lost: created - stored.unique,
    routes: { rodeTrace: delta('rodeTrace'), rescuedPredictedDrop: delta('rescuedPredictedDrop'), rescuedPayloadFailed: delta('rescuedPayloadFailed') },
    retried: delta('retried'),
    heapMiB: Number(mib(heap)),
    settleMs: Math.round(settleMs),
    seconds: Math.round((performance.now() - t0) / 1000),
    fits: s.fits,
    violations: [],
  }
  const v = r.violations
  if (created !== load.requests * LLM_SPANS_PER_REQUEST) v.push(`created ${created}, expected ${load.requests * LLM_SPANS_PER_REQUEST} for ${load.requests} requests`)
  if (r.storedTwice !== 0) v.push(`${r.storedTwice} stored twice`)
  if (r.pending !== 0) v.push(`${r.pending} still pending ${Math.round(SETTLE_MAX_MS / 1000)} s after the load`)
  if (r.unique > created) v.push(`${r.unique - created} events at the agent that were never created`)
  if (r.unique < r.delivered) v.push(`${r.delivered - r.unique} counted delivered but not stored`)
  if (r.lost > droppedTotal) v.push(`${r.lost - droppedTotal} lost without being counted as dropped`)
  if (s.fits && (r.lost !== 0 || droppedTotal !== 0)) v.push(`outage fits the buffer, yet lost ${r.lost}, dropped ${JSON.stringify(dropped)}`)
  if (!s.dupAllowed && r.duplicatesSuppressed !== 0) v.push(`agent suppressed ${r.duplicatesSuppressed} duplicates with no timeout or crash to explain them`)
  results.push(r)
  out(`  ${s.name}: ${r.requests} requests${r.skipped > 0 ? ` (${r.skipped} skipped: the loop fell behind)` : ''}, ${created} LLM spans, ${r.unique} unique at the agent, settled in ${(settleMs / 1000).toFixed(1)} s${v.length > 0 ? ' — VIOLATED: ' + v.join('; ') : ''}`)
}

await tracer.shutdown()
await llmobs.disable()
const finalHeap = heapAfterGc()
await agent?.close()
rmSync(dir, { recursive: true, force: true })

const elapsedS = Math.round((performance.now() - started) / 1000)
const heapGrowth = baselineHeap === undefined ? 0 : finalHeap - baselineHeap
const heapOk = baselineHeap === undefined || Math.abs(heapGrowth) <= HEAP_BUDGET_BYTES
const heapClaim = !SHORT && spansAfterBaseline >= 200_000

const fmtDropped = (d) => Object.keys(d).length === 0 ? '0' : Object.entries(d).map(([k, n]) => `${k}: ${n}`).join(', ')
out('')
out('| scenario | LLM spans created | unique at agent | stored twice | agent duplicates_suppressed | lost | dropped (llmobs.stats) | routes rode / predicted drop / payload failed | retries | heap after GC | promise |')
out('|---|---:|---:|---:|---:|---:|---|---|---:|---:|---|')
for (const r of results) {
  out(`| ${r.scenario} | ${r.created} | ${r.unique} | ${r.storedTwice} | ${r.duplicatesSuppressed} | ${r.lost} | ${fmtDropped(r.dropped)} | ${r.routes.rodeTrace} / ${r.routes.rescuedPredictedDrop} / ${r.routes.rescuedPayloadFailed} | ${r.retried} | ${r.heapMiB} MiB | ${r.violations.length === 0 ? (r.fits ? 'kept' : 'kept (drops counted)') : 'BROKEN'} |`)
}
out('')
out(`heap (heapUsed after global.gc()): ${baselineHeap === undefined ? 'n/a' : mib(baselineHeap)} MiB after warm-up, ${mib(finalHeap)} MiB at the end ` +
  `(${heapGrowth >= 0 ? '+' : ''}${mib(heapGrowth)} MiB over ${spansAfterBaseline} spans; budget ±5 MiB${heapClaim ? '' : ', fewer than 200k spans: indicative only'})`)
out(`took ${elapsedS} s; ${warnings.length} warning(s) from the tracer${warnings.length > 0 ? ':' : ''}`)
for (const w of warnings) out(`  ${w}`)
const internal = [...log.internalErrors]
if (internal.length > 0) out(`internal errors caught: ${internal.map(([k, n]) => `${k} ×${n}`).join(', ')}`)

const broken = results.filter((r) => r.violations.length > 0)
const ok = broken.length === 0 && heapOk && internal.length === 0
if (!heapOk) out(`BROKEN: heap grew by ${mib(heapGrowth)} MiB (budget 5 MiB)`)
if (internal.length > 0) out('BROKEN: internal errors were caught (bugs)')
if (JSON_OUT) console.log(JSON.stringify({ ok, rate: RATE, elapsedS, baselineHeap, finalHeap, heapGrowth, spansAfterBaseline, results, warnings, internalErrors: internal }))
process.exitCode = ok ? 0 : 1
