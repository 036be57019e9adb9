// Request-scoped flush under load (issue 15): an HTTP service (its own process) makes one LLM
// call per request (a fake OpenAI in another process) and, per mode, answers
//   none     without flushing (the writers send every second),
//   rtt      after one extra round trip to the agent (GET /info): the floor any flush that waits
//            for the agent's answer must pay,
//   process  after a process-wide `await llmobs.flush()`,
//   scoped   after the request-scoped `await llmobs.flushTrace(span)`.
// A load loop (http.Agent keepAlive, CONCURRENCY requests always in flight) measures each
// request's latency; p50/p99 per mode, median over RUNS runs, modes interleaved. Failed requests
// are counted (and left out of the latencies), not fatal. The figures need an idle machine.
// Targets: scoped p99 ≤ rtt p99 + 2 ms; process-wide p99 ≥ 5 × scoped p99 (and the same for
// the latency each adds over `none`).
//
// node bench/request_flush.mjs            (after `npm run build`)
// BENCH_RUNS, BENCH_REQUESTS, BENCH_CONCURRENCY, BENCH_PROVIDER_MS override the defaults.
import http from 'node:http'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const self = fileURLToPath(import.meta.url)
const dist = new URL('../dist/src/', import.meta.url)
const [role, ...args] = process.argv.slice(2)
// How long the fake provider takes to answer. 0 (the default) leaves the service CPU-bound at 200
// concurrent requests, so every mode's latency is mostly queueing; a real LLM answer takes
// hundreds of milliseconds, under which the service has CPU to spare and what a flush adds shows.
const PROVIDER_MS = Number(process.env.BENCH_PROVIDER_MS ?? 0)

if (role === 'agent') await agentRole()
else if (role === 'provider') await providerRole()
else if (role === 'service') await serviceRole(...args)
else await driver()

async function agentRole () {
  const { startAgent } = await import(new URL('agent/start_agent.js', dist))
  const agent = await startAgent({ port: 0, db: ':memory:' })
  process.stdout.write(agent.url + '\n')
}

async function providerRole () {
  const answer = JSON.stringify({
    id: 'chatcmpl-1', object: 'chat.completion', created: 1700000000, model: 'gpt-4o-mini-2024-07-18',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello world' }, finish_reason: 'stop', logprobs: null }],
    usage: { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 },
  })
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const reply = () => {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) })
        res.end(answer)
      }
      if (PROVIDER_MS > 0) setTimeout(reply, PROVIDER_MS)
      else reply()
    })
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`))
}

async function serviceRole (agentUrl, providerUrl, mode) {
  const { Tracer } = await import(new URL('root/tracer.js', dist))
  const { LLMObs } = await import(new URL('llmobs/sdk.js', dist))
  const { wrapOpenAI } = await import(new URL('integrations/openai/instrument.js', dist))
  const { default: OpenAI } = await import('openai')
  const tracer = new Tracer({ url: agentUrl, service: 'bench-svc' })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp: `bench-${mode}` })
  const client = wrapOpenAI(new OpenAI({ apiKey: 'k', baseURL: `${providerUrl}/v1`, maxRetries: 0 }), { llmobs })
  const info = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const roundTrip = () => new Promise((resolve, reject) => {
    http.get(`${agentUrl}/info`, { agent: info }, (res) => { res.resume(); res.on('end', resolve) }).on('error', reject)
  })
  const server = http.createServer((req, res) => {
    req.resume()
    let span
    tracer.trace('http.request', { resource: 'GET /' }, async (s) => {
      span = s
      const out = await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] })
      return out.choices[0].message.content
    }).then(async (answer) => {
      // A kept-alive socket the agent closed as we reused it hangs up: the usual keep-alive
      // race, retried once as HTTP clients do.
      if (mode === 'rtt') await roundTrip().catch(() => roundTrip())
      else if (mode === 'process') await llmobs.flush()
      else if (mode === 'scoped') await llmobs.flushTrace(span)
      res.end(answer)
    }).catch((err) => { res.statusCode = 500; res.end(String(err)) })
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`))
  process.on('message', (m) => {
    if (m === 'stats') process.send({ stats: llmobs.stats(), cpuUs: process.cpuUsage() })
  })
}

function start (argv, ipc = false) {
  const child = spawn(process.execPath, [self, ...argv], { stdio: ['ignore', 'pipe', 'inherit', ...(ipc ? ['ipc'] : [])] })
  const url = new Promise((resolve) => child.stdout.once('data', (d) => resolve(String(d).trim())))
  return { child, url }
}

async function load (url, requests, concurrency) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  // A failed request is counted and reported, not a crash of the whole run.
  let errors = 0
  const one = () => new Promise((resolve) => {
    const t0 = performance.now()
    const failed = () => { errors++; resolve(undefined) }
    http.get(url, { agent }, (res) => {
      res.resume()
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - t0) : failed()))
      res.on('error', failed)
    }).on('error', failed)
  })
  // Warm-up: connections open, JIT warm, the service's first flushes out of the way.
  let left = Math.min(requests, concurrency * 4)
  await Promise.all(Array.from({ length: concurrency }, async () => { while (left-- > 0) await one() }))
  const latencies = []
  left = requests
  const t0 = performance.now()
  errors = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (left-- > 0) { const ms = await one(); if (ms !== undefined) latencies.push(ms) }
  }))
  const seconds = (performance.now() - t0) / 1000
  agent.destroy()
  latencies.sort((a, b) => a - b)
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
  return { p50: q(0.5), p99: q(0.99), rps: latencies.length / seconds, errors }
}

async function driver () {
  const RUNS = Number(process.env.BENCH_RUNS ?? 3)
  const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 4000)
  const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 200)
  const MODES = ['none', 'rtt', 'process', 'scoped']
  const agent = start(['agent'])
  const provider = start(['provider'])
  const [agentUrl, providerUrl] = await Promise.all([agent.url, provider.url])
  process.on('exit', () => { agent.child.kill(); provider.child.kill() })
  const results = Object.fromEntries(MODES.map((m) => [m, []]))
  console.log(`node ${process.version}, provider answers after ${PROVIDER_MS} ms, ${CONCURRENCY} concurrent requests, ${REQUESTS} measured per run, ${RUNS} runs per mode, interleaved; one LLM call per request`)
  for (let r = 0; r < RUNS; r++) {
    for (const mode of MODES) {
      const svc = start(['service', agentUrl, providerUrl, mode], true)
      const res = await load(await svc.url, REQUESTS, CONCURRENCY)
      svc.child.send('stats')
      const { stats } = await new Promise((resolve) => svc.child.once('message', resolve))
      svc.child.kill()
      results[mode].push({ ...res, pending: stats.pending, delivered: stats.delivered, created: stats.created })
    }
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
  const med = Object.fromEntries(MODES.map((m) => [m, {
    p50: median(results[m].map((x) => x.p50)),
    p99: median(results[m].map((x) => x.p99)),
    rps: median(results[m].map((x) => x.rps)),
    p99s: results[m].map((x) => x.p99.toFixed(1)).join(' / '),
    errors: results[m].reduce((a, x) => a + x.errors, 0),
    pending: median(results[m].map((x) => x.pending)),
  }]))
  console.log('\n| mode | p50 (ms) | p99 (ms) | p99 per run (ms) | requests/s | failed requests (all runs) | LLMObs events pending at the end (median) |')
  console.log('|---|---|---|---|---|---|---|')
  for (const m of MODES) console.log(`| ${m} | ${med[m].p50.toFixed(1)} | ${med[m].p99.toFixed(1)} | ${med[m].p99s} | ${med[m].rps.toFixed(0)} | ${med[m].errors} | ${med[m].pending} |`)
  const added = (m) => med[m].p99 - med.none.p99
  const scopedOverRtt = med.scoped.p99 - med.rtt.p99
  console.log(`\nscoped p99 − rtt p99: ${scopedOverRtt.toFixed(1)} ms (target ≤ 2 ms) ${scopedOverRtt <= 2 ? 'MET' : 'NOT MET'}`)
  console.log(`process-wide p99 ÷ scoped p99: ${(med.process.p99 / med.scoped.p99).toFixed(1)}× (target ≥ 5×) ${med.process.p99 / med.scoped.p99 >= 5 ? 'MET' : 'NOT MET'}`)
  console.log(`p99 added over none: rtt ${added('rtt').toFixed(1)} ms, scoped ${added('scoped').toFixed(1)} ms, process-wide ${added('process').toFixed(1)} ms (${(added('process') / Math.max(0.1, added('scoped'))).toFixed(1)}×)`)
  console.log(JSON.stringify({ results }))
  process.exit(0)
}
