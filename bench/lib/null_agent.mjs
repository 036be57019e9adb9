// A loopback agent that accepts and discards everything, so each tracer runs its full pipeline
// (encode, buffer, HTTP) without the sink costing anything measurable. `bench/run.mjs` runs it
// in its own process, so its CPU is not billed to the tracer under test.
import http from 'node:http'

export async function startNullAgent (port = 0) {
  // What arrived on the trace endpoints, so bench/callgrind.mjs can check that a counted run
  // really shipped its spans before it exited (GET /bench/received).
  const received = { payloads: 0, bytes: 0 }
  const server = http.createServer((req, res) => {
    let bytes = 0
    req.on('data', (d) => { bytes += d.length })
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json' })
      if (req.url.includes('/traces')) { received.payloads++; received.bytes += bytes }
      if (req.url === '/bench/received') res.end(JSON.stringify(received))
      else if (req.url === '/info') res.end(JSON.stringify({ endpoints: ['/v0.4/traces', '/v0.5/traces', '/evp_proxy/v2/'], span_meta_structs: true }))
      else res.end(req.url.includes('/traces') ? '{"rate_by_service":{"service:,env:":1}}' : '{}')
    })
  })
  // Longer than any stall of a subject under valgrind, so a tracer never reuses a closed socket.
  server.keepAliveTimeout = 60_000
  await new Promise((resolve) => server.listen(port, '127.0.0.1', resolve))
  return { url: `http://127.0.0.1:${server.address().port}`, port: server.address().port, close: () => server.close() }
}

/** The agent for a subject: the shared one from bench/run.mjs, else one in this process. */
export async function agentUrl () {
  if (process.env.BENCH_AGENT_URL) return process.env.BENCH_AGENT_URL
  const agent = await startNullAgent()
  agent.server?.unref?.()
  return agent.url
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  const agent = await startNullAgent()
  process.stdout.write(agent.url + '\n')
}
