// Instructions per op for the first four questions of issue 16 (root span, 10-span trace, and
// both through the OTel API), every subject in its own process under
// `valgrind --tool=callgrind`, as the difference between a long and a short run so start-up,
// module loading and JIT warm-up cancel. Wall-clock time on a shared machine swings 2× between
// runs; instruction counts do not. Also: does enabling LLM Observability tax plain APM spans?
//
// `node bench/callgrind.mjs` (after `npm run build`; bench/run.mjs calls it unless
// BENCH_SKIP_CALLGRIND=1). BENCH_CALLGRIND_JOBS: runs at once (default 2).
import http from 'node:http'
import { execFileSync, spawn } from 'node:child_process'
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

// BENCH_CALLGRIND_WINDOW=steady counts a later window instead: from the default long run to two
// more of its extra ops beyond it (root span 12,000 → 32,000). The default window still holds
// much of V8's optimising compilation (a traced 12,000-op root-span run does ~70 TurboFan
// compiles and 16 deopts, the 2,000-op one 40 and 5), so it measures warm-up as much as per-op
// work; the steady window is what a long-running service pays per span. Both are reported.
if (process.env.BENCH_CALLGRIND_WINDOW === 'steady') {
  for (const q of QUESTIONS) [q.short, q.long] = [q.long, q.long + 2 * (q.long - q.short)]
}

let valgrind = true
try { execFileSync('valgrind', ['--version'], { stdio: 'ignore' }) } catch { valgrind = false }
if (!valgrind) {
  console.log('## Instruction counts: skipped (valgrind not installed)\n')
  process.exit(0)
}

const started = Date.now()
// Runs go JOBS at a time, each slot with its own null agent, so the bytes an agent received
// belong to one run. Counts do not depend on how many run at once; only the wall time does.
const JOBS = Math.max(1, Number(process.env.BENCH_CALLGRIND_JOBS ?? 2))
const agents = []
for (let i = 0; i < JOBS; i++) {
  const proc = spawn(process.execPath, [join(here, 'lib/null_agent.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] })
  const url = await new Promise((resolve) => proc.stdout.once('data', (d) => resolve(String(d).trim())))
  agents.push({ proc, url })
}
process.on('exit', () => { for (const a of agents) a.proc.kill() })

function received (url) {
  return new Promise((resolve, reject) => {
    http.get(`${url}/bench/received`, { agent: false }, (res) => {
      let body = ''
      res.on('data', (d) => { body += d })
      res.on('end', () => resolve(JSON.parse(body)))
    }).on('error', reject)
  })
}

/** Instructions of one process under callgrind, and the trace bytes the null agent got from it. */
async function counted (agentUrl, script, args) {
  const before = await received(agentUrl)
  // One thread and a predictable GC schedule: otherwise background compiler and GC threads make
  // the count depend on timing, which is what callgrind is here to avoid.
  const child = spawn('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--single-threaded', '--predictable-gc-schedule', join(here, script), ...args],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, BENCH_AGENT_URL: agentUrl } })
  let stderr = ''
  child.stderr.on('data', (d) => { stderr += d })
  const status = await new Promise((resolve) => child.once('close', resolve))
  const m = /Collected : (\d+)/.exec(stderr)
  if (m === null || status !== 0) throw new Error(`${script} ${args.join(' ')}: no instruction count (status ${status}):\n${stderr.slice(-800)}`)
  const after = await received(agentUrl)
  return { ir: Number(m[1]), bytes: after.bytes - before.bytes }
}

/** Every run of `tasks` ({ script, args }), JOBS at a time; results in the tasks' order. */
async function countAll (tasks) {
  const out = new Array(tasks.length)
  let next = 0
  await Promise.all(agents.map(async ({ url }) => {
    while (next < tasks.length) {
      const i = next++
      out[i] = await counted(url, tasks[i].script, tasks[i].args)
      process.stderr.write(`[callgrind] ${tasks[i].script} ${tasks[i].args.join(' ')}: ${out[i].ir} instructions, ${out[i].bytes} bytes shipped (${((Date.now() - started) / 60_000).toFixed(1)} min)\n`)
    }
  }))
  return out
}

console.log('# Instruction counts (valgrind callgrind, `node --single-threaded --predictable-gc-schedule`)\n')
console.log('Instructions per op = (long run − short run) ÷ extra ops; each run ends with a flush and waits for the send, so encoding and shipping are counted. "shipped" is the trace bytes per op the null agent received (the OTel SDK\'s null exporter ships nothing).\n')
// Question by question, so each table is printed as soon as its runs are done.
// BENCH_CALLGRIND_ONLY=1,3 runs those questions only (1–4; 5 is LLMObs on vs off).
const ONLY = process.env.BENCH_CALLGRIND_ONLY?.split(',').map(Number)
const wanted = (n) => ONLY === undefined || ONLY.includes(n)
for (const [qi, q] of QUESTIONS.entries()) {
  if (!wanted(qi + 1)) continue
  const tasks = []
  for (const s of q.subjects) for (const n of [q.short, q.long]) tasks.push({ script: q.file, args: [s, q.arg, String(n)] })
  const results = await countAll(tasks)
  const rows = {}
  q.subjects.forEach((s, i) => {
    const [short, long] = [results[2 * i], results[2 * i + 1]]
    const ops = q.long - q.short
    rows[s] = { perOp: (long.ir - short.ir) / ops, bytesPerOp: (long.bytes - short.bytes) / ops }
  })
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
if (wanted(5)) await onOffRow()
console.log(`(instruction counts took ${((Date.now() - started) / 60_000).toFixed(1)} min)\n`)
for (const a of agents) a.proc.kill()

async function onOffRow () {
  const TRACES = [5000, 20_000]
  const modes = ['off', 'on']
  const onOff = await countAll(modes.flatMap((mode) => TRACES.map((n) => ({ script: 'subjects/apm_overhead.mjs', args: [mode, String(n)] }))))
  const perTrace = {}
  modes.forEach((mode, i) => { perTrace[mode] = (onOff[2 * i + 1].ir - onOff[2 * i].ir) / (TRACES[1] - TRACES[0]) })
  console.log(`## LLMObs enabled vs plain APM spans — instructions per 2-span trace (${TRACES[1]} − ${TRACES[0]} traces)`)
  console.log('| LLMObs | instructions / trace | ratio to off |')
  console.log('|---|---|---|')
  console.log(`| off | ${Math.round(perTrace.off)} | — |`)
  console.log(`| on | ${Math.round(perTrace.on)} | ${(perTrace.on / perTrace.off).toFixed(3)}× |`)
}
