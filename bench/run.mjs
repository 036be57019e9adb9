// `npm run bench`: every question in one run, each subject in its own child process, several
// runs each; prints medians, spread (min–max) and the ratio to the peer. Figures quoted in the
// README come from this output.
import { execFileSync, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const here = dirname(fileURLToPath(import.meta.url))
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

const QUESTIONS = [
  { title: 'root span start+finish, 5 tags (full pipeline to a null agent)', file: 'subjects/spans.mjs', arg: 'root-span', subjects: ['llmobs-ts', 'dd-trace', 'otel'], unit: 'µs/op' },
  { title: '10-span trace (full pipeline to a null agent)', file: 'subjects/spans.mjs', arg: 'trace-10', subjects: ['llmobs-ts', 'dd-trace', 'otel'], unit: 'µs/op' },
  { title: 'v0.4 encode, 10-span trace with a 1 KB meta_struct', file: 'subjects/encode.mjs', arg: undefined, subjects: ['llmobs-ts', 'msgpackr'], unit: 'µs/op' },
]

// One null agent for the whole run, in its own process: its CPU is not billed to the subject.
const agentProc = spawn(process.execPath, [join(here, 'lib/null_agent.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] })
const AGENT_URL = await new Promise((resolve) => agentProc.stdout.once('data', (d) => resolve(String(d).trim())))
process.on('exit', () => agentProc.kill())

function runOnce (file, subject, arg) {
  const args = [join(here, file), subject]
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
  for (let r = 0; r < RUNS; r++) for (const s of q.subjects) samples[s].push(runOnce(q.file, s, q.arg).nsPerOp)
  const base = median(samples['llmobs-ts'])
  console.log(`## ${q.title}`)
  console.log('| subject | time (µs/op) | llmobs-ts ÷ subject |')
  console.log('|---|---|---|')
  for (const s of q.subjects) {
    const m = median(samples[s])
    console.log(`| ${s} | ${fmt(m)} (${fmt(Math.min(...samples[s]))}–${fmt(Math.max(...samples[s]))}) | ${s === 'llmobs-ts' ? '—' : (base / m).toFixed(2) + '×'} |`)
  }
  console.log('')
}
