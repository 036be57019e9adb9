import type {
  OtlpAttribute, OtlpDecoded, OtlpEvent, OtlpLink, OtlpResourceSpans, OtlpScopeSpans, OtlpSpan, OtlpSpanKind,
  OtlpStatus, OtlpTracesRequest, OtlpTracesResponse, OtlpValue,
} from './otlp_types.js'
import { otlpProtoTypes } from './otlp_proto_root.js'
import { bytesToHex } from './otlp_ids.js'
import { fromLong, type LongLike } from './otlp_long.js'
import { MAX_VALUE_DEPTH, OtlpReject } from './otlp_limits.js'

/**
 * Bytes → protobufjs messages (its decoder bounds message depth and reports truncation) → our
 * values, checking what protobuf itself cannot: id lengths, value depth. Any failure is one reason
 * naming where it happened; nothing here throws to the caller.
 */

// The decoded messages, as far as this file reads them. Absent fields read the prototype's
// defaults (empty arrays, empty bytes, 0, Long zero, null for messages).
interface PAnyValue {
  value?: string
  stringValue: string
  boolValue: boolean
  intValue: LongLike | number
  doubleValue: number
  arrayValue: { values: PAnyValue[] } | null
  kvlistValue: { values: PKeyValue[] } | null
  bytesValue: Uint8Array
}
interface PKeyValue { key: string, value: PAnyValue | null }
interface PEvent { timeUnixNano: LongLike | number, name: string, attributes: PKeyValue[], droppedAttributesCount: number }
interface PLink { traceId: Uint8Array, spanId: Uint8Array, traceState: string, attributes: PKeyValue[], droppedAttributesCount: number, flags: number }
interface PSpan {
  traceId: Uint8Array, spanId: Uint8Array, traceState: string, parentSpanId: Uint8Array, flags: number, name: string, kind: number
  startTimeUnixNano: LongLike | number, endTimeUnixNano: LongLike | number, attributes: PKeyValue[], droppedAttributesCount: number
  events: PEvent[], droppedEventsCount: number, links: PLink[], droppedLinksCount: number, status: { code: number, message: string } | null
}
interface PScope { name: string, version: string, attributes: PKeyValue[], droppedAttributesCount: number }
interface PScopeSpans { scope: PScope | null, spans: PSpan[], schemaUrl: string }
interface PResourceSpans { resource: { attributes: PKeyValue[], droppedAttributesCount: number } | null, scopeSpans: PScopeSpans[], schemaUrl: string }

/** Where the walk is, for the reason of a rejection. */
let where = ''

function fail (what: string): never {
  throw new OtlpReject(`${where}: ${what}`)
}

function id (b: Uint8Array, bytes: number, name: string, emptyOk = false): string {
  if (b.length === bytes) return bytesToHex(b)
  if (b.length === 0 && emptyOk) return ''
  return fail(`${name} is ${b.length} bytes, want ${bytes}${emptyOk ? ' (or none)' : ''}`)
}

function value (v: PAnyValue | null, depth: number): OtlpValue {
  if (v === null) return null
  // `value` is protobufjs's virtual oneof field: the name of the member that was set.
  switch (v.value) {
    case 'stringValue': return v.stringValue
    case 'boolValue': return v.boolValue
    case 'intValue': return fromLong(v.intValue, true)
    case 'doubleValue': return v.doubleValue
    case 'bytesValue': return new Uint8Array(v.bytesValue)
  }
  if (v.value !== 'arrayValue' && v.value !== 'kvlistValue') return null // unset, or the profiles-only string_value_strindex
  if (depth >= MAX_VALUE_DEPTH) fail(`an attribute value nests deeper than ${MAX_VALUE_DEPTH} levels`)
  if (v.value === 'arrayValue') {
    const src = v.arrayValue?.values ?? []
    const out = new Array<OtlpValue>(src.length)
    for (let i = 0; i < src.length; i++) out[i] = value(src[i], depth + 1)
    return out
  }
  return { kvlist: attributes(v.kvlistValue?.values ?? [], depth + 1) }
}

function attributes (src: PKeyValue[], depth = 0): OtlpAttribute[] {
  const out = new Array<OtlpAttribute>(src.length)
  for (let i = 0; i < src.length; i++) out[i] = { key: src[i].key, value: value(src[i].value, depth) }
  return out
}

// proto3 enums are open: a value from a newer schema reads as the default rather than refusing
// the whole request.
const kindOf = (k: number): OtlpSpanKind => (k >= 0 && k <= 5 ? k as OtlpSpanKind : 0)
const statusOf = (s: PSpan['status']): OtlpStatus => ({ code: s !== null && (s.code === 1 || s.code === 2) ? s.code : 0, message: s?.message ?? '' })

function event (e: PEvent): OtlpEvent {
  return { timeUnixNano: fromLong(e.timeUnixNano, false), name: e.name, attributes: attributes(e.attributes), droppedAttributesCount: e.droppedAttributesCount }
}

function link (l: PLink): OtlpLink {
  return {
    traceId: id(l.traceId, 16, 'link traceId'),
    spanId: id(l.spanId, 8, 'link spanId'),
    traceState: l.traceState,
    attributes: attributes(l.attributes),
    droppedAttributesCount: l.droppedAttributesCount,
    flags: l.flags,
  }
}

function span (s: PSpan): OtlpSpan {
  return {
    traceId: id(s.traceId, 16, 'traceId'),
    spanId: id(s.spanId, 8, 'spanId'),
    traceState: s.traceState,
    parentSpanId: id(s.parentSpanId, 8, 'parentSpanId', true),
    flags: s.flags,
    name: s.name,
    kind: kindOf(s.kind),
    startTimeUnixNano: fromLong(s.startTimeUnixNano, false),
    endTimeUnixNano: fromLong(s.endTimeUnixNano, false),
    attributes: attributes(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    events: s.events.map(event),
    droppedEventsCount: s.droppedEventsCount,
    links: s.links.map(link),
    droppedLinksCount: s.droppedLinksCount,
    status: statusOf(s.status),
  }
}

function scopeSpans (ss: PScopeSpans, path: string): OtlpScopeSpans {
  const sc = ss.scope
  const spans = new Array<OtlpSpan>(ss.spans.length)
  for (let i = 0; i < spans.length; i++) {
    where = `${path}.spans[${i}]`
    spans[i] = span(ss.spans[i])
  }
  where = path + '.scope'
  return {
    scope: { name: sc?.name ?? '', version: sc?.version ?? '', attributes: attributes(sc?.attributes ?? []), droppedAttributesCount: sc?.droppedAttributesCount ?? 0 },
    spans,
    schemaUrl: ss.schemaUrl,
  }
}

function resourceSpans (rs: PResourceSpans, path: string): OtlpResourceSpans {
  where = path + '.resource'
  const resource = { attributes: attributes(rs.resource?.attributes ?? []), droppedAttributesCount: rs.resource?.droppedAttributesCount ?? 0 }
  return { resource, scopeSpans: rs.scopeSpans.map((ss, i) => scopeSpans(ss, `${path}.scopeSpans[${i}]`)), schemaUrl: rs.schemaUrl }
}

/** protobufjs's own messages name the problem; say which message it was in. */
function reasonOf (err: unknown, message: string): string {
  if (err instanceof OtlpReject) return `protobuf ${message}: ${err.message}`
  const text = err instanceof Error ? err.message : String(err)
  if (/index out of range/.test(text)) return `protobuf ${message} is truncated or has a length past its end (${text})`
  return `not a protobuf ${message} (${text})`
}

export function decodeTracesRequestProtobuf (body: Uint8Array): OtlpDecoded<OtlpTracesRequest> {
  try {
    const msg = otlpProtoTypes().request.decode(body) as unknown as { resourceSpans: PResourceSpans[] }
    return { ok: true, value: { resourceSpans: msg.resourceSpans.map((rs, i) => resourceSpans(rs, `resourceSpans[${i}]`)) } }
  } catch (err) {
    return { ok: false, reason: reasonOf(err, 'ExportTraceServiceRequest') }
  }
}

export function decodeTracesResponseProtobuf (body: Uint8Array): OtlpDecoded<OtlpTracesResponse> {
  try {
    const msg = otlpProtoTypes().response.decode(body) as unknown as { partialSuccess: { rejectedSpans: LongLike | number, errorMessage: string } | null }
    const ps = msg.partialSuccess
    return { ok: true, value: ps === null ? {} : { partialSuccess: { rejectedSpans: fromLong(ps.rejectedSpans, true), errorMessage: ps.errorMessage } } }
  } catch (err) {
    return { ok: false, reason: reasonOf(err, 'ExportTraceServiceResponse') }
  }
}

export function decodeStatusProtobuf (body: Uint8Array): OtlpDecoded<{ code: number, message: string }> {
  try {
    const msg = otlpProtoTypes().status.decode(body) as unknown as { code: number, message: string }
    return { ok: true, value: { code: msg.code, message: msg.message } }
  } catch (err) {
    return { ok: false, reason: reasonOf(err, 'google.rpc.Status') }
  }
}
