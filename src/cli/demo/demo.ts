import { mkdtempSync, rmSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAgent, type Counters, type LocalAgent } from '../../agent/start_agent.js'
import { LLMObs } from '../../llmobs/sdk.js'
import { Tracer } from '../../root/tracer.js'
import { claimDemoStore } from './demo_store.js'
import { startFakeProvider } from './fake_provider.js'
import { startChatService, startKnowledgeService, type Service } from './services.js'

/** Every option `demo` accepts, with its range (the top-level --help is checked against it). */
export const DEMO_OPTIONS = ['--once', '--sample-rate', '--requests', '--concurrency', '--seed'] as const

export const DEMO_USAGE = `usage: llmobs-ts demo [--once] [--sample-rate r] [--requests n] [--concurrency c] [--seed s]

Starts the local agent (port 8126 when free), runs a two-service LLM app against a fake model
provider, then prints the delivery ledger and serves the UI until Ctrl-C.
  --once          exit after the ledger instead (status 0 only when nothing was lost and
                  nothing arrived twice)
  --sample-rate   APM sampling rate of the app, 0 to 1 (default 0.25)
  --requests      chat requests to run, 1 to 100000 (default 200)
  --concurrency   requests at a time, 1 to 256 (default 8)
  --seed          seed of the fake provider's answers and errors, an integer (default 42)
`

interface DemoOptions { once: boolean, sampleRate: number, requests: number, concurrency: number, seed: number }

const RANGES: Record<string, { key: 'sampleRate' | 'requests' | 'concurrency' | 'seed', min: number, max: number, integer: boolean }> = {
  '--sample-rate': { key: 'sampleRate', min: 0, max: 1, integer: false },
  '--requests': { key: 'requests', min: 1, max: 100_000, integer: true },
  '--concurrency': { key: 'concurrency', min: 1, max: 256, integer: true },
  '--seed': { key: 'seed', min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER, integer: true },
}

export function parseDemoArgs (args: readonly string[]): DemoOptions | string {
  const o: DemoOptions = { once: false, sampleRate: 0.25, requests: 200, concurrency: 8, seed: 42 }
  for (let i = 0; i < args.length; i++) {
    const a = args[i]
    if (a === '--once') { o.once = true; continue }
    if (a === '-h' || a === '--help') return 'help'
    const eq = a.indexOf('=')
    const name = eq > 0 ? a.slice(0, eq) : a
    const range = RANGES[name]
    if (range === undefined || !Object.hasOwn(RANGES, name)) return `unknown option "${a}"`
    const text = eq > 0 ? a.slice(eq + 1) : args[++i]
    if (text === undefined || text.trim() === '') return `${name} needs a value`
    const v = Number(text)
    const ok = Number.isFinite(v) && v >= range.min && v <= range.max && (!range.integer || Number.isInteger(v))
    if (!ok) {
      const what = range.key === 'seed' ? 'an integer' : `${range.integer ? 'an integer' : 'a number'} from ${range.min} to ${range.max}`
      return `${name} must be ${what}, got "${text}"`
    }
    o[range.key] = v
  }
  return o
}

export async function runDemo (args: string[]): Promise<number> {
  const o = parseDemoArgs(args)
  if (o === 'help') { process.stdout.write(DEMO_USAGE); return 0 }
  if (typeof o === 'string') { process.stderr.write(`llmobs-ts demo: ${o}\n${DEMO_USAGE}`); return 2 }
  const out = process.stdout
  const claim = claimDemoStore()
  if (!claim.ok) { process.stderr.write(`llmobs-ts demo: ${claim.error}\n`); return 1 }
  let agent: LocalAgent
  try {
    agent = await startAgent({ port: await portFree(8126) ? 8126 : 0, db: claim.db, logger: { info: () => {}, warn: (m) => process.stderr.write(`agent: ${m}\n`) } })
  } catch (err) {
    claim.release()
    throw err
  }
  // Its own file, locked: clearing it never touches another agent's data.
  await fetch(`${agent.url}/api/reset`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
  out.write(`local agent + intake + UI on ${agent.url} (store: ${agent.db})\n`)
  const provider = await startFakeProvider(o.seed)
  const rules = [{ sample_rate: o.sampleRate }]
  // Durable delivery on, in a directory of this run's own: a fresh one adopts nothing, so the
  // ledger below stays this run's alone.
  const spoolDir = mkdtempSync(join(tmpdir(), 'llmobs-demo-spool-'))
  out.write(`spool (durable delivery): ${spoolDir}\n`)
  const front: Service = service(agent, 'chat-front', rules, spoolDir)
  const back: Service = service(agent, 'knowledge-base', rules, spoolDir)
  const kb = await startKnowledgeService(back, provider.url)
  const chat = await startChatService(front, provider.url, kb.url)
  out.write(`running ${o.requests} requests (APM sample rate ${o.sampleRate}, ${o.concurrency} at a time)\n`)

  const result = { ok: 0, failed: 0 }
  let next = 0
  const tty = process.stdout.isTTY === true
  const progress = (): void => {
    const line = `  ${result.ok + result.failed}/${o.requests} requests: ${result.ok} answered, ${result.failed} failed (model errors)`
    if (tty) out.write(`\r${line}`)
    else if ((result.ok + result.failed) % 50 === 0) out.write(`${line}\n`)
  }
  await Promise.all(Array.from({ length: o.concurrency }, async () => {
    for (let i = next++; i < o.requests; i = next++) {
      const res = await fetch(`${chat.url}/chat`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ question: QUESTIONS[i % QUESTIONS.length], session: `s-${i % 17}` }) })
      await res.arrayBuffer()
      if (res.ok) result.ok++
      else result.failed++
      progress()
    }
  }))
  if (tty) out.write('\n')
  await Promise.all([front.llmobs.flush(), back.llmobs.flush()])

  const ledger = await readLedger(agent, [front.llmobs.stats(), back.llmobs.stats()], 'support-bot')
  out.write('\ndelivery ledger\n')
  for (const [k, v] of ledger.lines) out.write(`  ${k}: ${v}\n`)
  out.write(LEDGER_NOTE)
  out.write(`\nUI: ${agent.url}/  (traces, spans, delivery counters)\n`)

  await Promise.all([chat.close(), kb.close(), provider.close()])
  const healthy = ledger.lost === 0 && ledger.duplicateArrivals === 0
  await Promise.all([front.tracer.shutdown(), back.tracer.shutdown(), front.llmobs.disable(), back.llmobs.disable()])
  // Everything settled (the ledger says so when healthy): what is left are the owners' locks.
  if (healthy) rmSync(spoolDir, { recursive: true, force: true })
  if (o.once) {
    await agent.close()
    claim.release()
    return healthy ? 0 : 1
  }
  // Listening before saying so: a Ctrl-C right after the line must reach the handler.
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    const stop = (s: NodeJS.Signals): void => { process.off('SIGINT', stop); process.off('SIGTERM', stop); resolve(s) }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })
  out.write('serving the UI; press Ctrl-C to stop\n')
  const signal = await stopped
  if (tty) out.write('\n') // after the ^C the terminal echoed
  await agent.close()
  claim.release()
  out.write(`llmobs-ts demo: ${signal}, stopped (local agent closed; its store: ${agent.db})\n`)
  return healthy ? 0 : 1
}

const QUESTIONS = [
  'Can I still get a refund for order A-1042?',
  'Where is my package?',
  'How do I change my shipping address?',
  'Is premium support included in my plan?',
  'My order arrived damaged <img src=x onerror=alert(1)>, what now?',
]

function service (agent: LocalAgent, name: string, rules: unknown[], spoolDir: string): Service {
  const tracer = new Tracer({ url: agent.url, service: name, env: 'demo', version: '1.0.0', samplingRules: rules })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp: 'support-bot', spool: { dir: spoolDir } })
  return { tracer, llmobs }
}

export interface Ledger { lines: Array<[string, number]>, lost: number, duplicateArrivals: number }

type Stats = ReturnType<LLMObs['stats']>

/**
 * What each figure means. The store keeps one row per (trace_id, span_id) (a UNIQUE key), so
 * "stored twice" is 0 by construction and not shown; a double send shows instead as a duplicate
 * arrival: an event that reached the agent when its identity was already stored (the agent's
 * `duplicates_suppressed`). A client that times out after the agent stored its post and sends
 * it again could cause one; the demo's agent is local and never slow, so here any is a bug.
 */
const LEDGER_NOTE = '  (delivered: distinct LLM spans stored; lost: created but never stored; duplicate arrivals:\n' +
  '   spans that reached the agent again after being stored, which the agent suppressed. The store\n' +
  '   holds each (trace_id, span_id) once, so a double send shows there, never as a second row.)\n'

/** The demo's ledger from the SDKs' stats, the distinct spans stored and the agent's counters. */
function buildLedger (stats: readonly Stats[], storedUnique: number, counters: Pick<Counters, 'duplicates_suppressed' | 'chunks_dropped_sampling'>): Ledger {
  const sum = (f: (st: Stats) => number): number => stats.reduce((n, st) => n + f(st), 0)
  const created = sum((x) => x.created)
  const lost = created - storedUnique
  const duplicateArrivals = counters.duplicates_suppressed
  return {
    lost,
    duplicateArrivals,
    lines: [
      ['created', created],
      ['rode the trace', sum((x) => x.rodeTrace)],
      ['rescued', sum((x) => x.rescuedPredictedDrop + x.rescuedPayloadFailed)],
      ['direct', sum((x) => x.direct)],
      ['delivered', storedUnique],
      ['lost', lost],
      ['duplicate arrivals', duplicateArrivals],
      ['agent: APM chunks dropped by sampling', counters.chunks_dropped_sampling],
    ],
  }
}

/** The ledger of `mlApp`'s spans at `agent`, given the stats of the SDKs that sent them. */
export async function readLedger (agent: LocalAgent, stats: readonly Stats[], mlApp: string): Promise<Ledger> {
  // In-process read of the agent's store (the query API pages at 1000 rows); rows are distinct
  // by the store's UNIQUE key.
  const stored = agent.store.queries.listSpans({ mlApp, limit: Number.MAX_SAFE_INTEGER }).length
  // The counters as any client sees them, over the query API.
  const res = await fetch(`${agent.url}/api/counters`)
  if (!res.ok) throw new Error(`GET /api/counters: HTTP ${res.status}`)
  const counters = await res.json() as Counters
  return buildLedger(stats, stored, counters)
}

function portFree (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}
