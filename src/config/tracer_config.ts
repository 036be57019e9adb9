import { log } from '../diag/logger.js'
import { appPackage } from './app_package.js'
import { DEFAULTS } from './defaults.js'
import { invalid, parseBool, parseEnum, parseNumber, parseString, type Raw } from './parse.js'
import { parseTagString, readTagOption } from './tags.js'
import { parseResourceAttributes, resolveExporter, resolveOtlpConfig, type OtlpExportConfig, type OtlpOptions } from './otlp_config.js'
import { parseSamplingRules, type SamplingRule } from '../sampling/rules.js'

/** Options accepted by `tracer.init()`. Each one overrides its environment variable. */
export interface TracerOptions {
  service?: string
  env?: string
  version?: string
  /**
   * Tags on every APM span and every LLM Observability event, merged over `DD_TAGS`. Their
   * `env`, `service` and `version` are used when those are not set otherwise.
   */
  tags?: Record<string, string | number | boolean>
  /** `http://host:port` or `unix:///path/to/socket`. */
  url?: string
  enabled?: boolean
  debug?: boolean
  apiVersion?: 'v0.4' | 'v0.5'
  /** Array of rules, or the JSON text of `DD_TRACE_SAMPLING_RULES`. */
  samplingRules?: unknown
  /** Catch-all sampling rate after the rules (`DD_TRACE_SAMPLE_RATE`), clamped to [0, 1]. */
  sampleRate?: number
  rateLimit?: number
  partialFlushMinSpans?: number
  flushIntervalMs?: number
  /** Bound on traces with open spans holding finished ones (default 2000); see DEFAULTS.maxOpenTraces. */
  maxOpenTraces?: number
  /** How long such a trace may hold its finished spans (default 120 s). */
  maxOpenTraceAgeMs?: number
  /**
   * Opt-in: on SIGTERM, flush traces and LLM Observability (within the shutdown deadline), then
   * exit with status 143. Off by default: the host application owns its signals.
   */
  flushOnSigterm?: boolean
  /**
   * Implement the OpenTelemetry API (`@opentelemetry/api`, an optional peer): OTel spans become
   * our spans, in our traces, under our sampler. `DD_TRACE_OTEL_ENABLED`, as dd-trace reads it.
   */
  otel?: boolean
  /**
   * `'otlp'` (or `OTEL_TRACES_EXPORTER=otlp`): every span goes out as OTLP/HTTP to an
   * OpenTelemetry Collector or backend instead of the Datadog agent; LLM spans carry the GenAI
   * semantic-convention attributes. Default: the Datadog agent.
   */
  exporter?: 'agent' | 'otlp'
  /** The OTLP exporter's settings (over the `OTEL_EXPORTER_OTLP_*` variables). */
  otlp?: OtlpOptions
}

export type AgentEndpoint =
  | { kind: 'http', origin: string, host: string, port: number }
  | { kind: 'unix', socketPath: string, origin: string }

export interface TracerConfig {
  service: string
  env: string | undefined
  version: string | undefined
  /** `DD_TAGS` with the `tags` option over it; spans and events get them before their own. */
  tags: Record<string, string>
  enabled: boolean
  debug: boolean
  apiVersion: 'v0.4' | 'v0.5'
  /** Whether apiVersion was chosen explicitly (LLMObs warns only then when it forces v0.4). */
  apiVersionExplicit: boolean
  agent: AgentEndpoint
  /** The rules in order, `sampleRate` last as a catch-all when it is set. */
  samplingRules: SamplingRule[]
  sampleRate: number | undefined
  rateLimit: number
  partialFlushMinSpans: number
  flushIntervalMs: number
  maxOpenTraces: number
  maxOpenTraceAgeMs: number
  flushOnSigterm: boolean
  otel: boolean
  exporter: 'agent' | 'otlp'
  /** Set in OTLP mode only. */
  otlp: OtlpExportConfig | undefined
}

type Env = Record<string, string | undefined>

export function resolveTracerConfig (opts: TracerOptions = {}, env: Env = process.env): TracerConfig {
  const pick = (option: Raw, name: string): [Raw, string] =>
    option !== undefined && option !== null ? [option, `option ${optionName(name)}`] : [env[name], name]

  const [apiRaw, apiName] = pick(opts.apiVersion, 'DD_TRACE_API_VERSION')
  const apiVersion = parseEnum(apiName, apiRaw, ['v0.4', 'v0.5'] as const, DEFAULTS.apiVersion)

  let samplingRules: SamplingRule[] = []
  const rulesSource = opts.samplingRules ?? env.DD_TRACE_SAMPLING_RULES
  if (rulesSource !== undefined && rulesSource !== '') {
    const parsed = parseSamplingRules(rulesSource)
    if (parsed.error !== undefined) invalid(opts.samplingRules !== undefined ? 'option samplingRules' : 'DD_TRACE_SAMPLING_RULES', rulesSource, parsed.error, 'no rules')
    else samplingRules = parsed.rules
  }
  const sampleRate = resolveSampleRate(...pick(opts.sampleRate, 'DD_TRACE_SAMPLE_RATE'))
  if (sampleRate !== undefined) samplingRules = [...samplingRules, { sampleRate }]

  // OTEL_RESOURCE_ATTRIBUTES under DD_TAGS, with the standard keys renamed as dd-trace does.
  const otelTags = renamedResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES)
  const tags = { ...otelTags, ...parseTagString(parseString(env.DD_TAGS)), ...readTagOption(opts.tags) }
  const tag = (key: string): string | undefined => parseString(tags[key])
  const exporter = resolveExporter(opts.exporter, env)
  return {
    service: parseString(opts.service) ?? parseString(env.DD_SERVICE) ?? parseString(env.OTEL_SERVICE_NAME) ?? tag('service') ?? appPackage().service ?? 'node',
    env: parseString(opts.env) ?? parseString(env.DD_ENV) ?? tag('env'),
    version: parseString(opts.version) ?? parseString(env.DD_VERSION) ?? tag('version') ?? appPackage().version,
    tags,
    enabled: parseBool(...swap(pick(opts.enabled, 'DD_TRACE_ENABLED')), true),
    debug: parseBool(...swap(pick(opts.debug, 'DD_TRACE_DEBUG')), false),
    apiVersion,
    apiVersionExplicit: apiRaw !== undefined && apiRaw !== null && apiRaw !== '',
    agent: resolveAgent(opts.url, env),
    samplingRules,
    sampleRate,
    rateLimit: parseNumber(...swap(pick(opts.rateLimit, 'DD_TRACE_RATE_LIMIT')), DEFAULTS.rateLimit),
    partialFlushMinSpans: parseNumber(...swap(pick(opts.partialFlushMinSpans, 'DD_TRACE_PARTIAL_FLUSH_MIN_SPANS')), DEFAULTS.partialFlushMinSpans, { min: 1, integer: true }),
    flushIntervalMs: parseNumber(...swap(pick(opts.flushIntervalMs, 'DD_TRACE_FLUSH_INTERVAL')), DEFAULTS.traceFlushIntervalMs, { min: 1, max: 60_000, integer: true }),
    maxOpenTraces: parseNumber('option maxOpenTraces', opts.maxOpenTraces, DEFAULTS.maxOpenTraces, { min: 1, integer: true }),
    maxOpenTraceAgeMs: parseNumber('option maxOpenTraceAgeMs', opts.maxOpenTraceAgeMs, DEFAULTS.maxOpenTraceAgeMs, { min: 1, integer: true }),
    flushOnSigterm: opts.flushOnSigterm === true,
    otel: parseBool(...swap(pick(opts.otel, 'DD_TRACE_OTEL_ENABLED')), false),
    exporter,
    otlp: exporter === 'otlp' ? resolveOtlpConfig(opts.otlp, env) : undefined,
  }
}

const RESOURCE_RENAMES: Record<string, string> = {
  'service.name': 'service',
  'deployment.environment': 'env',
  'deployment.environment.name': 'env',
  'service.version': 'version',
}

function renamedResourceAttributes (text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (text === undefined) return out
  for (const [k, v] of Object.entries(parseResourceAttributes(text))) out[RESOURCE_RENAMES[k] ?? k] = v
  return out
}

/** Clamped to [0, 1] as dd-trace-js does; not a number: one warning and no catch-all rule. */
function resolveSampleRate (raw: Raw, name: string): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim())
  if (typeof raw === 'boolean' || !Number.isFinite(n)) {
    invalid(name, raw, 'expected a number between 0 and 1', 'unset: the agent\'s rates decide')
    return undefined
  }
  if (n < 0 || n > 1) log.warnOnce(`config:${name}`, `${name}=${n} is outside 0..1; using ${n < 0 ? 0 : 1}`)
  return Math.min(Math.max(n, 0), 1)
}

function swap ([raw, name]: [Raw, string]): [string, Raw] { return [name, raw] }

function optionName (envName: string): string {
  return {
    DD_TRACE_API_VERSION: 'apiVersion',
    DD_TRACE_ENABLED: 'enabled',
    DD_TRACE_DEBUG: 'debug',
    DD_TRACE_OTEL_ENABLED: 'otel',
    DD_TRACE_RATE_LIMIT: 'rateLimit',
    DD_TRACE_SAMPLE_RATE: 'sampleRate',
    DD_TRACE_PARTIAL_FLUSH_MIN_SPANS: 'partialFlushMinSpans',
    DD_TRACE_FLUSH_INTERVAL: 'flushIntervalMs',
  }[envName] ?? envName
}

export function resolveAgent (url: string | undefined, env: Env): AgentEndpoint {
  const fallback = parseAgentUrl(DEFAULTS.agentUrl) as AgentEndpoint
  const explicit = parseString(url) ?? parseString(env.DD_TRACE_AGENT_URL)
  if (explicit !== undefined) {
    const parsed = parseAgentUrl(explicit)
    if (parsed !== undefined) return parsed
    invalid(url !== undefined ? 'option url' : 'DD_TRACE_AGENT_URL', explicit, 'expected http://host:port or unix:///path', DEFAULTS.agentUrl)
    return fallback
  }
  const host = parseString(env.DD_AGENT_HOST) ?? '127.0.0.1'
  const port = parseNumber('DD_TRACE_AGENT_PORT', env.DD_TRACE_AGENT_PORT, 8126, { min: 1, max: 65535, integer: true })
  const bracketed = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  return parseAgentUrl(`http://${bracketed}:${port}`) ?? fallback
}

export function parseAgentUrl (text: string): AgentEndpoint | undefined {
  let u: URL
  try { u = new URL(text) } catch { return undefined }
  if (u.protocol === 'unix:') {
    const socketPath = decodeURIComponent(u.pathname)
    return socketPath === '' ? undefined : { kind: 'unix', socketPath, origin: 'http://localhost' }
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined
  if (u.hostname === '') return undefined
  const port = u.port !== '' ? Number(u.port) : (u.protocol === 'https:' ? 443 : 80)
  return { kind: 'http', origin: `${u.protocol}//${u.host}`, host: u.hostname.replace(/^\[|\]$/g, ''), port }
}
