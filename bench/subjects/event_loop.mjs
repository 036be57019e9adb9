// Event-loop delay under big LLM events: 100 sequential LLM calls (a 10 ms wait standing in for
// the provider) with a 2.5 MB prompt each, every span annotated with its prompt and answer, then
// one flush. `node bench/subjects/event_loop.mjs <off|llmobs-ts|dd-trace> [calls]`; `off` runs the
// same loop with no tracer; `calls` (default 100) lets a callgrind run count instructions per call
// as the difference of two lengths. Prints {"maxMs", "p99Ms", "meanMs", "wallMs"} of
// perf_hooks.monitorEventLoopDelay (resolution 1 ms) over the loop and the flush.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { agentUrl } from '../lib/null_agent.mjs'
import { llmobsSubject } from '../lib/llmobs_subject.mjs'

const [subject, calls] = process.argv.slice(2)
const CALLS = calls === undefined ? 100 : Number(calls)
const PROVIDER_MS = 10
const url = await agentUrl()

const { trace, annotate, flush } = subject === 'off'
  ? { trace: (_opts, fn) => fn(undefined), annotate: () => {}, flush: async () => {} }
  : await llmobsSubject(subject, url)

// Prose-like text (spaces, punctuation, a quote and a newline per sentence) so JSON escaping
// costs what it costs on a real prompt; 2.5 MB per call, a distinct string each time.
const SENTENCE = 'The quick brown fox jumps over the lazy dog, "again" and again; numbers 0123456789.\n'
const BASE = SENTENCE.repeat(Math.ceil(2.5e6 / SENTENCE.length)).slice(0, 2.5e6 - 16)
const provider = () => new Promise((resolve) => setTimeout(resolve, PROVIDER_MS))

const h = monitorEventLoopDelay({ resolution: 1 })
h.enable()
const t0 = performance.now()
for (let i = 0; i < CALLS; i++) {
  const prompt = `call ${String(i).padStart(6, '0')}: ` + BASE
  await trace({ kind: 'llm', name: 'chat', modelName: 'gpt-4o-mini', modelProvider: 'openai' }, async (span) => {
    await provider()
    annotate(span, {
      inputData: [{ role: 'user', content: prompt }],
      outputData: [{ role: 'assistant', content: 'A short answer.' }],
      metrics: { inputTokens: 600_000, outputTokens: 4, totalTokens: 600_004 },
    })
  })
}
await flush()
const wallMs = performance.now() - t0
h.disable()
process.stdout.write(JSON.stringify({ maxMs: h.max / 1e6, p99Ms: h.percentile(99) / 1e6, meanMs: h.mean / 1e6, wallMs }) + '\n')
process.exit(0)
