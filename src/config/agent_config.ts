import { invalid, parseString } from './parse.js'

/**
 * The local agent's environment variables (beyond the tracer's DD_* table, which the README's
 * configuration table lists): read here, the one module that reads process.env, as the
 * fallback of each startAgent option. A malformed value warns once and is ignored.
 */
export const AGENT_ENV_VARS = [
  { name: 'LLMOBS_AGENT_OTLP_PORT', option: 'otlpPort', description: 'Port of the OTLP/HTTP intake (/v1/traces): 0-65535 (0 = any free port), or off.' },
  { name: 'LLMOBS_AGENT_PRICES', option: 'prices', description: 'JSON file of price rows that override or extend the shipped table.' },
  { name: 'LLMOBS_AGENT_RETENTION_MAX_AGE', option: 'retention.maxAgeMs', description: 'Maximum age of stored data: ms, or 30s / 15m / 12h / 7d; 0 = no limit.' },
  { name: 'LLMOBS_AGENT_RETENTION_MAX_SPANS', option: 'retention.maxSpans', description: 'Maximum LLMObs spans stored; 0 = no limit.' },
  { name: 'LLMOBS_AGENT_RETENTION_MAX_BYTES', option: 'retention.maxBytes', description: 'Maximum bytes the store uses: bytes, or 500MiB / 1GiB (K/M/G accepted); 0 = no limit.' },
] as const

export interface AgentEnv {
  prices: string | undefined
  /** Absent when unset; false for `off`. */
  otlpPort?: number | false
  retention: { maxAgeMs?: number, maxSpans?: number, maxBytes?: number }
}

type Env = Record<string, string | undefined>

export function resolveAgentEnv (env: Env = process.env): AgentEnv {
  const retention: AgentEnv['retention'] = {}
  const age = envValue(env, 'LLMOBS_AGENT_RETENTION_MAX_AGE', parseDurationMs, 'a duration: ms, or 30s, 15m, 12h, 7d')
  if (age !== undefined) retention.maxAgeMs = age
  const spans = envValue(env, 'LLMOBS_AGENT_RETENTION_MAX_SPANS', parseCount, 'a non-negative integer')
  if (spans !== undefined) retention.maxSpans = spans
  const bytes = envValue(env, 'LLMOBS_AGENT_RETENTION_MAX_BYTES', parseBytes, 'a size: bytes, or 500MiB, 1GiB')
  if (bytes !== undefined) retention.maxBytes = bytes
  const otlpPort = envValue(env, 'LLMOBS_AGENT_OTLP_PORT', parseOtlpPort, 'a port 0-65535 or off')
  const out: AgentEnv = { prices: parseString(env.LLMOBS_AGENT_PRICES), retention }
  if (otlpPort !== undefined) out.otlpPort = otlpPort === -1 ? false : otlpPort
  return out
}

function envValue (env: Env, name: string, parse: (s: string) => number | undefined, want: string): number | undefined {
  const raw = parseString(env[name])
  if (raw === undefined) return undefined
  const v = parse(raw)
  if (v === undefined) invalid(name, raw, `expected ${want}`, 'the startAgent default')
  return v
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `604800000`, `30s`, `15m`, `12h`, `7d` → ms; undefined when malformed. */
export function parseDurationMs (s: string): number | undefined {
  const m = /^([0-9]{1,15})(ms|s|m|h|d)?$/.exec(s.trim())
  if (m === null) return undefined
  const v = Number(m[1]) * UNIT_MS[m[2] ?? 'ms']
  return Number.isSafeInteger(v) ? v : undefined
}

/** `4318`, `0` → the port; `off` / `false` → -1 (no OTLP intake); undefined when malformed. */
export function parseOtlpPort (s: string): number | undefined {
  const t = s.trim().toLowerCase()
  if (t === 'off' || t === 'false') return -1
  return /^[0-9]{1,5}$/.test(t) && Number(t) <= 65535 ? Number(t) : undefined
}

export function parseCount (s: string): number | undefined {
  return /^[0-9]{1,15}$/.test(s.trim()) ? Number(s.trim()) : undefined
}

const UNIT_BYTES: Record<string, number> = { '': 1, k: 1024, kib: 1024, kb: 1024, m: 1024 ** 2, mib: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gib: 1024 ** 3, gb: 1024 ** 3 }

/** `1073741824`, `500MiB`, `1GiB`, `2G` → bytes (binary units); undefined when malformed. */
export function parseBytes (s: string): number | undefined {
  const m = /^([0-9]{1,15})\s*([a-zA-Z]*)$/.exec(s.trim())
  if (m === null) return undefined
  const unit = UNIT_BYTES[m[2].toLowerCase()]
  if (unit === undefined) return undefined
  const v = Number(m[1]) * unit
  return Number.isSafeInteger(v) ? v : undefined
}
