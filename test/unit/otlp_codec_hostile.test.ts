import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'
import { decodeTracesRequest, decodeTracesResponse, decodeStatus, encodeTracesRequest, MAX_VALUE_DEPTH, type OtlpDecoded, type OtlpEncoding, type OtlpValue } from '../../src/encode/otlp/index.js'
import { sampleRequest } from '../helpers/otlp_sample.js'

/** Hostile bodies: each is refused with a reason a person can act on, and nothing throws. */

const PROTO_DIR = fileURLToPath(new URL('../../../src/encode/otlp/proto/', import.meta.url))
const root = new protobuf.Root()
root.resolvePath = (_origin, target) => PROTO_DIR + target
root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto'])
const RequestType = root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest')

const TRACE = Buffer.from('5b8efff798038103d269b633813fc60c', 'hex')
const SPAN = Buffer.from('eee19b7ec3c1b174', 'hex')
const json = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'))

/** Protobuf of one span, written by protobufjs from the .proto text (so it can be wrong on purpose). */
function protoSpan (span: Record<string, unknown>): Uint8Array {
  return RequestType.encode(RequestType.fromObject({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE, spanId: SPAN, ...span }] }] }] })).finish()
}
const jsonSpan = (span: Record<string, unknown>): Uint8Array =>
  json(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: TRACE.toString('hex'), spanId: SPAN.toString('hex'), ...span }] }] }] }))

function refused (d: OtlpDecoded<unknown>, pattern: RegExp): void {
  assert.equal(d.ok, false, 'decoded a body that should be refused')
  if (!d.ok) assert.match(d.reason, pattern)
}

test('protobuf: ids of the wrong length are refused, naming the span and the id', () => {
  refused(decodeTracesRequest(protoSpan({ traceId: TRACE.subarray(0, 15) }), 'protobuf'), /resourceSpans\[0\]\.scopeSpans\[0\]\.spans\[0\]: traceId is 15 bytes, want 16/)
  refused(decodeTracesRequest(protoSpan({ traceId: Buffer.alloc(0) }), 'protobuf'), /traceId is 0 bytes, want 16/)
  refused(decodeTracesRequest(protoSpan({ spanId: Buffer.alloc(9) }), 'protobuf'), /spanId is 9 bytes, want 8/)
  refused(decodeTracesRequest(protoSpan({ parentSpanId: Buffer.alloc(4) }), 'protobuf'), /parentSpanId is 4 bytes, want 8 \(or none\)/)
  refused(decodeTracesRequest(protoSpan({ links: [{ traceId: TRACE, spanId: Buffer.alloc(7) }] }), 'protobuf'), /link spanId is 7 bytes/)
  refused(decodeTracesRequest(protoSpan({ links: [{ traceId: SPAN, spanId: SPAN }] }), 'protobuf'), /link traceId is 8 bytes/)
})

test('JSON: bad hex ids are refused, naming the span and the id', () => {
  refused(decodeTracesRequest(jsonSpan({ traceId: 'abc' }), 'json'), /spans\[0\]: traceId must be 32 hex digits, not "abc"/)
  refused(decodeTracesRequest(jsonSpan({ traceId: 'g'.repeat(32) }), 'json'), /traceId must be 32 hex digits/)
  // Base64 of the 16 bytes (what a protobuf-minded writer would put there) is not hex either.
  refused(decodeTracesRequest(jsonSpan({ traceId: TRACE.toString('base64') }), 'json'), /traceId must be 32 hex digits/)
  refused(decodeTracesRequest(jsonSpan({ spanId: 42 }), 'json'), /spanId must be a string, not number 42/)
  refused(decodeTracesRequest(jsonSpan({ parentSpanId: 'eee19b7ec3c1b17' }), 'json'), /parentSpanId must be 16 hex digits \(or empty\)/)
  refused(decodeTracesRequest(jsonSpan({ links: [{ traceId: TRACE.toString('hex'), spanId: 'xyz' }] }), 'json'), /links\[0\]\.spanId must be 16 hex digits/)
})

test('JSON: bad base64 in bytesValue is refused', () => {
  for (const bad of ['!!!!', 'A', 'AB=C', 'AAAA=', 'é']) {
    refused(decodeTracesRequest(jsonSpan({ attributes: [{ key: 'b', value: { bytesValue: bad } }] }), 'json'), /attributes\[0\] \("b"\)\.value\.bytesValue is not base64/)
  }
})

function nestedJson (depth: number): unknown {
  let v: unknown = { stringValue: 'leaf' }
  for (let i = 1; i < depth; i++) v = { arrayValue: { values: [v] } }
  return v
}

for (const enc of ['protobuf', 'json'] as OtlpEncoding[]) {
  test(`${enc}: AnyValue nesting is bounded at ${MAX_VALUE_DEPTH} levels`, () => {
    const body = (depth: number): Uint8Array => enc === 'json'
      ? jsonSpan({ attributes: [{ key: 'deep', value: nestedJson(depth) }] })
      : protoSpan({ attributes: [{ key: 'deep', value: nestedJson(depth) }] })
    const at = decodeTracesRequest(body(MAX_VALUE_DEPTH), enc)
    assert.ok(at.ok, at.ok ? '' : at.reason)
    refused(decodeTracesRequest(body(MAX_VALUE_DEPTH + 1), enc), new RegExp(`nests deeper than ${MAX_VALUE_DEPTH} levels`))
    // Our encoder has the same bound: the deepest value it writes is one the decoder reads.
    let v: OtlpValue = 'leaf'
    for (let i = 1; i < MAX_VALUE_DEPTH; i++) v = [v]
    const req = sampleRequest()
    req.resourceSpans[0].scopeSpans[0].spans[0].attributes = [{ key: 'deep', value: v }]
    assert.deepEqual(decodeTracesRequest(encodeTracesRequest(req, enc), enc), { ok: true, value: req })
    assert.throws(() => encodeTracesRequest({ resourceSpans: [{ ...req.resourceSpans[0], scopeSpans: [{ ...req.resourceSpans[0].scopeSpans[0], spans: [{ ...req.resourceSpans[0].scopeSpans[0].spans[0], attributes: [{ key: 'deeper', value: [v] }] }] }] }] }, enc), /nests deeper/)
  })
}

test('protobuf: nesting past protobufjs\'s own message-depth limit is a reason, not a stack overflow', () => {
  // AnyValue{5: ArrayValue{1: AnyValue{...}}}, 5000 levels, written by hand (no encoder would).
  const len = (n: number): number[] => { const out = []; while (n > 0x7f) { out.push((n & 0x7f) | 0x80); n >>>= 7 } out.push(n); return out }
  let v = Buffer.alloc(0)
  for (let i = 0; i < 5000; i++) {
    const arr = Buffer.concat([Buffer.from([0x0a, ...len(v.length)]), v])
    v = Buffer.concat([Buffer.from([0x2a, ...len(arr.length)]), arr])
  }
  const wrap = (tag: number, inner: Buffer): Buffer => Buffer.concat([Buffer.from([tag, ...len(inner.length)]), inner])
  const kv = Buffer.concat([wrap(0x0a, Buffer.from('k')), wrap(0x12, v)])
  const span = Buffer.concat([wrap(0x0a, TRACE), wrap(0x12, SPAN), wrap(0x4a, kv)])
  const body = wrap(0x0a, wrap(0x12, wrap(0x12, span)))
  refused(decodeTracesRequest(body, 'protobuf'), /max depth exceeded/)
})

test('JSON: a body nested 100,000 deep is refused by the depth bound', () => {
  const text = '{"resourceSpans":[{"scopeSpans":[{"spans":[{"traceId":"' + TRACE.toString('hex') + '","spanId":"' + SPAN.toString('hex') + '","attributes":[{"key":"k","value":' +
    '{"arrayValue":{"values":['.repeat(100_000) + ']}}'.repeat(100_000) + '}]}]}]}]}'
  refused(decodeTracesRequest(json(text), 'json'), /nests deeper than/)
})

test('JSON: what is not an OTLP/JSON object is refused', () => {
  refused(decodeTracesRequest(json('[]'), 'json'), /is a JSON object, not an array/)
  refused(decodeTracesRequest(json('null'), 'json'), /not null/)
  refused(decodeTracesRequest(json('"s"'), 'json'), /not string/)
  refused(decodeTracesRequest(json('12'), 'json'), /not number/)
  refused(decodeTracesRequest(json(''), 'json'), /not JSON/)
  refused(decodeTracesRequest(json('{"resourceSpans":[{"scopeSpans":[{"spans":[{'), 'json'), /not JSON/)
  refused(decodeTracesRequest(Uint8Array.from([0xff, 0xfe, 0x00]), 'json'), /not JSON/)
  refused(decodeTracesRequest(json('{"resourceSpans":{}}'), 'json'), /resourceSpans must be an array, not an object/)
  refused(decodeTracesRequest(json('{"resourceSpans":[{"scopeSpans":[{"spans":"x"}]}]}'), 'json'), /scopeSpans\[0\]: spans must be an array/)
  refused(decodeTracesRequest(jsonSpan({ attributes: {} }), 'json'), /attributes must be an array/)
  refused(decodeTracesRequest(jsonSpan({ attributes: [{ key: 1 }] }), 'json'), /attributes\[0\]\.key must be a string/)
  refused(decodeTracesRequest(jsonSpan({ flags: -1 }), 'json'), /flags -1 is outside 0\.\.4294967295/)
  refused(decodeTracesRequest(jsonSpan({ droppedAttributesCount: 2 ** 32 }), 'json'), /droppedAttributesCount 4294967296 is outside/)
  refused(decodeTracesRequest(jsonSpan({ attributes: [{ key: 'b', value: { boolValue: 'true' } }] }), 'json'), /boolValue must be true or false/)
  refused(decodeTracesRequest(jsonSpan({ attributes: [{ key: 'd', value: { doubleValue: '1,5' } }] }), 'json'), /doubleValue must be a number/)
  refused(decodeTracesRequest(jsonSpan({ attributes: [{ key: 'i', value: { intValue: '1'.repeat(400) } }] }), 'json'), /intValue must be an integer/)
  refused(decodeTracesResponse(json('[1]'), 'json'), /not an array/)
  refused(decodeStatus(json('{"code":"x"}'), 'json'), /code must be an integer/)
})

test('JSON: __proto__ and constructor keys pollute nothing', () => {
  const before = Object.getOwnPropertyNames(Object.prototype).join(',')
  const d = decodeTracesRequest(json('{"__proto__":{"polluted":1},"resourceSpans":[{"__proto__":{"scopeSpans":[1]},"constructor":{"prototype":{"polluted":1}},"scopeSpans":[]}]}'), 'json')
  assert.ok(d.ok, d.ok ? '' : d.reason)
  assert.deepEqual(d.value.resourceSpans[0].scopeSpans, [])
  assert.equal(Object.getOwnPropertyNames(Object.prototype).join(','), before)
  assert.equal(({} as any).polluted, undefined)
})

test('protobuf: truncation, huge lengths and junk are reasons', () => {
  const good = encodeTracesRequest(sampleRequest(), 'protobuf')
  let refusedCount = 0
  for (let n = 1; n < good.length; n += 7) {
    const d = decodeTracesRequest(good.subarray(0, n), 'protobuf')
    if (!d.ok) { refusedCount++; assert.ok(d.reason.length > 10) }
  }
  assert.ok(refusedCount > 0)
  // A resourceSpans entry that claims 4 GiB.
  refused(decodeTracesRequest(Uint8Array.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]), 'protobuf'), /truncated or has a length past its end/)
  refused(decodeTracesRequest(Uint8Array.from([0x0f]), 'protobuf'), /not a protobuf ExportTraceServiceRequest \(invalid wire type 7/)
  refused(decodeTracesRequest(Uint8Array.from([0x0a, 0x80]), 'protobuf'), /protobuf ExportTraceServiceRequest/)
  refused(decodeTracesRequest(json('{"resourceSpans":[]}'), 'protobuf'), /protobuf ExportTraceServiceRequest/)
  refused(decodeTracesResponse(Uint8Array.from([0x0a, 0x05, 0x08]), 'protobuf'), /ExportTraceServiceResponse is truncated/)
  refused(decodeStatus(Uint8Array.from([0x12, 0x09]), 'protobuf'), /google.rpc.Status is truncated/)
})
