import type {
  OtlpAttribute, OtlpDecoded, OtlpEvent, OtlpLink, OtlpResourceSpans, OtlpScopeSpans, OtlpSpan, OtlpSpanKind,
  OtlpStatus, OtlpTracesRequest, OtlpTracesResponse, OtlpValue,
} from './otlp_types.js'
import { base64ToBytes, normaliseHexId } from './otlp_ids.js'
import { MAX_VALUE_DEPTH, OtlpReject } from './otlp_limits.js'
import {
  array, at, boolean, camelOnly, double, fail, integer32, object, signed64, string, uint32, unsigned64, type JsonObject,
} from './otlp_json_read.js'

/**
 * OTLP/JSON → our values: JSON.parse, then a walk that checks every field it reads. Unknown keys
 * are ignored (the spec says so: newer senders add fields); a known field of the wrong type, a
 * snake_case key, a bad id, bad base64 or a too-deep value is a rejection naming where.
 */

const ANY_MEMBERS = ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue', 'kvlistValue', 'bytesValue'] as const
const SNAKE_ANY = ['string_value', 'bool_value', 'int_value', 'double_value', 'array_value', 'kvlist_value', 'bytes_value']
const SNAKE_ATTRS = ['dropped_attributes_count']
const SNAKE_SPAN = ['trace_id', 'span_id', 'trace_state', 'parent_span_id', 'start_time_unix_nano', 'end_time_unix_nano', 'dropped_attributes_count', 'dropped_events_count', 'dropped_links_count']
const SNAKE_EVENT = ['time_unix_nano', 'dropped_attributes_count']
const SNAKE_LINK = ['trace_id', 'span_id', 'trace_state', 'dropped_attributes_count']

function value (raw: unknown, depth: number, name: string): OtlpValue {
  const o = object(raw, name)
  if (o === undefined) return null
  camelOnly(o, SNAKE_ANY, name)
  let member: typeof ANY_MEMBERS[number] | undefined
  for (const m of ANY_MEMBERS) {
    if (o[m] === undefined || o[m] === null) continue
    if (member !== undefined) fail(`${name} sets both ${member} and ${m}; an AnyValue holds one`)
    member = m
  }
  switch (member) {
    case undefined: return null // empty, or only the profiles-only stringValueStrindex
    case 'stringValue': return string(o.stringValue, `${name}.stringValue`)
    case 'boolValue': return boolean(o.boolValue, `${name}.boolValue`)
    case 'intValue': return signed64(o.intValue, `${name}.intValue`)
    case 'doubleValue': return double(o.doubleValue, `${name}.doubleValue`)
    case 'bytesValue': {
      const b = base64ToBytes(string(o.bytesValue, `${name}.bytesValue`))
      return b ?? fail(`${name}.bytesValue is not base64`)
    }
  }
  if (depth >= MAX_VALUE_DEPTH) fail(`an attribute value nests deeper than ${MAX_VALUE_DEPTH} levels`)
  if (member === 'arrayValue') {
    const src = array(object(o.arrayValue, `${name}.arrayValue`)?.values, `${name}.arrayValue.values`)
    const out = new Array<OtlpValue>(src.length)
    for (let i = 0; i < src.length; i++) out[i] = value(src[i], depth + 1, `${name}.arrayValue.values[${i}]`)
    return out
  }
  return { kvlist: attributes(object(o.kvlistValue, `${name}.kvlistValue`)?.values, depth + 1, `${name}.kvlistValue.values`) }
}

function attributes (raw: unknown, depth: number, name: string): OtlpAttribute[] {
  const src = array(raw, name)
  const out = new Array<OtlpAttribute>(src.length)
  for (let i = 0; i < src.length; i++) {
    const kv = object(src[i], `${name}[${i}]`) ?? {}
    const key = string(kv.key, `${name}[${i}].key`)
    out[i] = { key, value: value(kv.value, depth, `${name}[${i}] (${JSON.stringify(key.slice(0, 60))}).value`) }
  }
  return out
}

function id (raw: unknown, bytes: number, name: string, emptyOk = false): string {
  const text = string(raw, name)
  if (text === '' && emptyOk) return ''
  return normaliseHexId(text, bytes) ?? fail(`${name} must be ${bytes * 2} hex digits${emptyOk ? ' (or empty)' : ''}, not ${JSON.stringify(text.slice(0, 40))}`)
}

// Integer enums (OTLP/JSON forbids names); proto3 enums are open, so an unknown number reads as
// the default rather than refusing the request.
function kindOf (raw: unknown): OtlpSpanKind {
  const k = integer32(raw, 'kind', -0x80000000, 0x7fffffff)
  return k >= 0 && k <= 5 ? k as OtlpSpanKind : 0
}

function statusOf (raw: unknown): OtlpStatus {
  const o = object(raw, 'status')
  if (o === undefined) return { code: 0, message: '' }
  const code = integer32(o.code, 'status.code', -0x80000000, 0x7fffffff)
  return { code: code === 1 || code === 2 ? code : 0, message: string(o.message, 'status.message') }
}

function event (raw: unknown, name: string): OtlpEvent {
  const o = object(raw, name) ?? {}
  camelOnly(o, SNAKE_EVENT, name)
  return {
    timeUnixNano: unsigned64(o.timeUnixNano, `${name}.timeUnixNano`),
    name: string(o.name, `${name}.name`),
    attributes: attributes(o.attributes, 0, `${name}.attributes`),
    droppedAttributesCount: uint32(o.droppedAttributesCount, `${name}.droppedAttributesCount`),
  }
}

function link (raw: unknown, name: string): OtlpLink {
  const o = object(raw, name) ?? {}
  camelOnly(o, SNAKE_LINK, name)
  return {
    traceId: id(o.traceId, 16, `${name}.traceId`),
    spanId: id(o.spanId, 8, `${name}.spanId`),
    traceState: string(o.traceState, `${name}.traceState`),
    attributes: attributes(o.attributes, 0, `${name}.attributes`),
    droppedAttributesCount: uint32(o.droppedAttributesCount, `${name}.droppedAttributesCount`),
    flags: uint32(o.flags, `${name}.flags`),
  }
}

function span (raw: unknown): OtlpSpan {
  const o = object(raw, 'span') ?? {}
  camelOnly(o, SNAKE_SPAN, 'a span')
  return {
    traceId: id(o.traceId, 16, 'traceId'),
    spanId: id(o.spanId, 8, 'spanId'),
    traceState: string(o.traceState, 'traceState'),
    parentSpanId: id(o.parentSpanId, 8, 'parentSpanId', true),
    flags: uint32(o.flags, 'flags'),
    name: string(o.name, 'name'),
    kind: kindOf(o.kind),
    startTimeUnixNano: unsigned64(o.startTimeUnixNano, 'startTimeUnixNano'),
    endTimeUnixNano: unsigned64(o.endTimeUnixNano, 'endTimeUnixNano'),
    attributes: attributes(o.attributes, 0, 'attributes'),
    droppedAttributesCount: uint32(o.droppedAttributesCount, 'droppedAttributesCount'),
    events: array(o.events, 'events').map((e, i) => event(e, `events[${i}]`)),
    droppedEventsCount: uint32(o.droppedEventsCount, 'droppedEventsCount'),
    links: array(o.links, 'links').map((l, i) => link(l, `links[${i}]`)),
    droppedLinksCount: uint32(o.droppedLinksCount, 'droppedLinksCount'),
    status: statusOf(o.status),
  }
}

function scopeSpans (raw: unknown, path: string): OtlpScopeSpans {
  at.path = path
  const o = object(raw, 'scopeSpans entry') ?? {}
  camelOnly(o, ['schema_url'], 'scopeSpans entry')
  at.path = path + '.scope'
  const sc = object(o.scope, 'scope') ?? {}
  camelOnly(sc, SNAKE_ATTRS, 'scope')
  const scope = {
    name: string(sc.name, 'name'),
    version: string(sc.version, 'version'),
    attributes: attributes(sc.attributes, 0, 'attributes'),
    droppedAttributesCount: uint32(sc.droppedAttributesCount, 'droppedAttributesCount'),
  }
  at.path = path
  const src = array(o.spans, 'spans')
  const spans = new Array<OtlpSpan>(src.length)
  for (let i = 0; i < src.length; i++) {
    at.path = `${path}.spans[${i}]`
    spans[i] = span(src[i])
  }
  at.path = path
  return { scope, spans, schemaUrl: string(o.schemaUrl, 'schemaUrl') }
}

function resourceSpans (raw: unknown, path: string): OtlpResourceSpans {
  at.path = path
  const o = object(raw, 'resourceSpans entry') ?? {}
  camelOnly(o, ['scope_spans', 'schema_url'], 'resourceSpans entry')
  at.path = path + '.resource'
  const r = object(o.resource, 'resource') ?? {}
  camelOnly(r, SNAKE_ATTRS, 'resource')
  const resource = { attributes: attributes(r.attributes, 0, 'attributes'), droppedAttributesCount: uint32(r.droppedAttributesCount, 'droppedAttributesCount') }
  at.path = path
  const scopes = array(o.scopeSpans, 'scopeSpans').map((ss, i) => scopeSpans(ss, `${path}.scopeSpans[${i}]`))
  at.path = path
  return { resource, scopeSpans: scopes, schemaUrl: string(o.schemaUrl, 'schemaUrl') }
}

function parse (body: Uint8Array, message: string): JsonObject {
  at.path = ''
  const text = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new OtlpReject(`not JSON: ${err instanceof Error ? err.message.slice(0, 200) : String(err)}`)
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new OtlpReject(`an OTLP/JSON ${message} is a JSON object, not ${doc === null ? 'null' : Array.isArray(doc) ? 'an array' : typeof doc}`)
  }
  return doc as JsonObject
}

function decoded<T> (message: string, read: () => T): OtlpDecoded<T> {
  try {
    return { ok: true, value: read() }
  } catch (err) {
    // A RangeError here is the stack running out on something the bounds did not foresee.
    const reason = err instanceof OtlpReject ? err.message : `unreadable (${err instanceof Error ? err.message : String(err)})`
    return { ok: false, reason: `OTLP/JSON ${message}: ${reason}` }
  } finally {
    at.path = ''
  }
}

export function decodeTracesRequestJson (body: Uint8Array): OtlpDecoded<OtlpTracesRequest> {
  return decoded('ExportTraceServiceRequest', () => {
    const doc = parse(body, 'ExportTraceServiceRequest')
    camelOnly(doc, ['resource_spans'], 'the request')
    return { resourceSpans: array(doc.resourceSpans, 'resourceSpans').map((rs, i) => resourceSpans(rs, `resourceSpans[${i}]`)) }
  })
}

export function decodeTracesResponseJson (body: Uint8Array): OtlpDecoded<OtlpTracesResponse> {
  return decoded('ExportTraceServiceResponse', () => {
    const doc = parse(body, 'ExportTraceServiceResponse')
    camelOnly(doc, ['partial_success'], 'the response')
    const ps = object(doc.partialSuccess, 'partialSuccess')
    if (ps === undefined) return {}
    camelOnly(ps, ['rejected_spans', 'error_message'], 'partialSuccess')
    return { partialSuccess: { rejectedSpans: signed64(ps.rejectedSpans, 'partialSuccess.rejectedSpans'), errorMessage: string(ps.errorMessage, 'partialSuccess.errorMessage') } }
  })
}

export function decodeStatusJson (body: Uint8Array): OtlpDecoded<{ code: number, message: string }> {
  return decoded('Status', () => {
    const doc = parse(body, 'Status')
    return { code: integer32(doc.code, 'code', -0x80000000, 0x7fffffff), message: string(doc.message, 'message') }
  })
}
