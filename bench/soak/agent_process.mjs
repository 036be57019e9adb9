// The local agent for the soak, in a child process of its own: killing it is a real crash (the
// port closes, connections reset, what SQLite committed survives), its CPU and SQLite writes do
// not stall the tracer's event loop (which would turn into spurious client timeouts), and the
// heap the soak measures is the tracer's alone.
//
// Run as a child: `node agent_process.mjs <port> <db> [maxTraceBodyBytes] [maxEvpBodyBytes]`.
// It sends `{ url }` over IPC once listening, answers `{ cmd: 'count', mlApp, id }` with
// `{ id, rows, unique }` (read from its own read-only connection), and closes on `{ cmd: 'close' }`.
import { fork } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const here = fileURLToPath(import.meta.url)

if (process.argv[1] === here) await runChild()

async function runChild () {
  const [portArg, db, traceCap, evpCap] = process.argv.slice(2)
  const { startAgent } = await import('../../dist/src/agent/start_agent.js')
  const options = { port: Number(portArg), db, logger: { info: () => {}, warn: () => {} } }
  if (traceCap !== undefined && traceCap !== '') options.maxTraceBodyBytes = Number(traceCap)
  if (evpCap !== undefined && evpCap !== '') options.maxEvpBodyBytes = Number(evpCap)
  let agent
  try {
    agent = await startAgent(options)
  } catch (err) {
    process.send({ error: String(err?.message ?? err) })
    process.exit(1)
  }
  let reader
  process.on('message', async (msg) => {
    if (msg?.cmd === 'close') {
      reader?.close()
      await agent.close()
      process.exit(0)
    }
    if (msg?.cmd === 'count') {
      try {
        if (reader === undefined) {
          const Database = createRequire(import.meta.url)('better-sqlite3')
          reader = new Database(db, { readonly: true, fileMustExist: true })
        }
        const row = reader.prepare(`SELECT COUNT(*) AS rows, COUNT(DISTINCT trace_id || '/' || span_id) AS uniq
          FROM llmobs_spans WHERE ml_app = ?`).get(msg.mlApp)
        process.send({ id: msg.id, rows: row.rows, unique: row.uniq })
      } catch (err) {
        process.send({ id: msg.id, error: String(err?.message ?? err) })
      }
    }
  })
  // The parent went away (crashed or killed): do not linger holding the port.
  process.on('disconnect', () => process.exit(0))
  process.send({ url: agent.url })
}

/**
 * Starts the agent in a child process on `port` with the SQLite file `db`. Resolves once it
 * listens. `caps` lowers the body limits (to provoke real 413s).
 */
export async function startAgentProcess ({ port, db, caps = {} }) {
  const child = fork(here, [String(port), db, String(caps.trace ?? ''), String(caps.evp ?? '')], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const pending = new Map()
  let nextId = 1
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  const url = await new Promise((resolve, reject) => {
    const onMessage = (msg) => {
      if (msg?.url !== undefined) { child.off('message', onMessage); resolve(msg.url) }
      if (msg?.error !== undefined && msg.id === undefined) { child.off('message', onMessage); reject(new Error(`agent did not start: ${msg.error}`)) }
    }
    child.on('message', onMessage)
    exited.then(({ code, signal }) => reject(new Error(`agent exited before listening (${code ?? signal})`)))
  })
  child.on('message', (msg) => {
    const p = pending.get(msg?.id)
    if (p === undefined) return
    pending.delete(msg.id)
    if (msg.error !== undefined) p.reject(new Error(msg.error))
    else p.resolve(msg)
  })
  return {
    url,
    /** A crash: SIGKILL, no goodbye. */
    async kill () {
      child.kill('SIGKILL')
      await exited
    },
    /** A clean stop: the agent closes its server and database. */
    async close () {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.send({ cmd: 'close' })
      await exited
    },
    /** Rows and distinct (trace_id, span_id) identities stored for an ml_app. */
    count (mlApp) {
      const id = nextId++
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject })
        child.send({ cmd: 'count', mlApp, id })
      })
    },
  }
}
