import { log } from '../diag/logger.js'
import { DEFAULTS } from './defaults.js'
import { invalid, parseNumber, parseString, type Raw } from './parse.js'

/** Options of the OTLP export mode (`tracer.init({ exporter: 'otlp', otlp: {...} })`); each wins over its variable. */
export interface OtlpOptions {
  /** The full URL spans are POSTed to (as `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`). */
  endpoint?: string
  headers?: Record<string, string>
  protocol?: 'http/protobuf' | 'http/json'
  timeoutMs?: number
  compression?: 'gzip' | 'none'
}

export interface OtlpExportConfig {
  /** Where spans are POSTed, e.g. `http://localhost:4318/v1/traces`. */
  url: string
  headers: Record<string, string>
  protocol: 'http/protobuf' | 'http/json'
  /** One export (every attempt and wait of its retries) ends within this. */
  timeoutMs: number
  compression: 'gzip' | 'none'
  /** `OTEL_RESOURCE_ATTRIBUTES` as given (keys not renamed): extra attributes of the OTLP resource. */
  resourceAttributes: Record<string, string>
}

type Env = Record<string, string | undefined>

/** `exporter` option or `OTEL_TRACES_EXPORTER`: `otlp` replaces the Agent; anything else warns once and keeps it. */
export function resolveExporter (option: unknown, env: Env): 'agent' | 'otlp' {
  const fromOption = option !== undefined && option !== null
  const raw = fromOption ? option : env.OTEL_TRACES_EXPORTER
  if (raw === undefined || raw === null || raw === '') return 'agent'
  const s = String(raw).trim().toLowerCase()
  if (s === 'otlp') return 'otlp'
  if (fromOption && s === 'agent') return 'agent'
  invalid(fromOption ? 'option exporter' : 'OTEL_TRACES_EXPORTER', raw, fromOption ? 'expected \'agent\' or \'otlp\'' : 'only otlp is supported (unset means the Datadog agent)', 'the Datadog agent')
  return 'agent'
}

/**
 * The standard OTLP exporter variables (OTel spec names): each `OTEL_EXPORTER_OTLP_TRACES_*`
 * wins over its generic `OTEL_EXPORTER_OTLP_*`; the generic endpoint is a base that gets
 * `/v1/traces` appended, the traces one is used as given. Header lists are merged, the
 * traces-specific entries winning key by key.
 */
export function resolveOtlpConfig (opts: OtlpOptions | undefined, env: Env): OtlpExportConfig {
  const o = readOptions(opts)
  return {
    url: resolveUrl(o.endpoint, env),
    headers: {
      ...parseHeaders('OTEL_EXPORTER_OTLP_HEADERS', env.OTEL_EXPORTER_OTLP_HEADERS),
      ...parseHeaders('OTEL_EXPORTER_OTLP_TRACES_HEADERS', env.OTEL_EXPORTER_OTLP_TRACES_HEADERS),
      ...headerOption(o.headers),
    },
    protocol: resolveProtocol(o.protocol, env),
    timeoutMs: o.timeoutMs !== undefined
      ? parseNumber('option otlp.timeoutMs', o.timeoutMs, DEFAULTS.otlp.timeoutMs, { min: 1, integer: true })
      : parseNumber(...specific(env, 'TIMEOUT'), DEFAULTS.otlp.timeoutMs, { min: 1, integer: true }),
    compression: resolveCompression(o.compression, env),
    resourceAttributes: parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES),
  }
}

/** `OTEL_RESOURCE_ATTRIBUTES`: `k=v,k2=v2`, percent-decoded; a malformed entry is left out with one warning. */
export function parseResourceAttributes (text: string | undefined): Record<string, string> {
  return parseKeyValues('OTEL_RESOURCE_ATTRIBUTES', text)
}

function readOptions (opts: unknown): OtlpOptions {
  if (opts === undefined || opts === null) return {}
  if (typeof opts !== 'object') {
    invalid('option otlp', opts, 'expected an object { endpoint, headers, protocol, timeoutMs, compression }', 'the OTEL_EXPORTER_OTLP_* variables')
    return {}
  }
  try {
    const { endpoint, headers, protocol, timeoutMs, compression } = opts as Record<string, unknown>
    return { endpoint: endpoint as string, headers: headers as Record<string, string>, protocol: protocol as OtlpOptions['protocol'], timeoutMs: timeoutMs as number, compression: compression as OtlpOptions['compression'] }
  } catch {
    invalid('option otlp', '(unreadable)', 'a getter threw', 'the OTEL_EXPORTER_OTLP_* variables')
    return {}
  }
}

/** [name, raw] of the traces-specific variable when set, else of the generic one. */
function specific (env: Env, suffix: string): [string, Raw] {
  const t = `OTEL_EXPORTER_OTLP_TRACES_${suffix}`
  if (parseString(env[t]) !== undefined) return [t, env[t]]
  const g = `OTEL_EXPORTER_OTLP_${suffix}`
  return [g, env[g]]
}

function resolveUrl (option: unknown, env: Env): string {
  if (option !== undefined && option !== null) {
    const u = httpUrl(String(option))
    if (u !== undefined) return u
    invalid('option otlp.endpoint', option, 'expected an http:// or https:// URL', DEFAULTS.otlp.url)
    return DEFAULTS.otlp.url
  }
  const traces = parseString(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
  if (traces !== undefined) {
    const u = httpUrl(traces)
    if (u !== undefined) return u
    invalid('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', traces, 'expected an http:// or https:// URL', DEFAULTS.otlp.url)
    return DEFAULTS.otlp.url
  }
  const base = parseString(env.OTEL_EXPORTER_OTLP_ENDPOINT)
  if (base !== undefined) {
    const u = httpUrl(base)
    if (u !== undefined) return u.replace(/\/+$/, '') + '/v1/traces'
    invalid('OTEL_EXPORTER_OTLP_ENDPOINT', base, 'expected an http:// or https:// URL', DEFAULTS.otlp.url)
  }
  return DEFAULTS.otlp.url
}

function httpUrl (text: string): string | undefined {
  let u: URL
  try { u = new URL(text.trim()) } catch { return undefined }
  if ((u.protocol !== 'http:' && u.protocol !== 'https:') || u.hostname === '') return undefined
  return u.toString()
}

function resolveProtocol (option: unknown, env: Env): OtlpExportConfig['protocol'] {
  const [name, raw] = option !== undefined && option !== null ? ['option otlp.protocol', option as Raw] : specific(env, 'PROTOCOL')
  if (raw === undefined || raw === null || raw === '') return DEFAULTS.otlp.protocol
  const s = String(raw).trim().toLowerCase()
  if (s === 'http/protobuf' || s === 'http/json') return s
  if (s === 'grpc') {
    log.warnOnce(`config:${name}`, `${name}=grpc is not supported (OTLP over HTTP only); using the default (${DEFAULTS.otlp.protocol})`)
    return DEFAULTS.otlp.protocol
  }
  invalid(name, raw, 'expected http/protobuf or http/json', DEFAULTS.otlp.protocol)
  return DEFAULTS.otlp.protocol
}

function resolveCompression (option: unknown, env: Env): OtlpExportConfig['compression'] {
  const [name, raw] = option !== undefined && option !== null ? ['option otlp.compression', option as Raw] : specific(env, 'COMPRESSION')
  if (raw === undefined || raw === null || raw === '') return DEFAULTS.otlp.compression
  const s = String(raw).trim().toLowerCase()
  if (s === 'gzip' || s === 'none') return s
  invalid(name, raw, 'expected gzip or none', DEFAULTS.otlp.compression)
  return DEFAULTS.otlp.compression
}

function parseHeaders (name: string, text: string | undefined): Record<string, string> {
  return parseKeyValues(name, text)
}

/** The W3C-baggage-like list the OTel spec uses: `k=v` pairs, comma-separated, percent-encoded. */
function parseKeyValues (name: string, text: string | undefined): Record<string, string> {
  const out: Array<[string, string]> = []
  if (text === undefined || text.trim() === '') return {}
  for (const part of text.split(',')) {
    if (part.trim() === '') continue
    const eq = part.indexOf('=')
    let key: string
    let value: string
    try {
      key = decodeURIComponent(eq < 0 ? part : part.slice(0, eq)).trim()
      value = eq < 0 ? '' : decodeURIComponent(part.slice(eq + 1)).trim()
    } catch {
      invalid(name, part, 'an entry is not valid percent-encoding', 'that entry left out')
      continue
    }
    if (eq < 0 || key === '') {
      invalid(name, part, 'expected key=value entries separated by commas', 'that entry left out')
      continue
    }
    out.push([key, value])
  }
  // fromEntries defines own properties: a "__proto__" key stays a key.
  return Object.fromEntries(out)
}

function headerOption (headers: unknown): Record<string, string> {
  if (headers === undefined || headers === null) return {}
  if (typeof headers !== 'object' || Array.isArray(headers)) {
    invalid('option otlp.headers', headers, 'expected an object of name: value', 'no extra headers')
    return {}
  }
  const out: Array<[string, string]> = []
  for (const [k, v] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof v === 'string') out.push([k, v])
    else invalid('option otlp.headers', v, `header ${k} must be a string`, 'left out')
  }
  return Object.fromEntries(out)
}
