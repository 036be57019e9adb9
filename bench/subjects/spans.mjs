// One tracer, one scenario, one process: `node bench/subjects/spans.mjs <tracer> <scenario> [N]`.
// Prints {"nsPerOp":..., "cpuNsPerOp":...}. Each tracer runs its whole pipeline to a null agent.
// With N: exactly N ops, flush, exit (the counted mode bench/callgrind.mjs runs under valgrind).
import { agentUrl } from '../lib/null_agent.mjs'
import { measure, runCounted, yieldToLoop } from '../lib/measure.mjs'

const [subject, scenario, counted] = process.argv.slice(2)
const agent = { url: await agentUrl() }

const TAGS = [['http.method', 'GET'], ['http.url', '/api/chat'], ['component', 'bench'], ['http.status_code', 200], ['retries', 3]]

let startSpan, setTag, finish, childOf, flush

if (subject === 'llmobs-ts') {
  const { Tracer } = await import('../../dist/src/index.js')
  const tracer = new Tracer({ url: agent.url, service: 'bench', env: 'bench' })
  startSpan = (name, parent) => tracer.startSpan(name, parent === undefined ? undefined : { childOf: parent })
  setTag = (s, k, v) => s.setTag(k, v)
  finish = (s) => s.finish()
  childOf = (s) => s
  flush = () => tracer.flush()
} else if (subject === 'dd-trace') {
  process.env.DD_TRACE_TELEMETRY_ENABLED = 'false'
  process.env.DD_INSTRUMENTATION_TELEMETRY_ENABLED = 'false'
  process.env.DD_REMOTE_CONFIGURATION_ENABLED = 'false'
  process.env.DD_TRACE_STARTUP_LOGS = 'false'
  process.env.DD_RUNTIME_METRICS_ENABLED = 'false'
  process.env.DD_PROFILING_ENABLED = 'false'
  const { default: tracer } = await import('dd-trace')
  tracer.init({ url: agent.url, service: 'bench', env: 'bench', plugins: false, telemetry: { enabled: false }, remoteConfig: { enabled: false }, startupLogs: false })
  startSpan = (name, parent) => tracer.startSpan(name, parent === undefined ? undefined : { childOf: parent })
  setTag = (s, k, v) => s.setTag(k, v)
  finish = (s) => s.finish()
  childOf = (s) => s
  // The exporter's flush sends what the writer holds and calls back when the agent answered.
  flush = () => new Promise((resolve) => tracer._tracer._exporter.flush(resolve))
} else if (subject === 'otel') {
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base')
  const api = await import('@opentelemetry/api')
  // A null exporter: OTel's own pipeline (batch processor) runs, the export is free.
  const exporter = { export: (_spans, cb) => cb({ code: 0 }), shutdown: async () => {} }
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })
  const tracer = provider.getTracer('bench')
  startSpan = (name, parent) => tracer.startSpan(name, undefined, parent === undefined ? undefined : api.trace.setSpan(api.context.active(), parent))
  setTag = (s, k, v) => s.setAttribute(k, v)
  finish = (s) => s.end()
  childOf = (s) => s
  flush = () => provider.forceFlush()
} else {
  throw new Error(`unknown subject ${subject}`)
}

let op
if (scenario === 'root-span') {
  op = () => {
    const s = startSpan('web.request')
    for (let i = 0; i < TAGS.length; i++) setTag(s, TAGS[i][0], TAGS[i][1])
    finish(s)
  }
} else if (scenario === 'trace-10') {
  op = () => {
    const root = startSpan('web.request')
    setTag(root, 'http.method', 'GET')
    const parent = childOf(root)
    for (let i = 0; i < 9; i++) {
      const c = startSpan('child.op', parent)
      setTag(c, 'component', 'bench')
      finish(c)
    }
    finish(root)
  }
} else {
  throw new Error(`unknown scenario ${scenario}`)
}

if (counted !== undefined) await runCounted(op, Number(counted), flush)

const iterations = scenario === 'trace-10' ? 40_000 : 200_000
const result = await measure(op, { iterations, warmup: iterations / 5, between: yieldToLoop })
process.stdout.write(JSON.stringify(result) + '\n')
process.exit(0)
