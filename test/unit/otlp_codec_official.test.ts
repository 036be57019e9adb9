import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import Long from 'long'
import { createTraceState, SpanKind, SpanStatusCode, TraceFlags, type Attributes, type AttributeValue, type Link } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import {
  decodeTracesRequest, decodeTracesResponse, encodeTracesRequest, encodeTracesResponse,
  type OtlpAttribute, type OtlpDecoded, type OtlpTracesRequest, type OtlpValue,
} from '../../src/encode/otlp/index.js'
import { OTLP_SCHEMA } from '../../src/encode/otlp/otlp_schema.js'
import { sampleRequest } from '../helpers/otlp_sample.js'

/**
 * Our codec against the official definitions, independently of our descriptor and our decoder:
 * (a) OTel JS's own serializers write, we read; (b) we write, protobufjs loaded from the .proto
 * text reads (and the reverse). The pitfalls of protobufjs with OTLP are pinned here too.
 */

const PROTO_DIR = fileURLToPath(new URL('../../../src/encode/otlp/proto/', import.meta.url))

function officialRoot (): protobuf.Root {
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => PROTO_DIR + target
  root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto'], { keepCase: false })
  root.resolveAll()
  return root
}
const root = officialRoot()
const RequestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')
const ResponseType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse')

function ok<T> (d: OtlpDecoded<T>): T {
  assert.ok(d.ok, d.ok ? '' : d.reason)
  return d.value
}

// ---- (a) OTel JS's serializers → our decoder --------------------------------------------------

/** Spans from the real SDK that use every field the SDK can set, dropped counts included. */
function sdkSpans (): ReadableSpan[] {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'svc', 'host.cores': 8, 'deployment.environment.name': 'test' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    spanLimits: { attributeCountLimit: 8, eventCountLimit: 2, linkCountLimit: 2, attributePerEventCountLimit: 3, attributePerLinkCountLimit: 3 },
  })
  const tracer = provider.getTracer('our-lib', '2.3.4', { schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' })
  const other = provider.getTracer('other-lib')
  const t0 = 1764000000123
  const remoteParent = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED, isRemote: true, traceState: createTraceState('rojo=00f067aa0ba902b7,congo=t61rcWkgMzE') }
  // Over the limits the SDK drops the oldest link and event: the ones that matter come last.
  const links: Link[] = [
    { context: { traceId: '00000000000000000000000000000001', spanId: 'ffffffffffffffff', traceFlags: TraceFlags.SAMPLED } },
    { context: { traceId: '11111111111111111111111111111111', spanId: '2222222222222222', traceFlags: TraceFlags.SAMPLED } },
    { context: { traceId: 'ffffffffffffffffffffffffffffffff', spanId: '0000000000000001', traceFlags: TraceFlags.NONE, isRemote: true, traceState: createTraceState('k=v') }, attributes: { a: 'x', n: 3, f: 0.5, b: true, extra: 'dropped' } },
  ]
  const root = tracer.startSpan('chat gpt-4o', {
    kind: SpanKind.CLIENT,
    startTime: t0,
    links,
    attributes: { s: 'héllo 🌍', i: 42, neg: -7, d: 1.25, b: false, sa: ['a', 'b'], ia: [1, 2], da: [0.5, 1.5], ba: [true, false], big: 2 ** 53 - 1 },
  }, { getValue: () => undefined, setValue () { return this }, deleteValue () { return this } } as any)
  root.setAttribute('over.limit', 'dropped')
  root.addEvent('dropped event (the oldest over the limit)', {}, t0 + 3)
  root.addEvent('second', undefined, [1764000000, 5])
  root.addEvent('gen_ai.client.inference.operation.details', { 'gen_ai.x': 'y', n: 1, f: 2.5, dropped: 'z' }, t0 + 1)
  root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' })
  const rootCtx = { getValue: (k: symbol) => (k.description === 'OpenTelemetry Context Key SPAN' ? root : undefined), setValue () { return this }, deleteValue () { return this } } as any
  for (const [i, kind] of [SpanKind.INTERNAL, SpanKind.SERVER, SpanKind.PRODUCER, SpanKind.CONSUMER].entries()) {
    const child = tracer.startSpan(`child ${i}`, { kind, startTime: t0 + 10 + i }, rootCtx)
    if (i === 0) child.setStatus({ code: SpanStatusCode.OK })
    child.end(t0 + 20 + i)
  }
  const remoteCtx = { getValue: (k: symbol) => (k.description === 'OpenTelemetry Context Key SPAN' ? { spanContext: () => remoteParent } : undefined), setValue () { return this }, deleteValue () { return this } } as any
  other.startSpan('from remote', { kind: SpanKind.SERVER, startTime: t0 }, remoteCtx).end(t0 + 1)
  root.end([1764000001, 999999999])
  return exporter.getFinishedSpans()
}

const nanos = (hr: [number, number]): bigint => BigInt(hr[0]) * 1_000_000_000n + BigInt(hr[1])

/** An SDK attribute as OTLP types it: integral numbers are int64, others double. */
function otlpValue (v: AttributeValue | undefined): OtlpValue {
  if (v === undefined || v === null) return null
  if (Array.isArray(v)) return v.map((x) => otlpValue(x as AttributeValue))
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v
  return v as OtlpValue
}
const otlpAttributes = (a: Attributes): OtlpAttribute[] => Object.entries(a).map(([key, value]) => ({ key, value: otlpValue(value) }))

/** What the serialized spans must decode to, built from the ReadableSpans' own fields. */
function expectedFrom (spans: ReadableSpan[]): OtlpTracesRequest {
  const byScope = new Map<string, ReadableSpan[]>()
  for (const s of spans) byScope.set(s.instrumentationScope.name, [...(byScope.get(s.instrumentationScope.name) ?? []), s])
  return {
    resourceSpans: [{
      resource: { attributes: otlpAttributes(spans[0].resource.attributes), droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeSpans: [...byScope.values()].map((group) => ({
        scope: { name: group[0].instrumentationScope.name, version: group[0].instrumentationScope.version ?? '', attributes: [], droppedAttributesCount: 0 },
        schemaUrl: group[0].instrumentationScope.schemaUrl ?? '',
        spans: group.map((s) => ({
          traceId: s.spanContext().traceId,
          spanId: s.spanContext().spanId,
          traceState: s.spanContext().traceState?.serialize() ?? '',
          parentSpanId: s.parentSpanContext?.spanId ?? '',
          // OTLP's flags: the W3C flags, plus "has is-remote" (0x100) and "is remote" (0x200) of the parent.
          flags: s.spanContext().traceFlags | 0x100 | (s.parentSpanContext?.isRemote === true ? 0x200 : 0),
          name: s.name,
          kind: (s.kind + 1) as 1 | 2 | 3 | 4 | 5, // the API's SpanKind starts at INTERNAL = 0; OTLP's at UNSPECIFIED = 0
          startTimeUnixNano: nanos(s.startTime),
          endTimeUnixNano: nanos(s.endTime),
          attributes: otlpAttributes(s.attributes),
          droppedAttributesCount: s.droppedAttributesCount,
          events: s.events.map((e) => ({ timeUnixNano: nanos(e.time), name: e.name, attributes: otlpAttributes(e.attributes ?? {}), droppedAttributesCount: e.droppedAttributesCount ?? 0 })),
          droppedEventsCount: s.droppedEventsCount,
          links: s.links.map((l) => ({
            traceId: l.context.traceId, spanId: l.context.spanId, traceState: l.context.traceState?.serialize() ?? '', attributes: otlpAttributes(l.attributes ?? {}),
            droppedAttributesCount: l.droppedAttributesCount ?? 0, flags: l.context.traceFlags | 0x100 | (l.context.isRemote === true ? 0x200 : 0),
          })),
          droppedLinksCount: s.droppedLinksCount,
          status: { code: s.status.code, message: s.status.message ?? '' },
        })),
      })),
    }],
  }
}

test('(a) the SDK spans exercise what they should (so the comparisons below mean something)', () => {
  const spans = sdkSpans()
  assert.equal(spans.length, 6)
  const root = spans.find((s) => s.name === 'chat gpt-4o')!
  assert.ok(root.droppedAttributesCount > 0 && root.droppedEventsCount > 0 && root.droppedLinksCount > 0)
  assert.ok(root.events.some((e) => e.droppedAttributesCount! > 0) && root.links.some((l) => l.droppedAttributesCount! > 0))
  assert.ok(root.events.some((e) => e.attributes !== undefined && Object.keys(e.attributes).length > 0))
  const remote = spans.find((s) => s.name === 'from remote')!
  assert.equal(remote.parentSpanContext?.isRemote, true)
  assert.equal(remote.spanContext().traceState?.serialize(), 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')
  assert.ok(root.links.some((l) => l.context.traceState?.serialize() === 'k=v'))
})

test('(a) protobuf from OTel JS\'s ProtobufTraceSerializer decodes to the spans\' fields', () => {
  const spans = sdkSpans()
  const body = ProtobufTraceSerializer.serializeRequest(spans)!
  assert.deepEqual(ok(decodeTracesRequest(body, 'protobuf')), expectedFrom(spans))
})

test('(a) JSON from OTel JS\'s JsonTraceSerializer decodes to the spans\' fields', () => {
  const spans = sdkSpans()
  const body = JsonTraceSerializer.serializeRequest(spans)!
  assert.deepEqual(ok(decodeTracesRequest(body, 'json')), expectedFrom(spans))
})

test('(a) OTel JS reads our responses', () => {
  for (const [enc, serializer] of [['protobuf', ProtobufTraceSerializer], ['json', JsonTraceSerializer]] as const) {
    const res = serializer.deserializeResponse(encodeTracesResponse({ partialSuccess: { rejectedSpans: 3n, errorMessage: 'two were bad' } }, enc))
    assert.equal(String(res.partialSuccess?.rejectedSpans), '3', enc)
    assert.equal(res.partialSuccess?.errorMessage, 'two were bad', enc)
    assert.equal(serializer.deserializeResponse(encodeTracesResponse({}, enc)).partialSuccess, undefined, enc)
  }
})

// ---- (b) our encoder ↔ protobufjs loaded from the .proto text --------------------------------

const b64hex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex')

/** protobufjs's toObject view (base64 bytes, decimal-string longs, oneof names) → our values, by hand. */
function fromToObject (o: any): OtlpTracesRequest {
  const value = (v: any): OtlpValue => {
    switch (v?.value) {
      case 'stringValue': return v.stringValue
      case 'boolValue': return v.boolValue
      case 'intValue': return BigInt(v.intValue)
      case 'doubleValue': return v.doubleValue
      case 'bytesValue': return new Uint8Array(Buffer.from(v.bytesValue, 'base64'))
      case 'arrayValue': return v.arrayValue.values.map(value)
      case 'kvlistValue': return { kvlist: attrs(v.kvlistValue.values) }
      default: return null
    }
  }
  const attrs = (a: any[]): OtlpAttribute[] => a.map((kv) => ({ key: kv.key, value: value(kv.value) }))
  return {
    resourceSpans: o.resourceSpans.map((rs: any) => ({
      resource: { attributes: attrs(rs.resource.attributes), droppedAttributesCount: rs.resource.droppedAttributesCount },
      schemaUrl: rs.schemaUrl,
      scopeSpans: rs.scopeSpans.map((ss: any) => ({
        scope: { name: ss.scope.name, version: ss.scope.version, attributes: attrs(ss.scope.attributes), droppedAttributesCount: ss.scope.droppedAttributesCount },
        schemaUrl: ss.schemaUrl,
        spans: ss.spans.map((s: any) => ({
          traceId: b64hex(s.traceId), spanId: b64hex(s.spanId), traceState: s.traceState, parentSpanId: b64hex(s.parentSpanId), flags: s.flags,
          name: s.name, kind: s.kind, startTimeUnixNano: BigInt(s.startTimeUnixNano), endTimeUnixNano: BigInt(s.endTimeUnixNano),
          attributes: attrs(s.attributes), droppedAttributesCount: s.droppedAttributesCount,
          events: s.events.map((e: any) => ({ timeUnixNano: BigInt(e.timeUnixNano), name: e.name, attributes: attrs(e.attributes), droppedAttributesCount: e.droppedAttributesCount })),
          droppedEventsCount: s.droppedEventsCount,
          links: s.links.map((l: any) => ({ traceId: b64hex(l.traceId), spanId: b64hex(l.spanId), traceState: l.traceState, attributes: attrs(l.attributes), droppedAttributesCount: l.droppedAttributesCount, flags: l.flags })),
          droppedLinksCount: s.droppedLinksCount,
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
        })),
      })),
    })),
  }
}

const TO_OBJECT = { longs: String, enums: Number, bytes: String, oneofs: true, defaults: true, arrays: true }

test('(b) our protobuf, decoded by protobufjs from the .proto text, gives the same values', () => {
  const req = sampleRequest()
  const msg = RequestType.decode(encodeTracesRequest(req, 'protobuf'))
  assert.deepEqual(fromToObject(RequestType.toObject(msg, TO_OBJECT)), req)
})

test('(b) protobuf written by protobufjs from the .proto text decodes to the same values with ours', () => {
  const req = sampleRequest()
  const view = RequestType.toObject(RequestType.decode(encodeTracesRequest(req, 'protobuf')), TO_OBJECT)
  // Re-encode from the plain view: fromObject reads the base64 ids and decimal-string longs back.
  const body = RequestType.encode(RequestType.fromObject(view)).finish()
  assert.deepEqual(ok(decodeTracesRequest(body, 'protobuf')), req)
})

test('(b) responses agree with protobufjs from the .proto text', () => {
  const body = encodeTracesResponse({ partialSuccess: { rejectedSpans: 9n, errorMessage: 'm' } }, 'protobuf')
  assert.deepEqual(ResponseType.toObject(ResponseType.decode(body), { longs: String }), { partialSuccess: { rejectedSpans: '9', errorMessage: 'm' } })
  const theirs = ResponseType.encode(ResponseType.fromObject({ partialSuccess: { rejectedSpans: '-1', errorMessage: 'neg' } })).finish()
  assert.deepEqual(ok(decodeTracesResponse(theirs, 'protobuf')), { partialSuccess: { rejectedSpans: -1n, errorMessage: 'neg' } })
})

test('(b) our committed descriptor is the .proto text, parsed (the generator is not stale)', () => {
  const strip = (ns: any): any => {
    if (ns === null || typeof ns !== 'object') return ns
    delete ns.options
    for (const [name, child] of Object.entries(ns.nested ?? {})) {
      if ((child as any).methods !== undefined) delete ns.nested[name]
      else strip(child)
    }
    return ns
  }
  const fromText = strip(JSON.parse(JSON.stringify(root.toJSON({ keepComments: false }))))
  const ours = JSON.parse(JSON.stringify(OTLP_SCHEMA))
  assert.ok(ours.nested.google.nested.rpc.nested.Status !== undefined)
  delete ours.nested.google
  assert.deepEqual(ours, fromText)
})

// ---- protobufjs pitfalls with OTLP ------------------------------------------------------------

test('pitfall: protobufjs decodes 64-bit fields as Long; ours gives exact bigints past 2^53', () => {
  const req = sampleRequest()
  const msg: any = RequestType.decode(encodeTracesRequest(req, 'protobuf'))
  const span = msg.resourceSpans[0].scopeSpans[0].spans[0]
  assert.ok(Long.isLong(span.endTimeUnixNano), 'protobufjs hands out a Long')
  assert.equal(span.endTimeUnixNano.toString(), '18446744073709551615')
  assert.equal(ok(decodeTracesRequest(encodeTracesRequest(req, 'protobuf'), 'protobuf')).resourceSpans[0].scopeSpans[0].spans[0].endTimeUnixNano, 2n ** 64n - 1n)
})

test('pitfall: protobufjs writes a bigint as 0; ours converts (times and int values survive)', () => {
  const theirs: any = RequestType.decode(RequestType.encode({ resourceSpans: [{ scopeSpans: [{ spans: [{ startTimeUnixNano: 5n as any }] }] }] }).finish())
  assert.equal(theirs.resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano.toString(), '0')
  const req = sampleRequest()
  const view: any = RequestType.toObject(RequestType.decode(encodeTracesRequest(req, 'protobuf')), TO_OBJECT)
  assert.equal(view.resourceSpans[0].scopeSpans[0].spans[0].startTimeUnixNano, '1544712660000000000')
})

test('pitfall: toObject gives base64 ids, not hex; ours gives hex', () => {
  const view: any = RequestType.toObject(RequestType.decode(encodeTracesRequest(sampleRequest(), 'protobuf')), TO_OBJECT)
  assert.equal(view.resourceSpans[0].scopeSpans[0].spans[0].traceId, Buffer.from('5b8efff798038103d269b633813fc60c', 'hex').toString('base64'))
  assert.equal(ok(decodeTracesRequest(encodeTracesRequest(sampleRequest(), 'protobuf'), 'protobuf')).resourceSpans[0].scopeSpans[0].spans[0].traceId, '5b8efff798038103d269b633813fc60c')
})

test('pitfall: fromObject on OTLP/JSON reads hex ids as base64 (24 wrong bytes); our JSON decoder reads hex', () => {
  const otlpJson = { resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174' }] }] }] }
  const wrong: any = RequestType.fromObject(otlpJson)
  assert.equal(wrong.resourceSpans[0].scopeSpans[0].spans[0].traceId.length, 24)
  const ours = ok(decodeTracesRequest(new Uint8Array(Buffer.from(JSON.stringify(otlpJson))), 'json'))
  assert.equal(ours.resourceSpans[0].scopeSpans[0].spans[0].traceId, '5b8efff798038103d269b633813fc60c')
  // And the reverse: protobuf of that wrong object is refused by ours, naming the id.
  const d = decodeTracesRequest(RequestType.encode(wrong).finish(), 'protobuf')
  assert.equal(d.ok, false)
  if (!d.ok) assert.match(d.reason, /spans\[0\]: traceId is 24 bytes, want 16/)
})
