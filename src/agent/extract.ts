import type { NewSpan, ArrivalPath } from './store.js'
import {
  invalid, isObject, jsonType, mlAppFromTags, optionalMetrics, optionalObject, optionalString, setOwn, spanKind,
  tagsToList, toJsonValue,
} from './json_checks.js'

/** What extraction needs from the APM span that carried `_llmobs`. */
export interface CarrierSpan {
  spanId: bigint
  name: string
  start: bigint
  duration: bigint
  error: number
}

const HEX16 = /^[0-9a-f]{16}$/

/**
 * The APM trace id as 32 lowercase hex: the high 64 bits from `_dd.p.tid` (on the chunk root
 * normally; any span of the chunk is accepted, root first) and the low 64 bits from trace_id.
 * A missing or malformed `_dd.p.tid` means a 64-bit id (high bits zero).
 */
export function apmTraceId (chunk: ReadonlyArray<{ traceId: bigint, meta: Record<string, string> }>, root: number): string {
  let high: string | undefined
  const rootTid = chunk[root]?.meta['_dd.p.tid']
  if (rootTid !== undefined && HEX16.test(rootTid.toLowerCase())) high = rootTid.toLowerCase()
  for (let i = 0; high === undefined && i < chunk.length; i++) {
    const tid = chunk[i].meta['_dd.p.tid']
    if (tid !== undefined && HEX16.test(tid.toLowerCase())) high = tid.toLowerCase()
  }
  const low = chunk.length > 0 ? chunk[0].traceId : 0n
  return (high ?? '0000000000000000') + low.toString(16).padStart(16, '0')
}

// Taken from the APM span, never from `_llmobs` (the APM span is the source of truth for them).
const FROM_APM_SPAN = new Set(['span_id', 'start_ns', 'duration', 'status'])
const KNOWN = new Set(['trace_id', 'parent_id', 'name', 'ml_app', 'session_id', 'tags', 'meta', 'metrics', '_dd', 'collection_errors'])

/**
 * Builds the LLMObs span event the intake would build from an APM span's `meta_struct._llmobs`
 * (DESIGN §3.5): trace_id, parent_id, name, ml_app, session_id, tags, meta, metrics from
 * `_llmobs`; span_id (decimal), start_ns, duration and status from the APM span; `_dd` with the
 * APM trace id. Keys of `_llmobs` it does not know (span_links, prompt, ...) are carried over
 * as they are. Throws InvalidInput with a reason when `_llmobs` has the wrong shape.
 */
export function eventFromLlmobs (raw: unknown, span: CarrierSpan, apmTrace: string, path: ArrivalPath, where: string): NewSpan {
  const w = `${where}: meta_struct._llmobs`
  if (!isObject(raw)) invalid(`${w} must be a map, got ${jsonType(raw)}`)
  const traceId = raw.trace_id
  if (typeof traceId !== 'string' || traceId === '') invalid(`${w}: field "trace_id" must be a non-empty string, got ${jsonType(traceId)}`)
  if (traceId.length > 128) invalid(`${w}: field "trace_id" is longer than 128 characters`)
  const parentId = parentIdOf(raw.parent_id, w)
  const name = optionalString(raw, 'name', w) ?? span.name
  const meta = optionalObject(raw, 'meta', w)
  const metrics = optionalMetrics(raw, 'metrics', w)
  const tags = tagsOf(raw.tags, w)
  const sessionId = optionalString(raw, 'session_id', w)
  const mlApp = optionalString(raw, 'ml_app', w) ?? mlAppFromTags(tags)
  const dd = optionalObject(raw, '_dd', w)
  const collectionErrors = raw.collection_errors
  if (collectionErrors !== undefined && collectionErrors !== null && !Array.isArray(collectionErrors)) {
    invalid(`${w}: field "collection_errors" must be a list, got ${jsonType(collectionErrors)}`)
  }

  const spanId = span.spanId.toString(10)
  const status = span.error !== 0 ? 'error' : 'ok'
  const startNs = span.start.toString(10)
  const duration = Number(span.duration < 0n ? 0n : span.duration)
  const event: Record<string, unknown> = {
    trace_id: traceId,
    span_id: spanId,
    parent_id: parentId,
    name,
    // A JSON number, as the intake format has it: exact below 2^53, within ~256 ns beyond
    // (the stored start_ns column keeps the exact decimal).
    start_ns: Number(span.start),
    duration,
    status,
    meta: meta === undefined ? {} : toJsonValue(meta),
    metrics: metrics ?? {},
    tags: tags ?? [],
  }
  if (sessionId !== undefined) event.session_id = sessionId
  if (mlApp !== undefined) event.ml_app = mlApp
  const ddOut = dd === undefined ? {} : toJsonValue(dd) as Record<string, unknown>
  ddOut.span_id = spanId
  ddOut.trace_id = apmTrace
  ddOut.apm_trace_id = apmTrace
  event._dd = ddOut
  if (Array.isArray(collectionErrors)) event.collection_errors = toJsonValue(collectionErrors)
  for (const k of Object.keys(raw)) {
    if (!KNOWN.has(k) && !FROM_APM_SPAN.has(k)) setOwn(event, k, toJsonValue(raw[k]))
  }
  return {
    traceId,
    spanId,
    parentId,
    name,
    kind: spanKind(meta) ?? null,
    mlApp: mlApp ?? null,
    status,
    startNs,
    duration,
    path,
    event: JSON.stringify(event),
  }
}

function parentIdOf (v: unknown, w: string): string {
  if (v === undefined || v === null) return 'undefined'
  if (typeof v === 'string') return v
  if (typeof v === 'bigint' || (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)) return v.toString(10)
  return invalid(`${w}: field "parent_id" must be a string, got ${jsonType(v)}`)
}

function tagsOf (v: unknown, w: string): string[] | undefined {
  if (v === undefined || v === null) return undefined
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      if (typeof v[i] !== 'string') invalid(`${w}: field "tags"[${i}] must be a string, got ${jsonType(v[i])}`)
    }
    return tagsToList(v as string[])
  }
  if (isObject(v)) return tagsToList(v)
  return invalid(`${w}: field "tags" must be a map or a list of strings, got ${jsonType(v)}`)
}
