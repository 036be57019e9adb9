// The pair of llmobs_pairs.mjs (a workflow wrapping an annotated llm span) with the durable spool
// off or on, for instruction counts: bench/spool.mjs runs it under `valgrind --tool=callgrind`
// twice (a long and a short run) so start-up cancels. The agent is in this process (a null one
// unless BENCH_AGENT_URL names one), and the flush interval is long, so every payload and write
// happens by size or at the end, in every run alike.
// `node bench/subjects/spool_pairs.mjs <off|interval|always|never> [pairs]`
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentUrl } from '../lib/null_agent.mjs'

const [mode, n] = process.argv.slice(2)
const PAIRS = Number(n ?? 10_000)
const { Tracer } = await import('../../dist/src/root/tracer.js')
const { LLMObs } = await import('../../dist/src/llmobs/sdk.js')
// Long flush intervals: under callgrind a run lasts minutes, and payloads sent by timer would
// make the count depend on how long (size-triggered sends are the same in every run).
const tracer = new Tracer({ url: await agentUrl(), service: 'bench', env: 'bench', flushIntervalMs: 600_000 })
const llmobs = new LLMObs(() => tracer)
const dir = mode === 'off' ? undefined : mkdtempSync(join(tmpdir(), 'bench-spool-'))
llmobs.enable({ mlApp: 'bench', flushIntervalMs: 600_000, spool: dir === undefined ? undefined : { dir, fsync: mode } })
const input = [{ role: 'user', content: 'What is the capital of France?' }]
const output = [{ role: 'assistant', content: 'Paris.' }]
function pair () {
  llmobs.trace({ kind: 'workflow', name: 'answer' }, () => {
    llmobs.trace({ kind: 'llm', name: 'chat', modelName: 'gpt-4o-mini', modelProvider: 'openai' }, (span) => {
      llmobs.annotate(span, { inputData: input, outputData: output, metrics: { inputTokens: 10, outputTokens: 20, totalTokens: 30 } })
    })
  })
}
const turn = () => new Promise((resolve) => setImmediate(resolve))
for (let i = 0; i < PAIRS; i += 500) {
  for (let j = 0; j < Math.min(500, PAIRS - i); j++) pair()
  await turn()
}
await llmobs.flush()
const s = llmobs.stats()
if (s.pending !== 0 || (s.spool?.full ?? 0) !== 0) process.stderr.write(`warning: pending ${s.pending}, spool full ${s.spool?.full ?? 0}\n`)
if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
process.exit(0)
