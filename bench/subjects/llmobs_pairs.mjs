// A workflow span wrapping an annotated llm span (one user + one assistant message, 10/20 tokens),
// the whole pipeline to a null agent: CPU per pair and RSS growth over N pairs.
// `node bench/subjects/llmobs_pairs.mjs <llmobs-ts|dd-trace> [pairs]`.
import { agentUrl } from '../lib/null_agent.mjs'

const [subject, pairsArg] = process.argv.slice(2)
const PAIRS = Number(pairsArg ?? 100_000)
const url = await agentUrl()

let trace, annotate, flush
if (subject === 'llmobs-ts') {
  const { tracer, llmobs } = await import('../../dist/src/index.js')
  tracer.init({ url, service: 'bench', env: 'bench' })
  llmobs.enable({ mlApp: 'bench' })
  trace = (opts, fn) => llmobs.trace(opts, fn)
  annotate = (span, a) => llmobs.annotate(span, a)
  flush = () => llmobs.flush()
} else if (subject === 'dd-trace') {
  Object.assign(process.env, {
    DD_TRACE_TELEMETRY_ENABLED: 'false', DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false', DD_REMOTE_CONFIGURATION_ENABLED: 'false',
    DD_TRACE_STARTUP_LOGS: 'false', DD_RUNTIME_METRICS_ENABLED: 'false', DD_PROFILING_ENABLED: 'false', DD_LLMOBS_AGENTLESS_ENABLED: 'false',
  })
  const { default: tracer } = await import('dd-trace')
  tracer.init({ url, service: 'bench', env: 'bench', plugins: false, llmobs: { mlApp: 'bench', agentlessEnabled: false } })
  trace = (opts, fn) => tracer.llmobs.trace(opts, fn)
  annotate = (span, a) => tracer.llmobs.annotate(span, a)
  flush = () => tracer.llmobs.flush?.()
} else {
  throw new Error(`unknown subject ${subject}`)
}

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
