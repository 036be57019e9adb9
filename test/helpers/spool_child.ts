import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import type { LocalAgent } from '../../src/agent/start_agent.js'
import type { LlmobsStats } from '../../src/export/ledger.js'
import { request } from './agent_client.js'

/** Runs test/fixtures/spool/child.mjs (see its header) and collects its JSON lines. */
const CHILD = new URL('../../../test/fixtures/spool/child.mjs', import.meta.url).pathname
const GUARD_MS = 60_000

export interface ChildLine { event: string, stats?: LlmobsStats }
export interface ChildRun { code: number | null, signal: NodeJS.Signals | null, lines: ChildLine[], stderr: string }

export interface SpoolChild {
  proc: ChildProcess
  lines: ChildLine[]
  /** Resolves with the first line whose event is `event`. */
  line: (event: string) => Promise<ChildLine>
  done: Promise<ChildRun>
}

export function startChild (mode: string, url: string, dir: string, side: string, args: string[] = [], env: Record<string, string> = {}): SpoolChild {
  const proc = spawn(process.execPath, [CHILD, mode, url, dir, side, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } })
  const lines: ChildLine[] = []
  const waiting: Array<{ event: string, resolve: (l: ChildLine) => void }> = []
  let out = ''
  let stderr = ''
  // A hang is a failure, not a wait: the guard kills a child still running after a minute.
  const guard = setTimeout(() => proc.kill('SIGKILL'), GUARD_MS)
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString()
    let nl: number
    while ((nl = out.indexOf('\n')) >= 0) {
      const l = JSON.parse(out.slice(0, nl)) as ChildLine
      out = out.slice(nl + 1)
      lines.push(l)
      for (const w of waiting.filter((x) => x.event === l.event)) { waiting.splice(waiting.indexOf(w), 1); w.resolve(l) }
    }
  })
  proc.stderr?.on('data', (d: Buffer) => { stderr += d.toString() })
  const done = new Promise<ChildRun>((resolve) => {
    proc.on('close', (code, signal) => {
      clearTimeout(guard)
      resolve({ code, signal, lines, stderr })
    })
  })
  const line = (event: string): Promise<ChildLine> => {
    const seen = lines.find((l) => l.event === event)
    if (seen !== undefined) return Promise.resolve(seen)
    return Promise.race([
      new Promise<ChildLine>((resolve) => waiting.push({ event, resolve })),
      done.then((r) => { throw new Error(`child exited (${r.code ?? r.signal}) before "${event}": ${r.stderr.slice(0, 2000)}`) }),
    ])
  }
  return { proc, lines, line, done }
}

/** The (trace_id:span_id) of every span the children recorded as finished and on disk. */
export function recordedIds (side: string): string[] {
  if (!existsSync(side)) return []
  return readFileSync(side, 'utf8').split('\n').filter((l) => l !== '')
}

/** How many times each (trace_id:span_id) is stored at the agent. */
export function storedCounts (agent: LocalAgent): Map<string, number> {
  const counts = new Map<string, number>()
  for (const s of agent.store.queries.listSpans({ limit: 1_000_000 })) {
    const key = `${s.trace_id}:${s.span_id}`
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return counts
}

/** Every file left under the spool directory, recursively (relative paths). */
export function spoolFiles (dir: string, prefix = ''): string[] {
  if (!existsSync(dir)) return []
  const out: string[] = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(prefix + e.name + '/', ...spoolFiles(join(dir, e.name), prefix + e.name + '/'))
    else out.push(prefix + e.name)
  }
  return out
}

/** A port nothing listens on: the agent "down". */
export async function deadPort (): Promise<number> {
  const srv = net.createServer()
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve))
  const port = (srv.address() as net.AddressInfo).port
  await new Promise<void>((resolve) => srv.close(() => resolve()))
  return port
}

export async function setFault (agent: LocalAgent, fault: Record<string, unknown>): Promise<void> {
  const r = await request(agent.url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(fault) })
  if (r.status !== 200) throw new Error(`fault: ${r.status} ${r.body}`)
}

/** A small seeded PRNG (the demo's): kill moments are random, and reproducible from the printed seed. */
export { prng } from '../../src/cli/demo/prng.js'

export function invariantHolds (s: { created: number, delivered: number, pending: number, dropped: Record<string, number | undefined> }): boolean {
  const dropped = Object.values(s.dropped).reduce<number>((a, b) => a + (b ?? 0), 0)
  return s.created === s.delivered + s.pending + dropped
}
