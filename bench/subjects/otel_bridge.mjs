// The OpenTelemetry API through three implementations, one per process:
// `node bench/subjects/otel_bridge.mjs <llmobs-ts|otel-sdk|dd-trace> <root-span|trace-10> [ops]`.
// Prints {"nsPerOp":..., "cpuNsPerOp":...}. The caller's code is the same OTel API code for all
// three; only the registered implementation differs. With `ops` the warm-up is fixed, so under
// callgrind two run lengths differ by exactly their ops (instructions per op = ΔIr ÷ Δops).
import { agentUrl } from '../lib/null_agent.mjs'
import { measure, yieldToLoop } from '../lib/measure.mjs'

const [subject, scenario, ops] = process.argv.slice(2)
const agent = { url: await agentUrl() }
const api = await import('@opentelemetry/api')

const ATTRS = [['http.request.method', 'GET'], ['url.path', '/api/chat'], ['component', 'bench'], ['http.response.status_code', 200], ['retries', 3]]

let tracer
if (subject === 'llmobs-ts') {
  // Our bridge, full pipeline (mapping, encode, ship) to the null agent.
  const { tracer: ours } = await import('../../dist/src/index.js')
  ours.init({ url: agent.url, service: 'bench', env: 'bench', otel: true })
  tracer = api.trace.getTracer('bench')
} else if (subject === 'otel-sdk') {
  // The OTel SDK's own pipeline (batch processor) with a null exporter: it encodes and ships nothing.
  const { BasicTracerProvider, BatchSpanProcessor } = await import('@opentelemetry/sdk-trace-base')
  const exporter = { export: (_spans, cb) => cb({ code: 0 }), shutdown: async () => {} }
  const provider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] })
  api.trace.setGlobalTracerProvider(provider)
  tracer = api.trace.getTracer('bench')
} else if (subject === 'dd-trace') {
  process.env.DD_TRACE_TELEMETRY_ENABLED = 'false'
  process.env.DD_INSTRUMENTATION_TELEMETRY_ENABLED = 'false'
  process.env.DD_REMOTE_CONFIGURATION_ENABLED = 'false'
  process.env.DD_TRACE_STARTUP_LOGS = 'false'
  process.env.DD_RUNTIME_METRICS_ENABLED = 'false'
  process.env.DD_PROFILING_ENABLED = 'false'
  const { default: dd } = await import('dd-trace')
  dd.init({ url: agent.url, service: 'bench', env: 'bench', plugins: false, telemetry: { enabled: false }, remoteConfig: { enabled: false }, startupLogs: false })
  const provider = new dd.TracerProvider()
  provider.register()
  tracer = api.trace.getTracer('bench')
} else {
  throw new Error(`unknown subject ${subject}`)
}

let op
if (scenario === 'root-span') {
  op = () => {
    const s = tracer.startSpan('GET /api/chat', { kind: api.SpanKind.SERVER })
    for (let i = 0; i < ATTRS.length; i++) s.setAttribute(ATTRS[i][0], ATTRS[i][1])
    s.end()
  }
} else if (scenario === 'trace-10') {
  op = () => {
    const root = tracer.startSpan('GET /api/chat', { kind: api.SpanKind.SERVER })
    root.setAttribute('http.request.method', 'GET')
    const ctx = api.trace.setSpan(api.context.active(), root)
    for (let i = 0; i < 9; i++) {
      const c = tracer.startSpan('child.op', undefined, ctx)
      c.setAttribute('component', 'bench')
      c.end()
    }
    root.end()
  }
} else {
  throw new Error(`unknown scenario ${scenario}`)
}

const iterations = ops !== undefined ? Number(ops) : scenario === 'trace-10' ? 40_000 : 200_000
const warmup = ops !== undefined ? 2_000 : iterations / 5
const result = await measure(op, { iterations, warmup, between: yieldToLoop })
process.stdout.write(JSON.stringify(result) + '\n')
process.exit(0)
