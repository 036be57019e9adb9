// `npm run bench`: every question in one run, each subject in its own child process, several
// runs each; prints medians, spread (min–max) and the ratio to the peer. Figures quoted in the
// README come from this output.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

const QUESTIONS = [
  { title: 'root span start+finish, 5 tags (full pipeline to a null agent)', file: 'subjects/spans.mjs', arg: 'root-span', subjects: ['llmobs-ts', 'dd-trace', 'otel'], unit: 'µs/op' },
  { title: '10-span trace (full pipeline to a null agent)', file: 'subjects/spans.mjs', arg: 'trace-10', subjects: ['llmobs-ts', 'dd-trace', 'otel'], unit: 'µs/op' },
  { title: 'OTel API: root span, 5 attributes (our bridge, full pipeline to a null agent; OTel SDK, null exporter; dd-trace\'s bridge)', file: 'subjects/otel_bridge.mjs', arg: 'root-span', subjects: ['llmobs-ts', 'otel-sdk', 'dd-trace'], unit: 'µs/op' },
  { title: 'OTel API: 10-span trace (same three)', file: 'subjects/otel_bridge.mjs', arg: 'trace-10', subjects: ['llmobs-ts', 'otel-sdk', 'dd-trace'], unit: 'µs/op' },
  { title: 'v0.4 encode, 10-span trace with a 1 KB meta_struct', file: 'subjects/encode.mjs', arg: undefined, subjects: ['llmobs-ts', 'msgpackr'], unit: 'µs/op' },
  { title: 'LLMObs: workflow wrapping an annotated llm span, 100k pairs (CPU per pair, RSS growth)', file: 'subjects/llmobs_pairs.mjs', arg: '100000', subjects: ['llmobs-ts', 'dd-trace'], unit: 'µs/pair', metric: 'cpuNsPerOp', extra: 'rssGrowthMiB', nodeArgs: ['--expose-gc'] },
]

// One null agent for the whole run, in its own process: its CPU is not billed to the subject.
const agentProc = spawn(process.execPath, [join(here, 'lib/null_agent.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] })
const AGENT_URL = await new Promise((resolve) => agentProc.stdout.once('data', (d) => resolve(String(d).trim())))
process.on('exit', () => agentProc.kill())

function runOnce (file, subject, arg, nodeArgs = []) {
  const args = [...nodeArgs, join(here, file), subject]
  if (arg !== undefined) args.push(arg)
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 120_000, env: { ...process.env, BENCH_AGENT_URL: AGENT_URL } })
  return JSON.parse(out.trim().split('\n').pop())
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
const fmt = (ns) => (ns / 1000).toFixed(2)

console.log(`node ${process.version}, ${RUNS} runs per subject, interleaved; median (min–max)\n`)
for (const q of QUESTIONS) {
  const samples = Object.fromEntries(q.subjects.map((s) => [s, []]))
  // Interleave subjects so drift on a shared machine hits all of them alike.
  const extras = Object.fromEntries(q.subjects.map((s) => [s, []]))
  const runs = q.metric === 'cpuNsPerOp' ? Math.max(3, Math.ceil(RUNS / 2)) : RUNS
  for (let r = 0; r < runs; r++) {
    for (const s of q.subjects) {
      const res = runOnce(q.file, s, q.arg, q.nodeArgs)
      samples[s].push(res[q.metric ?? 'nsPerOp'])
      if (q.extra) extras[s].push(res[q.extra])
    }
  }
  const base = median(samples['llmobs-ts'])
  const baseExtra = q.extra ? median(extras['llmobs-ts']) : 0
  console.log(`## ${q.title}`)
  console.log(`| subject | ${q.metric === 'cpuNsPerOp' ? 'CPU' : 'time'} (${q.unit}) | llmobs-ts ÷ subject |${q.extra ? ' RSS growth (MiB) | ratio |' : ''}`)
  console.log(`|---|---|---|${q.extra ? '---|---|' : ''}`)
  for (const s of q.subjects) {
    const m = median(samples[s])
    let row = `| ${s} | ${fmt(m)} (${fmt(Math.min(...samples[s]))}–${fmt(Math.max(...samples[s]))}) | ${s === 'llmobs-ts' ? '—' : (base / m).toFixed(2) + '×'} |`
    if (q.extra) {
      const e = median(extras[s])
      row += ` ${e.toFixed(1)} (${Math.min(...extras[s]).toFixed(1)}–${Math.max(...extras[s]).toFixed(1)}) | ${s === 'llmobs-ts' ? '—' : (baseExtra / e).toFixed(2) + '×'} |`
    }
    console.log(row)
  }
  console.log('')
}

// Does enabling LLM Observability tax plain APM spans? Instruction counts under callgrind, as a
// difference between a long and a short run so start-up and module loading cancel out.
if (process.env.BENCH_SKIP_CALLGRIND !== '1') {
  let valgrind = true
  try { execFileSync('valgrind', ['--version'], { stdio: 'ignore' }) } catch { valgrind = false }
  if (!valgrind) {
    console.log('## LLMObs enabled vs plain APM spans: skipped (valgrind not installed)')
  } else {
    const ir = (mode, n) => spawnSyncCollect(mode, n)
    const perTrace = {}
    for (const mode of ['off', 'on']) perTrace[mode] = (ir(mode, 40_000) - ir(mode, 10_000)) / 30_000
    console.log('## LLMObs enabled vs plain APM spans (valgrind callgrind, instructions per 2-span trace, 40k − 10k traces)')
    console.log('| LLMObs | instructions / trace | ratio to off |')
    console.log('|---|---|---|')
    console.log(`| off | ${Math.round(perTrace.off)} | — |`)
    console.log(`| on | ${Math.round(perTrace.on)} | ${(perTrace.on / perTrace.off).toFixed(3)}× |`)
    console.log('')
  }
}
// Done: the null agent's pipe would otherwise keep this process waiting.
agentProc.kill()

function spawnSyncCollect (mode, n) {
  // One thread and a predictable GC schedule: otherwise background compiler and GC threads make
  // the instruction count depend on timing, which is what callgrind is here to avoid.
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--single-threaded', '--predictable-gc-schedule', join(here, 'subjects/apm_overhead.mjs'), mode, String(n)],
    { encoding: 'utf8', env: { ...process.env, BENCH_AGENT_URL: AGENT_URL }, timeout: 600_000 })
  return parseCollected(r.stderr)
}

function parseCollected (text) {
  const m = /Collected : (\d+)/.exec(text)
  if (m === null) throw new Error(`no instruction count in valgrind output:\n${text.slice(-500)}`)
  return Number(m[1])
}
