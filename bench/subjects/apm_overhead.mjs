// Plain APM spans (no LLM spans) with LLM Observability enabled or not: does enabling it tax
// ordinary tracing? Run under `valgrind --tool=callgrind` by bench/run.mjs, which compares
// instruction counts (timing noise on this machine is larger than the 3% budget).
// `node bench/subjects/apm_overhead.mjs <on|off> [spans]`
import { agentUrl } from '../lib/null_agent.mjs'

const [mode, n] = process.argv.slice(2)
const SPANS = Number(n ?? 20_000)
const { tracer, llmobs } = await import('../../dist/src/index.js')
tracer.init({ url: await agentUrl(), service: 'bench', flushIntervalMs: 60_000 })
if (mode === 'on') llmobs.enable({ mlApp: 'bench' })
for (let i = 0; i < SPANS; i++) {
  tracer.trace('web.request', { resource: 'GET /' }, (span) => {
    span.setTag('http.status_code', 200)
    tracer.trace('db.query', () => {})
  })
}
await tracer.flush()
process.exit(0)
