// A workflow span wrapping an annotated llm span (one user + one assistant message, 10/20 tokens),
// the whole pipeline to a null agent: CPU per pair and RSS growth over N pairs.
// `node bench/subjects/llmobs_pairs.mjs <llmobs-ts|dd-trace> [pairs]`.
import { agentUrl } from '../lib/null_agent.mjs'
import { llmobsSubject } from '../lib/llmobs_subject.mjs'

const [subject, pairsArg] = process.argv.slice(2)
const PAIRS = Number(pairsArg ?? 100_000)
const url = await agentUrl()

const { trace, annotate, flush } = await llmobsSubject(subject, url)

const input = [{ role: 'user', content: 'What is the capital of France?' }]
const output = [{ role: 'assistant', content: 'Paris.' }]
function pair () {
  trace({ kind: 'workflow', name: 'answer' }, () => {
    trace({ kind: 'llm', name: 'chat', modelName: 'gpt-4o-mini', modelProvider: 'openai' }, (span) => {
      annotate(span, { inputData: input, outputData: output, metrics: { inputTokens: 10, outputTokens: 20, totalTokens: 30 } })
    })
  })
}

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve))
for (let i = 0; i < 5000; i++) pair()
await yieldToLoop()
global.gc?.()
const rss0 = process.memoryUsage().rss
const cpu0 = process.cpuUsage()
const t0 = process.hrtime.bigint()
for (let i = 0; i < PAIRS; i += 500) {
  for (let j = 0; j < 500; j++) pair()
  await yieldToLoop()
}
await flush()
const wall = Number(process.hrtime.bigint() - t0)
const cpu = process.cpuUsage(cpu0)
global.gc?.()
const rss1 = process.memoryUsage().rss
process.stdout.write(JSON.stringify({
  nsPerOp: wall / PAIRS,
  cpuNsPerOp: (cpu.user + cpu.system) * 1000 / PAIRS,
  rssGrowthMiB: (rss1 - rss0) / 1048576,
}) + '\n')
process.exit(0)
