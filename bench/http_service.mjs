// An HTTP service doing one LLM call per request, at CONCURRENCY requests in flight: p99 latency
// and the service's CPU per request with tracing off, with llmobs-ts and with dd-trace, each
// set up the way its README says for such an app (a preload: `--import llmobs-ts/register`,
// `--import dd-trace/initialize.mjs`; HTTP server and client plus the OpenAI integration).
// The service, a fake OpenAI (test/helpers/fake_openai.ts's answer) and the null agent each run in
// their own process; the load loop runs here. Modes interleaved, RUNS runs, medians (min–max).
// Target (issue 16): p99 ≤ 1.05× off, CPU ≤ 1.10× off, and below dd-trace's overhead.
//
// node bench/http_service.mjs   (after `npm run build`; bench/run.mjs calls it)
// BENCH_RUNS, BENCH_HTTP_REQUESTS, BENCH_CONCURRENCY, BENCH_AGENT_URL override the defaults.
import http from 'node:http'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const self = fileURLToPath(import.meta.url)
const here = dirname(self)
const [role, ...args] = process.argv.slice(2)

async function providerRole () {
  // The chat answer of test/helpers/fake_openai.ts (same shape and usage), on a server that keeps
  // idle connections for a minute: the helper's 5 s default races the client's socket reuse
  // when an overloaded machine holds a socket idle that long, and each lost race is a failure.
  const { SNAPSHOT, CHAT_USAGE, TEXT_PIECES } = await import('../dist/test/helpers/fake_openai.js')
  const answer = JSON.stringify({
    id: 'chatcmpl-1', object: 'chat.completion', created: 1700000000, model: 'gpt-4o-mini' + SNAPSHOT,
    choices: [{ index: 0, message: { role: 'assistant', content: TEXT_PIECES.join('') }, finish_reason: 'stop', logprobs: null }],
    usage: CHAT_USAGE,
  })
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) })
      res.end(answer)
    })
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`))
}

// The app: the same code in every mode; only the preload differs.
async function serviceRole (providerUrl) {
  const { default: OpenAI } = await import('openai')
  const client = new OpenAI({ apiKey: 'k', baseURL: `${providerUrl}/v1`, maxRetries: 0 })
  const server = http.createServer((req, res) => {
    req.resume()
    client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] })
      .then((out) => res.end(out.choices[0].message.content), (err) => { res.statusCode = 500; res.end(String(err)) })
  })
  server.keepAliveTimeout = 60_000
  server.listen(0, '127.0.0.1', () => process.stdout.write(`http://127.0.0.1:${server.address().port}\n`))
  process.on('message', (m) => { if (m === 'cpu') process.send({ cpuUs: process.cpuUsage() }) })
}

const MODES = {
  off: { preload: [], env: {} },
  'llmobs-ts': {
    preload: ['--import', 'llmobs-ts/register'],
    env: { DD_LLMOBS_ENABLED: 'true', DD_LLMOBS_ML_APP: 'bench-svc', DD_SERVICE: 'bench-svc' },
  },
  'dd-trace': {
    preload: ['--import', 'dd-trace/initialize.mjs'],
    env: {
      DD_LLMOBS_ENABLED: 'true', DD_LLMOBS_ML_APP: 'bench-svc', DD_SERVICE: 'bench-svc', DD_LLMOBS_AGENTLESS_ENABLED: 'false',
      DD_TRACE_TELEMETRY_ENABLED: 'false', DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false', DD_REMOTE_CONFIGURATION_ENABLED: 'false',
      DD_TRACE_STARTUP_LOGS: 'false', DD_RUNTIME_METRICS_ENABLED: 'false', DD_PROFILING_ENABLED: 'false',
    },
  },
}

function start (argv, { nodeArgs = [], env = {}, ipc = false } = {}) {
  const child = spawn(process.execPath, [...nodeArgs, self, ...argv], { stdio: ['ignore', 'pipe', 'inherit', ...(ipc ? ['ipc'] : [])], env: { ...process.env, ...env } })
  const url = new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(String(d).trim()))
    child.once('exit', (code) => reject(new Error(`${argv[0]} exited (${code}) before listening`)))
  })
  return { child, url }
}

function cpuOf (child) {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m.cpuUs.user + m.cpuUs.system))
    child.send('cpu')
  })
}

async function load (url, requests, concurrency, child) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency })
  let failed = 0
  const why = new Map()
  const fail = (reason) => { failed++; why.set(reason, (why.get(reason) ?? 0) + 1) }
  const one = () => new Promise((resolve) => {
    const t0 = performance.now()
    http.get(url, { agent }, (res) => {
      let body = ''
      res.on('data', (d) => { if (res.statusCode !== 200) body += d })
      res.on('end', () => { if (res.statusCode !== 200) fail(`${res.statusCode} ${body.slice(0, 80)}`); resolve(performance.now() - t0) })
    }).on('error', (err) => { fail(err.code ?? err.message); resolve(performance.now() - t0) })
  })
  // Warm-up: connections open, JIT warm, the tracer's first flushes out of the way.
  let left = concurrency * 4
  await Promise.all(Array.from({ length: concurrency }, async () => { while (left-- > 0) await one() }))
  const cpu0 = await cpuOf(child)
  const latencies = []
  left = requests
  const t0 = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => { while (left-- > 0) latencies.push(await one()) }))
  const seconds = (performance.now() - t0) / 1000
  const cpuUs = (await cpuOf(child)) - cpu0
  agent.destroy()
  latencies.sort((a, b) => a - b)
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]
  if (failed > 0) console.error(`failures: ${JSON.stringify(Object.fromEntries(why))}`)
  return { p50: q(0.5), p99: q(0.99), rps: latencies.length / seconds, cpuUsPerReq: cpuUs / latencies.length, failed }
}

async function driver () {
  const RUNS = Number(process.env.BENCH_RUNS ?? 5)
  const REQUESTS = Number(process.env.BENCH_HTTP_REQUESTS ?? 4000)
  const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 200)
  const kids = []
  process.on('exit', () => { for (const k of kids) k.kill() })
  let agentUrl = process.env.BENCH_AGENT_URL
  if (agentUrl === undefined) {
    const agent = spawn(process.execPath, [join(here, 'lib/null_agent.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] })
    kids.push(agent)
    agentUrl = await new Promise((resolve) => agent.stdout.once('data', (d) => resolve(String(d).trim())))
  }
  const provider = start(['provider'])
  kids.push(provider.child)
  const providerUrl = await provider.url
  const names = Object.keys(MODES)
  const results = Object.fromEntries(names.map((m) => [m, []]))
  for (let r = 0; r < RUNS; r++) {
    for (const mode of names) {
      const { preload, env } = MODES[mode]
      const svc = start(['service', providerUrl], { nodeArgs: preload, env: { ...env, DD_TRACE_AGENT_URL: agentUrl }, ipc: true })
      const res = await load(await svc.url, REQUESTS, CONCURRENCY, svc.child)
      svc.child.kill()
      results[mode].push(res)
    }
  }
  const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2 }
  const stat = (mode, key) => { const xs = results[mode].map((x) => x[key]); return { med: median(xs), min: Math.min(...xs), max: Math.max(...xs) } }
  const cell = (s, d) => `${s.med.toFixed(d)} (${s.min.toFixed(d)}–${s.max.toFixed(d)})`
  const off = { p99: stat('off', 'p99').med, cpu: stat('off', 'cpuUsPerReq').med }
  console.log(`## HTTP service, one LLM call per request (fake OpenAI in its own process), ${CONCURRENCY} concurrent, ${REQUESTS} requests per run, ${RUNS} runs`)
  console.log('| tracing | p50 (ms) | p99 (ms) | p99 ÷ off | CPU (µs/request) | CPU ÷ off | requests/s | failed |')
  console.log('|---|---|---|---|---|---|---|---|')
  for (const m of names) {
    const p99 = stat(m, 'p99'); const cpu = stat(m, 'cpuUsPerReq')
    const failed = results[m].reduce((a, x) => a + x.failed, 0)
    console.log(`| ${m} | ${cell(stat(m, 'p50'), 1)} | ${cell(p99, 1)} | ${m === 'off' ? '—' : (p99.med / off.p99).toFixed(2) + '×'} | ${cell(cpu, 0)} | ${m === 'off' ? '—' : (cpu.med / off.cpu).toFixed(2) + '×'} | ${stat(m, 'rps').med.toFixed(0)} | ${failed} |`)
  }
  const ours = { p99: stat('llmobs-ts', 'p99').med / off.p99, cpu: stat('llmobs-ts', 'cpuUsPerReq').med / off.cpu }
  const dd = { p99: stat('dd-trace', 'p99').med / off.p99, cpu: stat('dd-trace', 'cpuUsPerReq').med / off.cpu }
  const verdict = (ok) => (ok ? 'MET' : 'NOT MET')
  console.log(`\ntargets: p99 ≤ 1.05× off: ${ours.p99.toFixed(2)}× ${verdict(ours.p99 <= 1.05)}; CPU ≤ 1.10× off: ${ours.cpu.toFixed(2)}× ${verdict(ours.cpu <= 1.10)}; overhead below dd-trace's (p99 +${((ours.p99 - 1) * 100).toFixed(0)}% vs +${((dd.p99 - 1) * 100).toFixed(0)}%, CPU +${((ours.cpu - 1) * 100).toFixed(0)}% vs +${((dd.cpu - 1) * 100).toFixed(0)}%): ${verdict(ours.p99 - 1 < dd.p99 - 1 && ours.cpu - 1 < dd.cpu - 1)}\n`)
  for (const k of kids) k.kill()
}

// Last: the roles use the constants above.
if (role === 'provider') await providerRole()
else if (role === 'service') await serviceRole(...args)
else await driver()
