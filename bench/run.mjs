// `npm run bench`: every question in one run, each subject in its own child process, several
// runs each; prints medians, spread (min–max) and the ratio to the peer. Figures quoted in the
// README come from this output.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'
import { loadavg } from 'node:os'

const here = dirname(fileURLToPath(import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

const QUESTIONS = [
  { title: 'root span start+finish, 5 tags (full pipeline to a null agent)', file: 'subjects/spans.mjs', arg: 'root-span', subjects: ['llmobs-ts', 'dd-trace', 'otel'], unit: 'µs/op' },
  { title: '10-span trace (full pipeline to a null agent)', file: 'subjects/spans.mjs', arg: 'trace-10', subjects: ['llmobs-ts', 'dd-trace', 'otel'], unit: 'µs/op' },
  { title: 'OTel API: root span, 5 attributes (our bridge, full pipeline to a null agent; OTel SDK, null exporter; dd-trace\'s bridge)', file: 'subjects/otel_bridge.mjs', arg: 'root-span', subjects: ['llmobs-ts', 'otel-sdk', 'dd-trace'], unit: 'µs/op' },
  { title: 'OTel API: 10-span trace (same three)', file: 'subjects/otel_bridge.mjs', arg: 'trace-10', subjects: ['llmobs-ts', 'otel-sdk', 'dd-trace'], unit: 'µs/op' },
  { title: 'v0.4 encode, 10-span trace with a 1 KB meta_struct', file: 'subjects/encode.mjs', arg: undefined, subjects: ['llmobs-ts', 'msgpackr'], unit: 'µs/op' },
  { title: 'OTLP encode, 10-span trace (ours vs @opentelemetry/otlp-transformer 0.223, protobuf and JSON)', file: 'subjects/otlp_encode.mjs', arg: undefined, subjects: ['llmobs-ts', 'otel', 'llmobs-ts-json', 'otel-json'], unit: 'µs/op' },
  { title: 'LLMObs: workflow wrapping an annotated llm span, 100k pairs (CPU per pair, RSS growth)', file: 'subjects/llmobs_pairs.mjs', arg: '100000', subjects: ['llmobs-ts', 'dd-trace'], unit: 'µs/pair', metric: 'cpuNsPerOp', extra: 'rssGrowthMiB', nodeArgs: ['--expose-gc'] },
]

// One null agent for the whole run, in its own process: its CPU is not billed to the subject.
const agentProc = spawn(process.execPath, [join(here, 'lib/null_agent.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] })
const AGENT_URL = await new Promise((resolve) => agentProc.stdout.once('data', (d) => resolve(String(d).trim())))
process.on('exit', () => agentProc.kill())

function runOnce (file, subject, arg, nodeArgs = []) {
  const args = [...nodeArgs, join(here, file), subject]
  if (arg !== undefined) args.push(arg)
  const out = execFileSync(process.execPath, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000, env: { ...process.env, BENCH_AGENT_URL: AGENT_URL } })
  return JSON.parse(out.trim().split('\n').pop())
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
const fmt = (ns) => (ns / 1000).toFixed(2)

const load = () => loadavg().map((x) => x.toFixed(1)).join(' ')
const benchStart = Date.now()
console.log(`node ${process.version}, ${RUNS} runs per subject, interleaved; median (min–max); load average ${load()}\n`)
for (const q of QUESTIONS) {
  const samples = Object.fromEntries(q.subjects.map((s) => [s, []]))
  // Interleave subjects so drift on a shared machine hits all of them alike.
  const extras = Object.fromEntries(q.subjects.map((s) => [s, []]))
  // Every row gets RUNS runs (issue 16: at least 5 by default), the long pair row included.
  for (let r = 0; r < RUNS; r++) {
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

// Event-loop delay: the same loop of 100 LLM calls with 2.5 MB prompts, tracing off and on.
{
  const subjects = ['off', 'llmobs-ts', 'dd-trace']
  const res = Object.fromEntries(subjects.map((s) => [s, []]))
  for (let r = 0; r < RUNS; r++) for (const s of subjects) res[s].push(runOnce('subjects/event_loop.mjs', s))
  const stat = (s, k) => { const xs = res[s].map((x) => x[k]); return { med: median(xs), min: Math.min(...xs), max: Math.max(...xs) } }
  const cell = (x) => `${x.med.toFixed(1)} (${x.min.toFixed(1)}–${x.max.toFixed(1)})`
  const off = { max: stat('off', 'maxMs').med, p99: stat('off', 'p99Ms').med }
  console.log('## Event loop: 100 LLM calls with 2.5 MB prompts each, annotate + flush (monitorEventLoopDelay, resolution 1 ms)')
  console.log('| tracing | max delay (ms) | p99 delay (ms) | max added (ms) | p99 added (ms) | wall (s) |')
  console.log('|---|---|---|---|---|---|')
  for (const s of subjects) {
    const mx = stat(s, 'maxMs'); const p = stat(s, 'p99Ms')
    console.log(`| ${s} | ${cell(mx)} | ${cell(p)} | ${s === 'off' ? '—' : (mx.med - off.max).toFixed(1)} | ${s === 'off' ? '—' : (p.med - off.p99).toFixed(1)} | ${(stat(s, 'wallMs').med / 1000).toFixed(1)} |`)
  }
  const addedMax = stat('llmobs-ts', 'maxMs').med - off.max
  const addedP99 = stat('llmobs-ts', 'p99Ms').med - off.p99
  console.log(`\ntarget (llmobs-ts): max added ≤ 20 ms: ${addedMax.toFixed(1)} ${addedMax <= 20 ? 'MET' : 'NOT MET'}; p99 added ≤ 2 ms: ${addedP99.toFixed(1)} ${addedP99 <= 2 ? 'MET' : 'NOT MET'}\n`)
}

// An HTTP service doing one LLM call per request: its own driver (service, provider, load).
spawnSync(process.execPath, [join(here, 'http_service.mjs')], { stdio: 'inherit', env: { ...process.env, BENCH_RUNS: String(RUNS), BENCH_AGENT_URL: AGENT_URL } })

// The local agent's OTLP intake: spans per second of CPU (agent and client in one process).
{
  const runs = []
  for (let r = 0; r < RUNS; r++) {
    const out = execFileSync(process.execPath, [join(here, 'otlp_intake.mjs')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000 })
    runs.push(JSON.parse(out.trim().split('\n').pop()))
  }
  const cpu = runs.map((x) => x.spansPerSecCpu)
  const wall = runs.map((x) => x.spansPerSecWall)
  console.log('## Local agent OTLP intake (protobuf, 50 GenAI traces of 2 spans per request, file store)')
  console.log('| spans/s on CPU | spans/s wall | target |')
  console.log('|---|---|---|')
  console.log(`| ${median(cpu)} (${Math.min(...cpu)}–${Math.max(...cpu)}) | ${median(wall)} | ≥ 20,000 spans/s: ${median(cpu) >= 20000 ? 'MET' : 'NOT MET'} |\n`)
}

// Instruction counts for the first four questions (and LLMObs on vs off), in their own script.
if (process.env.BENCH_SKIP_CALLGRIND !== '1') {
  spawnSync(process.execPath, [join(here, 'callgrind.mjs')], { stdio: 'inherit', env: { ...process.env, BENCH_AGENT_URL: AGENT_URL } })
}
console.log(`(whole run: ${((Date.now() - benchStart) / 60_000).toFixed(1)} min; load average at the end ${load()})`)
// Done: the null agent's pipe would otherwise keep this process waiting.
agentProc.kill()
