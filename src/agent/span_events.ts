import type { ArrivalPath, NewSpan } from './store.js'
import {
  invalid, isObject, jsonType, mlAppFromTags, optionalMetrics, optionalObject, optionalString, optionalStringList,
  spanKind,
} from './json_checks.js'

const DECIMAL_ID = /^[0-9]{1,20}$/
const DECIMAL = /^[0-9]{1,20}$/

/**
 * Span events posted by an LLMObs writer (`/api/v2/llmobs`, directly or through the EVP proxy).
 * The body is a JSON array of envelopes `{"_dd.stage": "raw", "event_type": "span", "spans":
 * [event, ...]}` (dd-trace-js 5 sends one event per envelope); a single envelope object is
 * accepted too. Each event is checked for the fields the intake needs, with the types it
 * expects; other keys are kept as sent. The stored event is the event as received.
 * Throws InvalidInput with a reason.
 */
export function spansFromEnvelopes (doc: unknown, path: ArrivalPath): NewSpan[] {
  const envelopes = Array.isArray(doc) ? doc : [doc]
  if (!Array.isArray(doc) && !isObject(doc)) invalid(`body must be a list of envelopes or one envelope object, got ${jsonType(doc)}`)
  const out: NewSpan[] = []
  for (let e = 0; e < envelopes.length; e++) {
    const where = Array.isArray(doc) ? `envelope ${e}` : 'envelope'
    const env: unknown = envelopes[e]
    if (!isObject(env)) invalid(`${where} must be an object, got ${jsonType(env)}`)
    const eventType = optionalString(env, 'event_type', where)
    if (eventType !== undefined && eventType !== 'span') invalid(`${where}: unsupported event_type "${eventType.slice(0, 64)}" (expected "span")`)
    const spans = env.spans
    if (!Array.isArray(spans)) invalid(`${where}: field "spans" must be a list, got ${jsonType(spans)}`)
    for (let s = 0; s < spans.length; s++) out.push(checkEvent(spans[s], path, `${where} span ${s}`))
  }
  return out
}

function checkEvent (ev: unknown, path: ArrivalPath, where: string): NewSpan {
  if (!isObject(ev)) invalid(`${where} must be an object, got ${jsonType(ev)}`)
  const traceId = ev.trace_id
  if (typeof traceId !== 'string' || traceId === '') invalid(`${where}: field "trace_id" must be a non-empty string, got ${jsonType(traceId)}`)
  if (traceId.length > 128) invalid(`${where}: field "trace_id" is longer than 128 characters`)
  const spanId = ev.span_id
  if (typeof spanId !== 'string' || !DECIMAL_ID.test(spanId) || BigInt(spanId) >= 1n << 64n) {
    invalid(`${where}: field "span_id" must be a decimal uint64 string, got ${describe(spanId)}`)
  }
  const parentId = optionalString(ev, 'parent_id', where)
  const name = ev.name
  if (typeof name !== 'string') invalid(`${where}: field "name" must be a string, got ${jsonType(name)}`)
  const startNs = nonNegativeInteger(ev, 'start_ns', where)
  const duration = nonNegativeInteger(ev, 'duration', where)
  const status = optionalString(ev, 'status', where) ?? 'ok'
  if (status !== 'ok' && status !== 'error') invalid(`${where}: field "status" must be "ok" or "error", got ${describe(status)}`)
  const meta = optionalObject(ev, 'meta', where)
  optionalMetrics(ev, 'metrics', where)
  const tags = optionalStringList(ev, 'tags', where)
  optionalString(ev, 'session_id', where)
  optionalObject(ev, '_dd', where)
  const mlApp = optionalString(ev, 'ml_app', where) ?? mlAppFromTags(tags)
  return {
    traceId,
    spanId,
    parentId: parentId ?? null,
    name,
    kind: spanKind(meta) ?? null,
    mlApp: mlApp ?? null,
    status,
    startNs,
    duration: Number(duration),
    path,
    event: JSON.stringify(ev),
    // Parsed from the request's JSON: what parsing `event` would give again.
    doc: ev,
  }
}

/** A number (integer-valued, >= 0) or a decimal string, as exact decimal text. */
function nonNegativeInteger (ev: Record<string, unknown>, key: string, where: string): string {
  const v = ev[key]
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.round(v)).toString(10)
  if (typeof v === 'string' && DECIMAL.test(v)) return BigInt(v).toString(10)
  return invalid(`${where}: field "${key}" must be a non-negative integer, got ${describe(v)}`)
}

function describe (v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v.slice(0, 64)) : typeof v === 'number' ? String(v) : jsonType(v)
}
