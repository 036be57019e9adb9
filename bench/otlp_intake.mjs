// OTLP intake throughput of the local agent: protobuf requests of GenAI traces (an HTTP server
// span with a chat span under it, the OpenLLMetry/semconv attributes a real instrumentation sets)
// POSTed to /v1/traces of an agent on a file store, one request in flight at a time, keep-alive.
// Bodies are encoded before the clock starts; CPU is this process's (agent + client), so the
// spans/s on CPU is a lower bound for the agent alone. Target (issue 13): >= 20,000 spans/s.
//
// node bench/otlp_intake.mjs [requests] [tracesPerRequest]   (after `npm run build`)
// Instructions per span: run it under callgrind for two request counts and take the difference
// (BENCH_DIST: another build's dist directory, absolute, for a before/after pair).
import http from 'node:http'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'

const dist = process.env.BENCH_DIST ?? '../dist'
const { startAgent } = await import(`${dist}/src/agent/start_agent.js`)
const { encodeTracesRequest } = await import(`${dist}/src/encode/otlp/index.js`)

const REQUESTS = Number(process.argv[2] ?? 40)
const TRACES = Number(process.argv[3] ?? 50)
const dir = mkdtempSync(join(tmpdir(), 'otlp-intake-'))
const agent = await startAgent({ port: 0, otlpPort: 0, db: join(dir, 'store.db'), logger: { info () {}, warn () {} } })
const kv = (o) => Object.entries(o).map(([key, value]) => ({ key, value }))
const hex = (n) => randomBytes(n).toString('hex')

function request () {
  const spans = []
  const t0 = BigInt(Date.now()) * 1000000n
  for (let i = 0; i < TRACES; i++) {
    const traceId = hex(16)
    const root = hex(8)
    const base = { traceId, traceState: '', flags: 0x101, droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0, status: { code: 0, message: '' } }
    spans.push({ ...base, spanId: root, parentSpanId: '', name: 'POST /chat', kind: 2, startTimeUnixNano: t0, endTimeUnixNano: t0 + 50000000n, attributes: kv({ 'http.request.method': 'POST', 'http.route': '/chat', 'http.response.status_code': 200n }) })
    spans.push({ ...base, spanId: hex(8), parentSpanId: root, name: 'chat gpt-4o-mini', kind: 3, startTimeUnixNano: t0 + 1000000n, endTimeUnixNano: t0 + 40000000n, attributes: kv({
      'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
      'gen_ai.input.messages': JSON.stringify([{ role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] }, { role: 'user', parts: [{ type: 'text', content: `Where is my refund for order ${i}?` }] }]),
      'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Your refund was issued yesterday.' }], finish_reason: 'stop' }]),
      'gen_ai.usage.input_tokens': 24n, 'gen_ai.usage.output_tokens': 9n, 'gen_ai.request.temperature': 0.2,
    }) })
  }
  return encodeTracesRequest({ resourceSpans: [{ resource: { attributes: kv({ 'service.name': 'intake-bench' }), droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{ scope: { name: 'bench', version: '1', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans }] }] }, 'protobuf')
}

const bodies = Array.from({ length: REQUESTS }, request)
const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 })
const url = new URL(`${agent.otlpUrl}/v1/traces`)
function post (body) {
  return new Promise((resolve, reject) => {
    const req = http.request({ hostname: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: keepAlive, headers: { 'content-type': 'application/x-protobuf', 'content-length': body.length } }, (res) => {
      res.resume()
      res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`status ${res.statusCode}`))))
    })
    req.on('error', reject)
    req.end(body)
  })
}
await post(request()) // warm-up
const cpu0 = process.cpuUsage()
const t0 = process.hrtime.bigint()
for (const b of bodies) await post(b)
const wallS = Number(process.hrtime.bigint() - t0) / 1e9
const cpu = process.cpuUsage(cpu0)
const cpuS = (cpu.user + cpu.system) / 1e6
const spans = REQUESTS * TRACES * 2
keepAlive.destroy()
await agent.close()
rmSync(dir, { recursive: true, force: true })
console.log(JSON.stringify({ spans, spansPerSecWall: Math.round(spans / wallS), spansPerSecCpu: Math.round(spans / cpuS), llmSpansPerSecCpu: Math.round(spans / 2 / cpuS) }))
