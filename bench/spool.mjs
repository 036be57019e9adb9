// Durable spool cost: spool off vs on (each fsync policy), the pair of bench/subjects/llmobs_pairs.mjs
// (a workflow wrapping an annotated llm span) through the whole pipeline to a null agent.
// Prints CPU per pair, the spool's CPU per event appended ((on - off) / events), and bytes
// written to the spool per event (appends and releases). `node bench/spool.mjs` (after a build);
// BENCH_RUNS, BENCH_PAIRS to change the run count and size. Each run is its own process.
// Then, unless BENCH_SKIP_CALLGRIND=1 (or valgrind is missing), instructions per pair spool off
// vs `interval` under callgrind (bench/subjects/spool_pairs.mjs, a long run minus a short one so
// start-up cancels): CPU time on a shared machine is noise, instruction counts are not. They
// count user-space instructions only: the kernel's share of write and fsync is not in them.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const self = fileURLToPath(import.meta.url)
const [role, mode, pairsArg] = process.argv.slice(2)

if (role === 'subject') {
  const PAIRS = Number(pairsArg)
  const { agentUrl } = await import('./lib/null_agent.mjs')
  const url = await agentUrl()
  const { Tracer } = await import('../dist/src/root/tracer.js')
  const { LLMObs } = await import('../dist/src/llmobs/sdk.js')
  const tracer = new Tracer({ url, service: 'bench', env: 'bench' })
  const llmobs = new LLMObs(() => tracer)
  const dir = mode === 'off' ? undefined : mkdtempSync(join(tmpdir(), 'bench-spool-'))
  llmobs.enable({ mlApp: 'bench', spool: dir === undefined ? undefined : { dir, fsync: mode } })
  const input = [{ role: 'user', content: 'What is the capital of France?' }]
  const output = [{ role: 'assistant', content: 'Paris.' }]
  const pair = () => {
    llmobs.trace({ kind: 'workflow', name: 'answer' }, () => {
      llmobs.trace({ kind: 'llm', name: 'chat', modelName: 'gpt-4o-mini', modelProvider: 'openai' }, (span) => {
        llmobs.annotate(span, { inputData: input, outputData: output, metrics: { inputTokens: 10, outputTokens: 20, totalTokens: 30 } })
      })
    })
  }
  const turn = () => new Promise((resolve) => setImmediate(resolve))
  for (let i = 0; i < 5000; i++) pair()
  await llmobs.flush()
  const before = llmobs.stats()
  const cpu0 = process.cpuUsage()
  for (let i = 0; i < PAIRS; i += 500) {
    for (let j = 0; j < 500; j++) pair()
    await turn()
  }
  await llmobs.flush()
  const cpu = process.cpuUsage(cpu0)
  const after = llmobs.stats()
  const events = after.created - before.created
  const written = (after.spool?.bytesWritten ?? 0) - (before.spool?.bytesWritten ?? 0)
  process.stdout.write(JSON.stringify({
    cpuNsPerPair: (cpu.user + cpu.system) * 1000 / PAIRS,
    eventsPerPair: events / PAIRS,
    bytesPerEvent: written / events,
    pending: after.pending,
    spoolFull: after.spool?.full ?? 0,
  }) + '\n')
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  process.exit(0)
}

const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const PAIRS = Number(process.env.BENCH_PAIRS ?? 50_000)
const MODES = ['off', 'interval', 'always', 'never']
const agentProc = spawn(process.execPath, [join(self, '../lib/null_agent.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] })
const AGENT_URL = await new Promise((resolve) => agentProc.stdout.once('data', (d) => resolve(String(d).trim())))
process.on('exit', () => agentProc.kill())

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
const samples = Object.fromEntries(MODES.map((m) => [m, []]))
// Interleaved so drift on a shared machine hits every mode alike.
for (let r = 0; r < RUNS; r++) {
  for (const m of MODES) {
    const out = execFileSync(process.execPath, [self, 'subject', m, String(PAIRS)], { encoding: 'utf8', env: { ...process.env, BENCH_AGENT_URL: AGENT_URL }, timeout: 300_000 })
    samples[m].push(JSON.parse(out.trim().split('\n').pop()))
  }
}
const off = median(samples.off.map((s) => s.cpuNsPerPair))
console.log(`node ${process.version}, ${RUNS} runs × ${PAIRS} pairs per mode, interleaved; median (min–max)\n`)
console.log('| spool | CPU per pair (µs) | vs off | spool CPU per event appended (µs) | bytes written per event |')
console.log('|---|---|---|---|---|')
for (const m of MODES) {
  const cpu = samples[m].map((s) => s.cpuNsPerPair)
  const med = median(cpu)
  const perEvent = m === 'off' ? '—' : ((med - off) / median(samples[m].map((s) => s.eventsPerPair)) / 1000).toFixed(2)
  const bytes = m === 'off' ? '—' : median(samples[m].map((s) => s.bytesPerEvent)).toFixed(0)
  console.log(`| ${m} | ${(med / 1000).toFixed(2)} (${(Math.min(...cpu) / 1000).toFixed(2)}–${(Math.max(...cpu) / 1000).toFixed(2)}) | ${m === 'off' ? '1.00' : (med / off).toFixed(2)}× | ${perEvent} | ${bytes} |`)
}
if (process.env.BENCH_SKIP_CALLGRIND !== '1') callgrind()
const bad = MODES.flatMap((m) => samples[m].filter((s) => s.pending !== 0 || s.spoolFull !== 0).map(() => m))
if (bad.length > 0) console.log(`\nwarning: runs with events pending or spool full: ${bad.join(', ')}`)
agentProc.kill()
process.exit(0)

function callgrind () {
  try { execFileSync('valgrind', ['--version'], { stdio: 'ignore' }) } catch {
    console.log('\ninstruction counts: skipped (valgrind not installed)')
    return
  }
  const SHORT = Number(process.env.BENCH_IR_SHORT ?? 1000)
  const LONG = Number(process.env.BENCH_IR_LONG ?? 6000)
  const subject = join(self, '../subjects/spool_pairs.mjs')
  const ir = (mode, n) => {
    // One thread and a predictable GC schedule, so the count does not depend on timing.
    const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, '--single-threaded', '--predictable-gc-schedule', subject, mode, String(n)],
      { encoding: 'utf8', env: { ...process.env, BENCH_AGENT_URL: AGENT_URL }, timeout: 1_800_000 })
    const m = /Collected : (\d+)/.exec(r.stderr)
    if (m === null) throw new Error(`no instruction count in valgrind output:\n${r.stderr.slice(-500)}`)
    return Number(m[1])
  }
  const per = {}
  for (const mode of ['off', 'interval']) per[mode] = (ir(mode, LONG) - ir(mode, SHORT)) / (LONG - SHORT)
  console.log(`\n## Instructions per pair (valgrind callgrind, ${LONG} − ${SHORT} pairs; user space only)`)
  console.log('| spool | instructions / pair | ratio to off |')
  console.log('|---|---|---|')
  console.log(`| off | ${Math.round(per.off)} | — |`)
  console.log(`| interval | ${Math.round(per.interval)} | ${(per.interval / per.off).toFixed(3)}× |`)
}
