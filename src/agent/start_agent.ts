import { setMaxListeners } from 'node:events'
import type { AddressInfo } from 'node:net'
import { log } from '../diag/logger.js'
import type { AgentContext, AgentLogger } from './agent_context.js'
import { AgentSampler } from './agent_sampler.js'
import type { Counters } from './counters.js'
import { Faults } from './faults.js'
import { hostPolicy, isLoopbackHost } from './request_guards.js'
import { createAgentServer, type AgentServer } from './server.js'
import { createOtlpServer, OTLP_DEFAULT_PORT } from './otlp/otlp_server.js'
import { resolveAgentEnv } from '../config/agent_config.js'
import { PriceTable, checkPriceRows, readPriceFile, shippedPrices, type PriceRow } from './prices.js'
import { RETENTION_DEFAULTS, Retention, type RetentionLimits } from './retention.js'
import { Store } from './store.js'

export type { AgentLogger } from './agent_context.js'
export type { Counters } from './counters.js'
export type { PriceRow } from './prices.js'
export type { RetentionLimits } from './retention.js'

export interface AgentOptions {
  /** Interface to bind (default 127.0.0.1). Anything but loopback is warned about (unless apiKey is set). */
  host?: string
  /** Default 8126; 0 picks a free port (read it from `agent.port`). */
  port?: number
  /**
   * Port of the OTLP/HTTP intake (`POST /v1/traces`, protobuf or JSON), bound to `host` too:
   * default 4318 (a free port when `port` is 0), 0 picks a free port (read `agent.otlpUrl`), false serves no OTLP. When the
   * default port is taken the agent starts without it (`agent.otlpNotStarted` says why); a port
   * given here (or in env LLMOBS_AGENT_OTLP_PORT) that cannot be bound fails the start.
   */
  otlpPort?: number | false
  /** ':memory:' or a SQLite file path (default ./.llmobs/agent.db, directory created on demand). */
  db?: string
  /**
   * When set, the agentless endpoints (/api/v2/llmobs, /v1/input, eval-metric) and the query API
   * (/api/spans, /api/traces, /api/counters, ..., hence the web UI's data) require this DD-API-KEY.
   * The tracer-facing endpoints (/info, /v0.4|5/traces, /evp_proxy/) stay open, as the Agent's.
   */
  apiKey?: string
  /**
   * Host names (or addresses) the agent answers to besides loopback ones and `host`, e.g. the
   * name other containers reach it by. Any other Host header is refused (403) against DNS
   * rebinding. Bound to 0.0.0.0 or ::, any IP address is accepted as well.
   */
  allowedHosts?: string[]
  /** `rate_by_service` answered to tracers (default `{"service:,env:": 1}`). */
  rates?: Record<string, number>
  /** Errors sampler budget: priority-0 chunks with an error kept per 1-second window (default 10). */
  errorsPerSecond?: number
  /** Trace request cap (default 25 MiB, as the Agent). */
  maxTraceBodyBytes?: number
  /** EVP proxy and LLMObs intake request cap (default 10 MiB, as the Agent's EVP proxy). */
  maxEvpBodyBytes?: number
  logger?: AgentLogger
  /**
   * Price rows (or a JSON file of them) that override or extend the shipped table for span
   * costs: the first matching pattern wins, these before the shipped rows. Env LLMOBS_AGENT_PRICES.
   */
  prices?: PriceRow[] | string
  /**
   * Bounds of the store (defaults: 7 days, 1,000,000 spans, 1 GiB; 0 = no limit); the oldest
   * data is removed in small batches in the background. Env LLMOBS_AGENT_RETENTION_MAX_AGE,
   * _MAX_SPANS, _MAX_BYTES.
   */
  retention?: Partial<RetentionLimits>
}

export interface LocalAgent {
  /** `http://host:port`, ready for `DD_TRACE_AGENT_URL` or `new Tracer({ url })`. */
  readonly url: string
  readonly port: number
  readonly host: string
  /**
   * `http://host:port` of the OTLP intake, ready for `OTEL_EXPORTER_OTLP_ENDPOINT` (traces go to
   * its `/v1/traces`); undefined when it is off or its default port was taken.
   */
  readonly otlpUrl: string | undefined
  readonly otlpPort: number | undefined
  /** Why the OTLP intake is not running although it was not turned off (its default port was taken). */
  readonly otlpNotStarted: string | undefined
  /** Where the data lives (':memory:' or the file path). */
  readonly db: string
  /**
   * Stops serving (open connections are closed, fault delays cut short), waits until every
   * request handler has settled, then closes the database. Idempotent.
   */
  close (): Promise<void>
  /** Requests being handled right now (0 once every one has settled). For tests and tools. */
  inFlight (): number
  counters (): Counters
  /** For in-process tests and tools: read-only use (writes belong to the HTTP endpoints). */
  readonly store: Store
  /** @internal The store's bounds; `step()` runs one batch now (tests, tools). */
  readonly retention: Retention
}

export const AGENT_DEFAULTS = {
  host: '127.0.0.1',
  port: 8126,
  db: './.llmobs/agent.db',
  rates: { 'service:,env:': 1 } as Record<string, number>,
  errorsPerSecond: 10,
  maxTraceBodyBytes: 25 * 1024 * 1024,
  maxEvpBodyBytes: 10 * 1024 * 1024,
} as const


const defaultLogger: AgentLogger = {
  info: () => {},
  warn: (message) => log.warn(message),
}

/**
 * Starts the embedded local agent + intake: Datadog Agent endpoints (/info, /v0.4|5/traces,
 * /evp_proxy/), agentless intake endpoints, the SQLite store and the query API (/api/...), and
 * the OTLP intake on its own port (`otlpPort`). Rejects when a port cannot be bound or the
 * database cannot be opened.
 *
 * @example
 * const agent = await startAgent({ port: 0, db: ':memory:' })
 * const tracer = new Tracer({ url: agent.url })
 * // ...
 * await agent.close()
 */
export async function startAgent (options: AgentOptions = {}): Promise<LocalAgent> {
  const opts = options !== null && typeof options === 'object' ? options : {}
  const logger = opts.logger ?? defaultLogger
  const host = pick<string>(logger, 'host', opts.host, AGENT_DEFAULTS.host, (v) => typeof v === 'string' && v !== '')
  const port = pick<number>(logger, 'port', opts.port, AGENT_DEFAULTS.port, (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535)
  const db = pick<string>(logger, 'db', opts.db, AGENT_DEFAULTS.db, (v) => typeof v === 'string' && v !== '')
  const apiKey = pick<string | undefined>(logger, 'apiKey', opts.apiKey, undefined, (v) => typeof v === 'string' && v !== '')
  const rates = pick<Record<string, number>>(logger, 'rates', opts.rates, AGENT_DEFAULTS.rates, isRates)
  const errorsPerSecond = pick<number>(logger, 'errorsPerSecond', opts.errorsPerSecond, AGENT_DEFAULTS.errorsPerSecond, isCount)
  const maxTraceBodyBytes = pick<number>(logger, 'maxTraceBodyBytes', opts.maxTraceBodyBytes, AGENT_DEFAULTS.maxTraceBodyBytes, isPositive)
  const maxEvpBodyBytes = pick<number>(logger, 'maxEvpBodyBytes', opts.maxEvpBodyBytes, AGENT_DEFAULTS.maxEvpBodyBytes, isPositive)
  const allowedHosts = pick<string[]>(logger, 'allowedHosts', opts.allowedHosts, [], isHostList)
  if (!isLoopbackHost(host.toLowerCase()) && host !== '[::1]') {
    logger.warn(apiKey === undefined
      ? `local agent bound to ${host}: it has no authentication and stores LLM inputs and outputs; anyone who can reach this address can read them (set an API key to protect the query API and UI)`
      : `local agent bound to ${host}: the query API and UI need the API key, but traffic is plain HTTP and the tracer endpoints are open to anyone who can reach this address`)
  }

  const env = resolveAgentEnv()
  const otlpChosen = pick<number | false | undefined>(logger, 'otlpPort', opts.otlpPort, undefined, (v) => v === false || (Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 65535)) ?? env.otlpPort
  // An agent on an ephemeral port (tests, embedded runs) takes an ephemeral OTLP port too, so two
  // of them never contend for 4318 and none holds a fixed port it was not asked for.
  const otlpPort = otlpChosen ?? (port === 0 ? 0 : OTLP_DEFAULT_PORT)
  const prices = priceTable(logger, opts.prices ?? env.prices)
  const retention = retentionLimits(logger, opts.retention, env.retention)
  const store = new Store(db, { prices })
  const bounds = new Retention(store, retention)
  const closing = new AbortController()
  // Every request held by a delay fault listens on this signal until its delay ends; a test that
  // stalls dozens at once is not a leak, so Node's warning past 10 listeners would only mislead.
  setMaxListeners(0, closing.signal)
  const ctx: AgentContext = {
    store,
    sampler: new AgentSampler(errorsPerSecond),
    faults: new Faults(),
    rates: { ...rates },
    apiKey,
    hosts: hostPolicy(host, allowedHosts),
    maxTraceBodyBytes,
    maxEvpBodyBytes,
    logger,
    closing: closing.signal,
  }
  const agentServer = createAgentServer(ctx)
  const server = agentServer.server
  try {
    await listen(server, port, host)
  } catch (err) {
    store.close()
    throw err
  }
  let otlp: AgentServer | undefined
  let otlpNotStarted: string | undefined
  if (otlpPort !== false) {
    otlp = createOtlpServer(ctx)
    try {
      await listen(otlp.server, otlpPort, host)
    } catch (err) {
      otlp = undefined
      if (otlpChosen !== undefined) {
        await new Promise<void>((resolve) => server.close(() => resolve()))
        store.close()
        throw err
      }
      // Another collector or agent often holds 4318 already: the Datadog side still works. Not a
      // warning: every in-process agent of a test run but the first would print one.
      otlpNotStarted = `port ${otlpPort} is not available (${err instanceof Error ? err.message : String(err)}); set otlpPort / --otlp-port / LLMOBS_AGENT_OTLP_PORT to another port, or 0 for any`
      logger.info(`OTLP intake not started: ${otlpNotStarted}`)
    }
  }
  bounds.start()
  server.on('error', (err) => log.internalError('local agent server', err))
  otlp?.server.on('error', (err) => log.internalError('local agent OTLP server', err))
  const bound = (server.address() as AddressInfo).port
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host
  const url = `http://${urlHost}:${bound}`
  const otlpBound = otlp === undefined ? undefined : (otlp.server.address() as AddressInfo).port
  const otlpUrl = otlpBound === undefined ? undefined : `http://${urlHost}:${otlpBound}`
  logger.info(`local agent listening on ${url} (store: ${db})${otlpUrl !== undefined ? `, OTLP on ${otlpUrl}` : ''}`)

  let closed: Promise<void> | undefined
  return {
    url,
    port: bound,
    host,
    otlpUrl,
    otlpPort: otlpBound,
    otlpNotStarted,
    db,
    store,
    retention: bounds,
    counters: () => store.counters(),
    inFlight: () => agentServer.inFlight() + (otlp?.inFlight() ?? 0),
    close: () => {
      if (closed !== undefined) return closed
      closing.abort()
      bounds.stop()
      const servers = otlp === undefined ? [agentServer] : [agentServer, otlp]
      const stopped = servers.map((s) => new Promise<void>((resolve) => {
        s.server.close(() => resolve())
        s.server.closeAllConnections()
      }))
      // The store outlives every handler, so none ever writes to a closed database.
      closed = Promise.all([...stopped, ...servers.map((s) => s.drained())]).then(() => {}).finally(() => store.close())
      return closed
    },
  }
}

function listen (server: AgentServer['server'], port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

function pick<T> (logger: AgentLogger, name: string, value: unknown, fallback: T, ok: (v: unknown) => boolean): T {
  if (value === undefined || value === null) return fallback
  if (ok(value)) return value as T
  logger.warn(`startAgent: invalid option ${name}; using the default`)
  return fallback
}

function priceTable (logger: AgentLogger, v: unknown): PriceTable {
  if (v === undefined || v === null) return new PriceTable(shippedPrices())
  const { rows, problems } = typeof v === 'string' ? readPriceFile(v) : checkPriceRows(v, 'startAgent option prices')
  if (problems.length > 0) logger.warn(`prices: ${problems.length} row(s) ignored: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? '; ...' : ''}`)
  return new PriceTable([...rows, ...shippedPrices()])
}

function retentionLimits (logger: AgentLogger, opt: unknown, env: Partial<RetentionLimits>): RetentionLimits {
  const o = opt !== null && typeof opt === 'object' ? opt as Record<string, unknown> : {}
  if (opt !== undefined && opt !== null && typeof opt !== 'object') logger.warn('startAgent: invalid option retention; using the defaults')
  const one = (k: keyof RetentionLimits): number => pick<number>(logger, `retention.${k}`, o[k], env[k] ?? RETENTION_DEFAULTS[k], (x) => Number.isSafeInteger(x) && (x as number) >= 0)
  return { maxAgeMs: one('maxAgeMs'), maxSpans: one('maxSpans'), maxBytes: one('maxBytes') }
}

function isRates (v: unknown): boolean {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  return Object.values(v).every((r) => typeof r === 'number' && r >= 0 && r <= 1)
}

function isCount (v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 0
}

function isPositive (v: unknown): boolean {
  return Number.isInteger(v) && (v as number) > 0
}

function isHostList (v: unknown): boolean {
  return Array.isArray(v) && v.every((h) => typeof h === 'string' && /^\[?[A-Za-z0-9._:-]+\]?$/.test(h))
}
