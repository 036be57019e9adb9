import { existsSync, statSync } from 'node:fs'
import { networkInterfaces } from 'node:os'
import { dirname, resolve } from 'node:path'
import { startAgent, type AgentOptions } from '../agent/start_agent.js'
import { parseBytes, parseCount, parseDurationMs, parseOtlpPort } from '../config/agent_config.js'

/** Every option `agent` accepts (the top-level --help is checked against it). */
export const AGENT_OPTIONS = ['--host', '--port', '--otlp-port', '--db', '--api-key', '--allowed-host', '--prices', '--retention-max-age', '--retention-max-spans', '--retention-max-bytes'] as const

export const AGENT_USAGE = `usage: llmobs-ts agent [--host 127.0.0.1] [--port 8126] [--otlp-port 4318|off] [--db ./.llmobs/agent.db|:memory:]
                       [--api-key <key>] [--allowed-host <name>]... [--prices <file>] [--retention-max-age 7d]
                       [--retention-max-spans 1000000] [--retention-max-bytes 1GiB]

Runs the local agent + intake until interrupted (Ctrl-C / SIGTERM).
  --host          interface to bind (default 127.0.0.1; anything else exposes stored LLM data)
  --port          port (default 8126; 0 picks a free one)
  --otlp-port     port of the OTLP/HTTP intake for OpenTelemetry apps (POST /v1/traces; default
                  4318, skipped with a warning when taken; 0 picks a free one; off: none)
  --db            SQLite file (created on demand; its directory must exist) or :memory:
                  (default ./.llmobs/agent.db, the .llmobs directory created if missing)
  --api-key       DD-API-KEY that the agentless endpoints and the query API / web UI require
                  (open the UI at /#key=<key>); unset: any non-empty key on agentless, open API
  --allowed-host  a Host name the agent answers to besides loopback and --host (repeatable);
                  other Host headers are refused, against DNS rebinding
  --prices        JSON file of model price rows overriding or extending the shipped table
  --retention-max-age    remove data older than this (ms, or 30s / 15m / 12h / 7d; default 7d; 0 = keep)
  --retention-max-spans  keep at most this many LLMObs spans (default 1000000; 0 = no limit)
  --retention-max-bytes  keep the store under this size (bytes, or 500MiB / 1GiB; default 1GiB; 0 = no limit)
`

const RETENTION_FLAGS: Record<string, ['maxAgeMs' | 'maxSpans' | 'maxBytes', (s: string) => number | undefined, string]> = {
  '--retention-max-age': ['maxAgeMs', parseDurationMs, 'a duration (ms, or 30s, 15m, 12h, 7d)'],
  '--retention-max-spans': ['maxSpans', parseCount, 'a non-negative integer'],
  '--retention-max-bytes': ['maxBytes', parseBytes, 'a size (bytes, or 500MiB, 1GiB)'],
}

type Parsed = { ok: true, options: AgentOptions, help: boolean } | { ok: false, error: string }

export function parseAgentArgs (args: readonly string[]): Parsed {
  const options: AgentOptions = {}
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]
    if (arg === '-h' || arg === '--help') return { ok: true, options, help: true }
    const eq = arg.indexOf('=')
    const name = eq > 0 ? arg.slice(0, eq) : arg
    if (!(AGENT_OPTIONS as readonly string[]).includes(name)) return { ok: false, error: `unknown option "${arg}"` }
    const value = eq > 0 ? arg.slice(eq + 1) : args[++i]
    if (value === undefined || value === '') return { ok: false, error: `${name} needs a value` }
    switch (name) {
      case '--host': options.host = value; break
      case '--db': {
        // Explicit paths are taken as given: creating directories for a typo (as root, at the
        // filesystem root) is worse than saying so.
        const dir = dirname(resolve(value))
        if (value !== ':memory:' && !(existsSync(dir) && statSync(dir).isDirectory())) return { ok: false, error: `--db ${value}: directory ${dir} does not exist (create it first, or use --db :memory:)` }
        options.db = value
        break
      }
      case '--api-key': options.apiKey = value; break
      case '--allowed-host': options.allowedHosts = [...(options.allowedHosts ?? []), value]; break
      case '--prices': options.prices = value; break
      case '--retention-max-age':
      case '--retention-max-spans':
      case '--retention-max-bytes': {
        const [key, parse, want] = RETENTION_FLAGS[name]
        const v = parse(value)
        if (v === undefined) return { ok: false, error: `${name} must be ${want}, got "${value}"` }
        options.retention = { ...options.retention, [key]: v }
        break
      }
      case '--otlp-port': {
        const port = parseOtlpPort(value)
        if (port === undefined) return { ok: false, error: `--otlp-port must be 0-65535 or off, got "${value}"` }
        options.otlpPort = port === -1 ? false : port
        break
      }
      case '--port': {
        const port = Number(value)
        if (!/^[0-9]{1,5}$/.test(value) || port > 65535) return { ok: false, error: `--port must be 0-65535, got "${value}"` }
        options.port = port
        break
      }
    }
  }
  return { ok: true, options, help: false }
}

/**
 * `llmobs-ts agent`: starts the local agent, prints its URL on stdout, and runs until SIGINT or
 * SIGTERM, then closes the server and the database. Resolves to the exit code. The API key is
 * never printed.
 */
export async function runAgentCommand (args: string[]): Promise<number> {
  const parsed = parseAgentArgs(args)
  if (!parsed.ok) {
    process.stderr.write(`llmobs-ts agent: ${parsed.error}\n${AGENT_USAGE}`)
    return 2
  }
  if (parsed.help) {
    process.stdout.write(AGENT_USAGE)
    return 0
  }
  const logger = {
    info: () => {},
    warn: (message: string) => { process.stderr.write(`llmobs-ts agent: warning: ${message}\n`) },
  }
  let agent
  try {
    agent = await startAgent({ ...parsed.options, logger })
  } catch (err) {
    process.stderr.write(`llmobs-ts agent: could not start: ${startError(err, parsed.options)}\n`)
    return 1
  }
  const started = agent
  process.stdout.write(`llmobs-ts local agent listening on ${started.url}\n` +
    `  store: ${started.db}${parsed.options.apiKey !== undefined ? '  (API key required on agentless endpoints and the query API)' : ''}\n` +
    `  point tracers at it: DD_TRACE_AGENT_URL=${started.url}\n` +
    (started.otlpUrl !== undefined ? `  point OpenTelemetry apps at it: OTEL_EXPORTER_OTLP_ENDPOINT=${started.otlpUrl}\n` : '') +
    (started.otlpNotStarted !== undefined ? `  OTLP intake not started: ${started.otlpNotStarted}\n` : '') +
    // Never the key itself: this line ends up in terminals, CI logs and screenshots.
    `  web UI: ${started.url}/${parsed.options.apiKey !== undefined ? '#key=<your API key>' : ''}\n` +
    boundLines(started.host, started.port))
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    const onSignal = (s: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      resolve(s)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
  })
  await started.close()
  const c = started.counters()
  process.stdout.write(`llmobs-ts agent: ${signal}, stopped (${c.payloads_received} payloads, ${c.llmobs_extracted + c.llmobs_evp + c.llmobs_agentless + c.llmobs_otlp - c.duplicates_suppressed} LLMObs spans in the store)\n`)
  return 0
}

/** What went wrong, in the user's terms, with what to do about it. */
export function startError (err: unknown, options: AgentOptions): string {
  const code = (err as { code?: unknown } | null)?.code
  const where = `${options.host ?? '127.0.0.1'}:${options.port ?? 8126}`
  // The OTLP port fails the start only when it was chosen; say which of the two it was.
  const failed = (err as { port?: unknown } | null)?.port
  if (code === 'EADDRINUSE' && typeof options.otlpPort === 'number' && failed === options.otlpPort && failed !== options.port) {
    return `OTLP port ${options.otlpPort} is already in use on ${options.host ?? '127.0.0.1'} (an OpenTelemetry Collector?); choose another with --otlp-port <n>, --otlp-port 0 for a free one, or --otlp-port off`
  }
  if (code === 'EADDRINUSE') return `port ${options.port ?? 8126} is already in use on ${options.host ?? '127.0.0.1'} (another agent?); choose another with --port <n>, or --port 0 for a free one`
  if (code === 'EACCES') return `not allowed to listen on ${where} (ports below 1024 need privileges); use --port 0 for a free one`
  if (code === 'EADDRNOTAVAIL') return `${options.host ?? ''} is not an address of this machine; use --host 127.0.0.1 or --host 0.0.0.0`
  return err instanceof Error ? err.message : String(err)
}

/** A wildcard bind is reachable at every interface address: name them, not just loopback. */
function boundLines (host: string, port: number): string {
  if (host !== '0.0.0.0' && host !== '::') return ''
  const addresses: string[] = []
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) {
      if (a.internal || (host === '0.0.0.0' && a.family !== 'IPv4')) continue
      addresses.push(a.family === 'IPv6' ? `http://[${a.address}]:${port}` : `http://${a.address}:${port}`)
    }
  }
  return `  bound to ${host === '::' ? `[::]:${port}` : `${host}:${port}`} (every interface)${addresses.length > 0 ? `: also reachable at ${addresses.join(', ')}` : ''}\n`
}
