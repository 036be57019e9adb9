import type { DecodedSpan } from './trace_span.js'
import { DEFAULT_MAX_SPANS } from './trace_span.js'
import { setOwn } from './msgpack_value.js'
import { quote } from './span_fields.js'

/**
 * Decodes an agentless APM body (`POST /v1/input`): JSON `{"traces": [{"spans": [span, ...]}, ...]}`.
 *
 * What the tracers send (facts from dd-trace-py's AgentlessTraceJSONEncoder and dd-trace-js's
 * AgentlessJSONEncoder), and so what is accepted:
 * - ids are lowercase hex strings: dd-trace-py pads them to 16 digits, dd-trace-js does not
 *   (a root's parent_id is "0"); 1 to 16 hex digits of either case are accepted.
 * - `start` is nanoseconds since the epoch from dd-trace-py but whole *seconds* from dd-trace-js;
 *   a positive start below 1e11 (year 5138 in seconds, 100 s after 1970 in nanoseconds) is read
 *   as seconds. Numbers above 2^53 lose precision in JSON.parse (sub-microsecond for a start);
 *   a decimal string is also accepted and kept exact.
 * - dd-trace-py leaves out empty `meta`/`metrics`/`type` and zero `start`/`duration`; missing or
 *   null fields read as their zero value.
 * - `meta_struct` values are plain JSON values (not msgpack bin), returned as parsed.
 * - a trace object may carry other keys (dd-trace-js spreads shared metadata into it): ignored;
 *   a bare array of spans is accepted as a trace too. Unknown span keys are ignored.
 * Never throws.
 */
export interface AgentlessDecodedSpan extends Omit<DecodedSpan, 'metaStruct'> {
  /** meta_struct values as sent (already-decoded JSON, e.g. `_llmobs` as an object). */
  metaStructJson: Record<string, unknown>
}

export type AgentlessDecodeResult = { ok: true, chunks: AgentlessDecodedSpan[][] } | { ok: false, reason: string }

export interface AgentlessDecodeOptions {
  /** Spans in one body (default DEFAULT_MAX_SPANS). */
  maxSpans?: number
  /** Nesting allowed inside each meta_struct value (default 128, as the msgpack reader). */
  maxDepth?: number
}

const HEX_ID = /^[0-9a-fA-F]{1,16}$/
const DECIMAL = /^-?[0-9]{1,20}$/
const INT64_MIN = -0x8000000000000000n
const INT64_MAX = 0x7fffffffffffffffn
/** Below this a positive start is taken as seconds (see above). */
const SECONDS_CUTOFF = 1e11

class JsonDecodeError extends Error {}

export function decodeAgentlessTraces (text: string, options: AgentlessDecodeOptions = {}): AgentlessDecodeResult {
  if (typeof text !== 'string') return { ok: false, reason: 'body must be text' }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    return { ok: false, reason: `invalid JSON: ${err instanceof Error ? err.message : String(err)}` }
  }
  const maxSpans = options.maxSpans ?? DEFAULT_MAX_SPANS
  const maxDepth = options.maxDepth ?? 128
  let where = ''
  try {
    if (!isObject(doc)) fail(`body must be an object {"traces": [...]}, got ${jsonType(doc)}`)
    const traces = doc.traces
    if (!Array.isArray(traces)) fail(`field "traces" must be an array, got ${jsonType(traces)}`)
    const chunks: AgentlessDecodedSpan[][] = []
    let spanCount = 0
    for (let t = 0; t < traces.length; t++) {
      where = `traces[${t}]`
      const trace: unknown = traces[t]
      const spans = Array.isArray(trace) ? trace : isObject(trace) ? trace.spans : undefined
      if (!Array.isArray(spans)) {
        fail(isObject(trace) ? `field "spans" must be an array, got ${jsonType(trace.spans)}` : `must be an object {"spans": [...]}, got ${jsonType(trace)}`)
      }
      spanCount += spans.length
      if (spanCount > maxSpans) fail(`more than ${maxSpans} spans in one payload`)
      const chunk: AgentlessDecodedSpan[] = []
      for (let s = 0; s < spans.length; s++) {
        where = `traces[${t}].spans[${s}]`
        chunk.push(readSpan(spans[s], maxDepth))
      }
      chunks.push(chunk)
    }
    return { ok: true, chunks }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err)
    return { ok: false, reason: where === '' ? message : `${where}: ${message}` }
  }
}

function readSpan (v: unknown, maxDepth: number): AgentlessDecodedSpan {
  if (!isObject(v)) fail(`span must be an object, got ${jsonType(v)}`)
  let start = int64Field(v, 'start')
  if (start > 0n && start < SECONDS_CUTOFF) start *= 1_000_000_000n
  return {
    traceId: hexId(v, 'trace_id'),
    spanId: hexId(v, 'span_id'),
    parentId: hexId(v, 'parent_id'),
    service: stringField(v, 'service'),
    name: stringField(v, 'name'),
    resource: stringField(v, 'resource'),
    type: stringField(v, 'type'),
    start,
    duration: int64Field(v, 'duration'),
    error: errorField(v),
    meta: readMeta(v.meta),
    metrics: readMetrics(v.metrics),
    metaStructJson: readMetaStruct(v.meta_struct, maxDepth),
  }
}

function hexId (span: Record<string, unknown>, name: string): bigint {
  const v = span[name]
  if (v === undefined || v === null) return 0n
  if (typeof v !== 'string' || !HEX_ID.test(v)) {
    fail(`field ${quote(name)} must be a hex string of 1 to 16 digits, got ${typeof v === 'string' ? quote(v) : jsonType(v)}`)
  }
  return BigInt(`0x${v}`)
}

function stringField (span: Record<string, unknown>, name: string): string {
  const v = span[name]
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') fail(`field ${quote(name)} must be a string, got ${jsonType(v)}`)
  return v
}

function int64Field (span: Record<string, unknown>, name: string): bigint {
  const v = span[name]
  if (v === undefined || v === null) return 0n
  let n: bigint
  if (typeof v === 'number' && Number.isFinite(v)) n = BigInt(Math.trunc(v))
  else if (typeof v === 'string' && DECIMAL.test(v)) n = BigInt(v)
  else return fail(`field ${quote(name)} must be an integer (number or decimal string), got ${typeof v === 'string' ? quote(v) : jsonType(v)}`)
  if (n < INT64_MIN || n > INT64_MAX) fail(`field ${quote(name)} value ${n} overflows int64`)
  return n
}

function errorField (span: Record<string, unknown>): number {
  const v = span.error
  if (v === undefined || v === null) return 0
  if (typeof v === 'boolean') return v ? 1 : 0
  if (typeof v !== 'number' || !Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) {
    fail(`field "error" must be an int32, got ${typeof v === 'number' ? String(v) : jsonType(v)}`)
  }
  return v
}

function readMeta (v: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (v === undefined || v === null) return out
  if (!isObject(v)) fail(`field "meta" must be an object, got ${jsonType(v)}`)
  for (const key of Object.keys(v)) {
    const value = v[key]
    if (typeof value === 'string') setOwn(out, key, value)
    else if (value === null) setOwn(out, key, '')
    else fail(`field "meta" key ${quote(key)}: value must be a string, got ${jsonType(value)}`)
  }
  return out
}

function readMetrics (v: unknown): Record<string, number> {
  const out: Record<string, number> = {}
  if (v === undefined || v === null) return out
  if (!isObject(v)) fail(`field "metrics" must be an object, got ${jsonType(v)}`)
  for (const key of Object.keys(v)) {
    const value = v[key]
    if (typeof value === 'number') setOwn(out, key, value)
    else if (value === null) setOwn(out, key, 0)
    else fail(`field "metrics" key ${quote(key)}: value must be a number, got ${jsonType(value)}`)
  }
  return out
}

function readMetaStruct (v: unknown, maxDepth: number): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (v === undefined || v === null) return out
  if (!isObject(v)) fail(`field "meta_struct" must be an object, got ${jsonType(v)}`)
  for (const key of Object.keys(v)) {
    const value = v[key]
    if (exceedsDepth(value, maxDepth)) fail(`field "meta_struct" key ${quote(key)}: nesting deeper than ${maxDepth} levels`)
    setOwn(out, key, value)
  }
  return out
}

/** Whether containers nest deeper than `budget` levels (stops descending once they do). */
function exceedsDepth (v: unknown, budget: number): boolean {
  if (v === null || typeof v !== 'object') return false
  if (budget <= 0) return true
  const values = Array.isArray(v) ? v : Object.values(v)
  for (let i = 0; i < values.length; i++) if (exceedsDepth(values[i], budget - 1)) return true
  return false
}

function isObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function jsonType (v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'nothing'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

function fail (message: string): never {
  throw new JsonDecodeError(message)
}
