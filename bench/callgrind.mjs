// Instructions per op for the first four questions of issue 16 (root span, 10-span trace, and
// both through the OTel API), every subject in its own process under
// `valgrind --tool=callgrind`, as the difference between a long and a short run so start-up,
// module loading and JIT warm-up cancel. Wall-clock time on a shared machine swings 2× between
// runs; instruction counts do not. Also: does enabling LLM Observability tax plain APM spans?
//
// `node bench/callgrind.mjs` (after `npm run build`; bench/run.mjs calls it unless
// BENCH_SKIP_CALLGRIND=1). BENCH_AGENT_URL: a null agent to use (else one is started here).
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))

// Short and long run lengths: the long one's extra ops are what is counted. Sized so a long run
// takes seconds, not minutes, under valgrind's ~50× slow-down.
const QUESTIONS = [
  { title: 'root span start+finish, 5 tags (full pipeline to a null agent)', file: 'subjects/spans.mjs', arg: 'root-span', subjects: ['llmobs-ts', 'dd-trace', 'otel'], short: 2000, long: 12_000, target: { peer: 'dd-trace', max: 0.5 } },
  { title: '10-span trace (full pipeline to a null agent)', file: 'subjects/spans.mjs', arg: 'trace-10', subjects: ['llmobs-ts', 'dd-trace', 'otel'], short: 400, long: 2400, target: { peer: 'dd-trace', max: 0.5 } },
  { title: 'OTel API: root span, 5 attributes (our bridge; OTel SDK, null exporter; dd-trace\'s bridge)', file: 'subjects/otel_bridge.mjs', arg: 'root-span', subjects: ['llmobs-ts', 'otel-sdk', 'dd-trace'], short: 2000, long: 12_000, target: { peer: 'otel-sdk', max: 1.0 } },
  { title: 'OTel API: 10-span trace (same three)', file: 'subjects/otel_bridge.mjs', arg: 'trace-10', subjects: ['llmobs-ts', 'otel-sdk', 'dd-trace'], short: 400, long: 2400, target: { peer: 'otel-sdk', max: 1.0 } },
]

let valgrind = true
try { execFileSync('valgrind', ['--version'], { stdio: 'ignore' }) } catch { valgrind = false }
if (!valgrind) {
  console.log('## Instruction counts: skipped (valgrind not installed)\n')
  process.exit(0)
}

let agentProc
let AGENT_URL = process.env.BENCH_AGENT_URL
if (AGENT_URL === undefined) {
  agentProc = spawn(process.execPath, [join(here, 'lib/null_agent.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] })
  AGENT_URL = await new Promise((resolve) => agentProc.stdout.once('data', (d) => resolve(String(d).trim())))
}

async function received () {
  const res = await fetch(`${AGENT_URL}/bench/received`)
  return res.json()
}

/** Instructions of one process under callgrind, and the trace bytes the null agent got from it. */
async function counted (script, args) {
  const before = await received()
  // One thread and a predictable GC schedule: otherwise background compiler and GC threads make
  // the count depend on timing, which is what callgrind is here to avoid.
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--single-threaded', '--predictable-gc-schedule', join(here, script), ...args],
    { encoding: 'utf8', env: { ...process.env, BENCH_AGENT_URL: AGENT_URL }, timeout: 900_000 })
  const m = /Collected : (\d+)/.exec(r.stderr)
  if (m === null || r.status !== 0) throw new Error(`${script} ${args.join(' ')}: no instruction count (status ${r.status}):\n${r.stderr.slice(-800)}`)
  const after = await received()
  return { ir: Number(m[1]), bytes: after.bytes - before.bytes }
}

const started = Date.now()
console.log('# Instruction counts (valgrind callgrind, `node --single-threaded --predictable-gc-schedule`)\n')
console.log('Instructions per op = (long run − short run) ÷ extra ops; each run ends with a flush and waits for the send, so encoding and shipping are counted. "shipped" is the trace bytes per op the null agent received (the OTel SDK\'s null exporter ships nothing).\n')
for (const q of QUESTIONS) {
  const rows = {}
  for (const s of q.subjects) {
    const short = await counted(q.file, [s, q.arg, String(q.short)])
    const long = await counted(q.file, [s, q.arg, String(q.long)])
    const ops = q.long - q.short
    rows[s] = { perOp: (long.ir - short.ir) / ops, bytesPerOp: (long.bytes - short.bytes) / ops }
  }
  const ours = rows['llmobs-ts'].perOp
  console.log(`## ${q.title} — instructions (${q.long} − ${q.short} ops)`)
  console.log('| subject | instructions / op | llmobs-ts ÷ subject | shipped (bytes / op) |')
  console.log('|---|---|---|---|')
  for (const s of q.subjects) {
    console.log(`| ${s} | ${Math.round(rows[s].perOp)} | ${s === 'llmobs-ts' ? '—' : (ours / rows[s].perOp).toFixed(2) + '×'} | ${rows[s].bytesPerOp.toFixed(0)} |`)
  }
  const ratio = ours / rows[q.target.peer].perOp
  console.log(`\ntarget ≤ ${q.target.max}× ${q.target.peer} (instructions): ${ratio.toFixed(2)}× ${ratio <= q.target.max ? 'MET' : 'NOT MET'}\n`)
}

// Does enabling LLM Observability tax plain APM spans?
const perTrace = {}
for (const mode of ['off', 'on']) {
  const short = await counted('subjects/apm_overhead.mjs', [mode, '10000'])
  const long = await counted('subjects/apm_overhead.mjs', [mode, '40000'])
  perTrace[mode] = (long.ir - short.ir) / 30_000
}
console.log('## LLMObs enabled vs plain APM spans — instructions per 2-span trace (40k − 10k traces)')
console.log('| LLMObs | instructions / trace | ratio to off |')
console.log('|---|---|---|')
console.log(`| off | ${Math.round(perTrace.off)} | — |`)
console.log(`| on | ${Math.round(perTrace.on)} | ${(perTrace.on / perTrace.off).toFixed(3)}× |`)
console.log(`\n(instruction counts took ${((Date.now() - started) / 60_000).toFixed(1)} min)\n`)
agentProc?.kill()
