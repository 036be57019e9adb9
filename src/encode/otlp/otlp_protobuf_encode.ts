import type { OtlpAttribute, OtlpEvent, OtlpLink, OtlpSpan, OtlpTracesRequest, OtlpTracesResponse, OtlpValue } from './otlp_types.js'
import { otlpProtoTypes } from './otlp_proto_root.js'
import { hexToBytes } from './otlp_ids.js'
import { toLongBits } from './otlp_long.js'
import { MAX_VALUE_DEPTH, OtlpEncodeError } from './otlp_limits.js'

/**
 * Our values → protobufjs message objects (camelCase field names, ids as bytes, 64-bit values as
 * { low, high }) → bytes through protobufjs's encoder compiled from the official definitions.
 * Defaults are left out of the objects: protobufjs would skip them anyway, and fewer keys is less
 * work for it.
 */

const EMPTY = new Uint8Array(0)

type Msg = Record<string, unknown>

function id (hex: string, bytes: number, what: string): Uint8Array {
  const b = hexToBytes(hex, bytes)
  if (b === undefined) throw new OtlpEncodeError(`${what} ${JSON.stringify(String(hex).slice(0, 40))} is not ${bytes * 2} hex digits`)
  return b
}

function anyValue (v: OtlpValue, depth: number): Msg {
  switch (typeof v) {
    case 'string': return { stringValue: v }
    case 'boolean': return { boolValue: v }
    case 'number': return { doubleValue: v }
    case 'bigint': return { intValue: toLongBits(v) }
  }
  if (v === null || v === undefined) return {}
  if (depth >= MAX_VALUE_DEPTH) throw new OtlpEncodeError(`an attribute value nests deeper than ${MAX_VALUE_DEPTH} levels`)
  if (v instanceof Uint8Array) return { bytesValue: v }
  if (Array.isArray(v)) {
    const values = new Array<Msg>(v.length)
    for (let i = 0; i < v.length; i++) values[i] = anyValue(v[i], depth + 1)
    return { arrayValue: { values } }
  }
  if (typeof v === 'object' && Array.isArray(v.kvlist)) return { kvlistValue: { values: attributes(v.kvlist, depth + 1) } }
  throw new OtlpEncodeError(`an attribute value of type ${typeof v} is not an OTLP value`)
}

function attributes (attrs: OtlpAttribute[], depth = 0): Msg[] {
  const out = new Array<Msg>(attrs.length)
  for (let i = 0; i < attrs.length; i++) out[i] = { key: attrs[i].key, value: anyValue(attrs[i].value, depth) }
  return out
}

function event (e: OtlpEvent): Msg {
  return { timeUnixNano: toLongBits(e.timeUnixNano), name: e.name, attributes: attributes(e.attributes), droppedAttributesCount: e.droppedAttributesCount }
}

function link (l: OtlpLink): Msg {
  return {
    traceId: id(l.traceId, 16, 'link traceId'),
    spanId: id(l.spanId, 8, 'link spanId'),
    traceState: l.traceState,
    attributes: attributes(l.attributes),
    droppedAttributesCount: l.droppedAttributesCount,
    flags: l.flags,
  }
}

function span (s: OtlpSpan): Msg {
  const m: Msg = {
    traceId: id(s.traceId, 16, 'traceId'),
    spanId: id(s.spanId, 8, 'spanId'),
    traceState: s.traceState,
    parentSpanId: s.parentSpanId === '' ? EMPTY : id(s.parentSpanId, 8, 'parentSpanId'),
    flags: s.flags,
    name: s.name,
    kind: s.kind,
    startTimeUnixNano: toLongBits(s.startTimeUnixNano),
    endTimeUnixNano: toLongBits(s.endTimeUnixNano),
    attributes: attributes(s.attributes),
    droppedAttributesCount: s.droppedAttributesCount,
    droppedEventsCount: s.droppedEventsCount,
    droppedLinksCount: s.droppedLinksCount,
  }
  if (s.events.length > 0) m.events = s.events.map(event)
  if (s.links.length > 0) m.links = s.links.map(link)
  if (s.status.code !== 0 || s.status.message !== '') m.status = { code: s.status.code, message: s.status.message }
  return m
}

export function encodeTracesRequestProtobuf (req: OtlpTracesRequest): Uint8Array {
  const resourceSpans = req.resourceSpans.map((rs) => ({
    resource: { attributes: attributes(rs.resource.attributes), droppedAttributesCount: rs.resource.droppedAttributesCount },
    schemaUrl: rs.schemaUrl,
    scopeSpans: rs.scopeSpans.map((ss) => ({
      scope: { name: ss.scope.name, version: ss.scope.version, attributes: attributes(ss.scope.attributes), droppedAttributesCount: ss.scope.droppedAttributesCount },
      schemaUrl: ss.schemaUrl,
      spans: ss.spans.map(span),
    })),
  }))
  return otlpProtoTypes().request.encode({ resourceSpans }).finish()
}

export function encodeTracesResponseProtobuf (res: OtlpTracesResponse): Uint8Array {
  const ps = res.partialSuccess
  const msg = ps === undefined ? {} : { partialSuccess: { rejectedSpans: toLongBits(ps.rejectedSpans), errorMessage: ps.errorMessage } }
  return otlpProtoTypes().response.encode(msg).finish()
}

export function encodeStatusProtobuf (code: number, message: string): Uint8Array {
  return otlpProtoTypes().status.encode({ code, message }).finish()
}
