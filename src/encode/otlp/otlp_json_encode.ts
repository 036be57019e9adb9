import type { OtlpAttribute, OtlpEvent, OtlpLink, OtlpSpan, OtlpTracesRequest, OtlpTracesResponse, OtlpValue } from './otlp_types.js'
import { bytesToBase64, normaliseHexId } from './otlp_ids.js'
import { MAX_VALUE_DEPTH, OtlpEncodeError } from './otlp_limits.js'

/**
 * OTLP/JSON: the proto3 JSON mapping with OTLP's changes (hex ids, integer enums, lowerCamelCase
 * keys). 64-bit integers are decimal strings; non-finite doubles are the mapping's "NaN" /
 * "Infinity" strings. Default values are left out, as the mapping does by default, except the
 * fields every span has (ids, name, kind, times), which readers commonly expect to see.
 */

type Json = Record<string, unknown>

function hexId (hex: string, bytes: number, what: string): string {
  const h = normaliseHexId(hex, bytes)
  if (h === undefined) throw new OtlpEncodeError(`${what} ${JSON.stringify(String(hex).slice(0, 40))} is not ${bytes * 2} hex digits`)
  return h
}

function double (v: number): number | string {
  if (Number.isFinite(v)) return v
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity'
}

function anyValue (v: OtlpValue, depth: number): Json {
  switch (typeof v) {
    case 'string': return { stringValue: v }
    case 'boolean': return { boolValue: v }
    case 'number': return { doubleValue: double(v) }
    case 'bigint': return { intValue: v.toString() }
  }
  if (v === null || v === undefined) return {}
  if (depth >= MAX_VALUE_DEPTH) throw new OtlpEncodeError(`an attribute value nests deeper than ${MAX_VALUE_DEPTH} levels`)
  if (v instanceof Uint8Array) return { bytesValue: bytesToBase64(v) }
  if (Array.isArray(v)) {
    const values = new Array<Json>(v.length)
    for (let i = 0; i < v.length; i++) values[i] = anyValue(v[i], depth + 1)
    return { arrayValue: { values } }
  }
  if (typeof v === 'object' && Array.isArray(v.kvlist)) return { kvlistValue: { values: attributes(v.kvlist, depth + 1) } }
  throw new OtlpEncodeError(`an attribute value of type ${typeof v} is not an OTLP value`)
}

function attributes (attrs: OtlpAttribute[], depth = 0): Json[] {
  const out = new Array<Json>(attrs.length)
  for (let i = 0; i < attrs.length; i++) out[i] = { key: attrs[i].key, value: anyValue(attrs[i].value, depth) }
  return out
}

/** The optional fields every message with attributes shares. */
function withAttributes (m: Json, attrs: OtlpAttribute[], dropped: number): Json {
  if (attrs.length > 0) m.attributes = attributes(attrs)
  if (dropped !== 0) m.droppedAttributesCount = dropped
  return m
}

function event (e: OtlpEvent): Json {
  return withAttributes({ timeUnixNano: e.timeUnixNano.toString(), name: e.name }, e.attributes, e.droppedAttributesCount)
}

function link (l: OtlpLink): Json {
  const m: Json = { traceId: hexId(l.traceId, 16, 'link traceId'), spanId: hexId(l.spanId, 8, 'link spanId') }
  if (l.traceState !== '') m.traceState = l.traceState
  if (l.flags !== 0) m.flags = l.flags
  return withAttributes(m, l.attributes, l.droppedAttributesCount)
}

function span (s: OtlpSpan): Json {
  const m: Json = { traceId: hexId(s.traceId, 16, 'traceId'), spanId: hexId(s.spanId, 8, 'spanId') }
  if (s.traceState !== '') m.traceState = s.traceState
  if (s.parentSpanId !== '') m.parentSpanId = hexId(s.parentSpanId, 8, 'parentSpanId')
  if (s.flags !== 0) m.flags = s.flags
  m.name = s.name
  m.kind = s.kind
  m.startTimeUnixNano = s.startTimeUnixNano.toString()
  m.endTimeUnixNano = s.endTimeUnixNano.toString()
  withAttributes(m, s.attributes, s.droppedAttributesCount)
  if (s.events.length > 0) m.events = s.events.map(event)
  if (s.droppedEventsCount !== 0) m.droppedEventsCount = s.droppedEventsCount
  if (s.links.length > 0) m.links = s.links.map(link)
  if (s.droppedLinksCount !== 0) m.droppedLinksCount = s.droppedLinksCount
  if (s.status.code !== 0 || s.status.message !== '') {
    const st: Json = {}
    if (s.status.message !== '') st.message = s.status.message
    if (s.status.code !== 0) st.code = s.status.code
    m.status = st
  }
  return m
}

function withSchema (m: Json, schemaUrl: string): Json {
  if (schemaUrl !== '') m.schemaUrl = schemaUrl
  return m
}

const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'))

export function encodeTracesRequestJson (req: OtlpTracesRequest): Uint8Array {
  const resourceSpans = req.resourceSpans.map((rs) => withSchema({
    resource: withAttributes({}, rs.resource.attributes, rs.resource.droppedAttributesCount),
    scopeSpans: rs.scopeSpans.map((ss) => {
      const scope = withAttributes({}, ss.scope.attributes, ss.scope.droppedAttributesCount)
      if (ss.scope.name !== '') scope.name = ss.scope.name
      if (ss.scope.version !== '') scope.version = ss.scope.version
      return withSchema({ scope, spans: ss.spans.map(span) }, ss.schemaUrl)
    }),
  }, rs.schemaUrl))
  return utf8(JSON.stringify({ resourceSpans }))
}

export function encodeTracesResponseJson (res: OtlpTracesResponse): Uint8Array {
  const ps = res.partialSuccess
  if (ps === undefined) return utf8('{}')
  const partialSuccess: Json = {}
  if (ps.rejectedSpans !== 0n) partialSuccess.rejectedSpans = ps.rejectedSpans.toString()
  if (ps.errorMessage !== '') partialSuccess.errorMessage = ps.errorMessage
  return utf8(JSON.stringify({ partialSuccess }))
}

export function encodeStatusJson (code: number, message: string): Uint8Array {
  return utf8(JSON.stringify({ code, message }))
}
