import { DEFAULTS } from './defaults.js'
import { invalid, parseBool, parseEnum, parseNumber, parseString } from './parse.js'

/** Options accepted by `llmobs.enable()`. Each overrides its environment variable. */
export interface LlmobsOptions {
  mlApp?: string
  /** Send LLM Observability straight to Datadog's intake (needs an API key). */
  agentlessEnabled?: boolean
  site?: string
  apiKey?: string
  /** false: APM traces are not sent; events go to LLM Observability directly. */
  apmTracingEnabled?: boolean
  /**
   * Intake base URLs for agentless mode, for tests and proxies; defaults derive from `site`
   * (`https://llmobs-intake.<site>`, `https://api.<site>`, `https://public-trace-http-intake.logs.<site>`).
   */
  intakeUrl?: string
  evalIntakeUrl?: string
  traceIntakeUrl?: string
  flushIntervalMs?: number
  /** The durable spool (off unless a directory is given here or in DD_LLMOBS_SPOOL_DIR). */
  spool?: SpoolOptions
}

export type FsyncPolicy = 'interval' | 'always' | 'never'

export interface SpoolOptions {
  dir?: string
  maxBytes?: number
  fsync?: FsyncPolicy
}

export interface SpoolConfig {
  dir: string
  maxBytes: number
  fsync: FsyncPolicy
}

export interface LlmobsConfig {
  enabled: boolean
  /** Whether DD_LLMOBS_ENABLED was set at all (an explicit false is a choice, not an oversight). */
  enabledSet: boolean
  /** Explicit ml_app (option or DD_LLMOBS_ML_APP); the final fallback chain is applied per span. */
  mlApp: string | undefined
  agentless: boolean
  site: string
  apiKey: string | undefined
  apmTracingEnabled: boolean
  intakeUrl: string
  evalIntakeUrl: string
  traceIntakeUrl: string
  flushIntervalMs: number
  /** Undefined: no spool. */
  spool: SpoolConfig | undefined
}

type Env = Record<string, string | undefined>

export function resolveLlmobsConfig (opts: LlmobsOptions = {}, env: Env = process.env): LlmobsConfig {
  const site = parseString(opts.site) ?? parseString(env.DD_SITE) ?? DEFAULTS.llmobs.site
  return {
    enabled: parseBool('DD_LLMOBS_ENABLED', env.DD_LLMOBS_ENABLED, false),
    enabledSet: parseString(env.DD_LLMOBS_ENABLED) !== undefined,
    mlApp: parseString(opts.mlApp) ?? parseString(env.DD_LLMOBS_ML_APP),
    agentless: opts.agentlessEnabled ?? parseBool('DD_LLMOBS_AGENTLESS_ENABLED', env.DD_LLMOBS_AGENTLESS_ENABLED, false),
    site,
    apiKey: parseString(opts.apiKey) ?? parseString(env.DD_API_KEY),
    apmTracingEnabled: opts.apmTracingEnabled ?? parseBool('DD_APM_TRACING_ENABLED', env.DD_APM_TRACING_ENABLED, true),
    intakeUrl: parseString(opts.intakeUrl) ?? `https://llmobs-intake.${site}`,
    evalIntakeUrl: parseString(opts.evalIntakeUrl) ?? `https://api.${site}`,
    traceIntakeUrl: parseString(opts.traceIntakeUrl) ?? `https://public-trace-http-intake.logs.${site}`,
    flushIntervalMs: typeof opts.flushIntervalMs === 'number' && opts.flushIntervalMs > 0 ? opts.flushIntervalMs : DEFAULTS.llmobs.flushIntervalMs,
    spool: resolveSpool(opts.spool, env),
  }
}

const FSYNC: readonly FsyncPolicy[] = ['interval', 'always', 'never']

function resolveSpool (raw: SpoolOptions | undefined, env: Env): SpoolConfig | undefined {
  let o: SpoolOptions = {}
  if (raw !== undefined && raw !== null) {
    if (typeof raw === 'object') o = { dir: raw.dir, maxBytes: raw.maxBytes, fsync: raw.fsync }
    else invalid('spool', raw, 'expected an object { dir, maxBytes, fsync }', 'DD_LLMOBS_SPOOL_DIR')
  }
  const dir = (typeof o.dir === 'string' ? parseString(o.dir) : undefined) ?? parseString(env.DD_LLMOBS_SPOOL_DIR)
  if (dir === undefined) return undefined
  return {
    dir,
    maxBytes: o.maxBytes !== undefined
      ? parseNumber('spool.maxBytes', o.maxBytes, DEFAULTS.spool.maxBytes, { min: 1, integer: true })
      : parseNumber('DD_LLMOBS_SPOOL_MAX_BYTES', env.DD_LLMOBS_SPOOL_MAX_BYTES, DEFAULTS.spool.maxBytes, { min: 1, integer: true }),
    fsync: o.fsync !== undefined
      ? parseEnum('spool.fsync', o.fsync, FSYNC, DEFAULTS.spool.fsync)
      : parseEnum('DD_LLMOBS_SPOOL_FSYNC', env.DD_LLMOBS_SPOOL_FSYNC, FSYNC, DEFAULTS.spool.fsync),
  }
}

/** The fallback chain when nothing more specific names the ml_app (DESIGN §3.6). */
export function defaultMlApp (config: LlmobsConfig, service: string | undefined, env: Env = process.env): string {
  return config.mlApp ?? parseString(env.DD_SERVICE) ?? service ?? 'unnamed-ml-app'
}
