import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Tracer } from '../trace/tracer.js'

/**
 * Interim main job (until the embedded agent and the LLM demo land): traces a small
 * request-handling workload with mixed sampling against a loopback sink and prints what reached
 * it, so `npm start` shows the pipeline end to end on a fresh clone.
 */
export async function runDemo (args: string[]): Promise<number> {
  const rateArg = args.indexOf('--sample-rate')
  const rate = rateArg >= 0 ? Number(args[rateArg + 1]) : 0.25
  const received = { payloads: 0, chunks: 0, bytes: 0 }
  const server = http.createServer((req, res) => {
    let bytes = 0
    req.on('data', (c: Buffer) => { bytes += c.length })
    req.on('end', () => {
      received.payloads++
      received.chunks += Number(req.headers['x-datadog-trace-count'] ?? 0)
      received.bytes += bytes
      res.writeHead(200, { 'Content-Type': 'application/json' })
      res.end('{"rate_by_service":{"service:,env:":1}}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const tracer = new Tracer({ url: `http://127.0.0.1:${port}`, service: 'demo-app', env: 'local', samplingRules: [{ sample_rate: rate }] })

  const priorities = new Map<number, number>()
  tracer.addProcessor((spans) => spans)
  const requests = 200
  for (let i = 0; i < requests; i++) {
    const root = await tracer.trace('web.request', { resource: `GET /chat/${i % 5}`, type: 'web' }, async (span) => {
      await tracer.trace('retrieval', { resource: 'vector.search' }, async () => { await tick() })
      await tracer.trace('llm.call', { resource: 'openai.chat' }, async (llm) => {
        llm.setTag('llm.model', 'gpt-4o-mini')
        llm.setMetaStruct('_example', { prompt: `question ${i}`, tokens: [10, 20], cached: null, stream: false })
        await tick()
      })
      return span
    })
    await tracer.flush()
    const p = root.metrics._sampling_priority_v1
    priorities.set(p, (priorities.get(p) ?? 0) + 1)
  }
  await tracer.shutdown()
  server.close()
  const out = process.stdout
  out.write(`traced ${requests} requests (3 spans each) with APM sample rate ${rate}\n`)
  for (const [p, n] of [...priorities].sort((a, b) => a[0] - b[0])) out.write(`  priority ${p}: ${n} traces\n`)
  out.write(`sink received: ${received.payloads} payloads, ${received.chunks} chunks, ${received.bytes} bytes\n`)
  out.write('(priority <= 0 traces are sent too: the Agent drops them, which is what LLM Observability must survive)\n')
  return received.chunks === requests ? 0 : 1
}

function tick (): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 1))
}
