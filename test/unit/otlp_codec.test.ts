import { test } from 'node:test'
import assert from 'node:assert/strict'
import {
  decodeStatus, decodeTracesRequest, decodeTracesResponse, encodeStatus, encodeTracesRequest, encodeTracesResponse, OtlpEncodeError,
  type OtlpDecoded, type OtlpEncoding, type OtlpTracesRequest,
} from '../../src/encode/otlp/index.js'
import { sampleRequest, sampleSpan } from '../helpers/otlp_sample.js'

const ENCODINGS: OtlpEncoding[] = ['protobuf', 'json']
const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8')
const json = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'utf8'))

function ok<T> (d: OtlpDecoded<T>): T {
  assert.ok(d.ok, d.ok ? '' : d.reason)
  return d.value
}

function rejected<T> (d: OtlpDecoded<T>, pattern: RegExp): void {
  assert.equal(d.ok, false, 'decoded a body that should be refused')
  if (!d.ok) assert.match(d.reason, pattern)
}

/** One span in an OTLP/JSON request, for the JSON rules below. */
function oneSpanJson (span: Record<string, unknown>): Uint8Array {
  return json(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [span] }] }] }))
}
const IDS = { traceId: '5b8efff798038103d269b633813fc60c', spanId: 'eee19b7ec3c1b174' }
const firstSpan = (r: OtlpTracesRequest) => r.resourceSpans[0].scopeSpans[0].spans[0]

for (const enc of ENCODINGS) {
  test(`${enc}: every field of every request message round-trips`, () => {
    const req = sampleRequest()
    assert.deepEqual(ok(decodeTracesRequest(encodeTracesRequest(req, enc), enc)), req)
  })

  test(`${enc}: an empty request round-trips (and protobuf's is 0 bytes)`, () => {
    const body = encodeTracesRequest({ resourceSpans: [] }, enc)
    if (enc === 'protobuf') assert.equal(body.length, 0)
    else assert.equal(text(body), '{"resourceSpans":[]}')
    assert.deepEqual(ok(decodeTracesRequest(body, enc)), { resourceSpans: [] })
  })

  test(`${enc}: responses round-trip, full success is absent partialSuccess`, () => {
    for (const res of [{}, { partialSuccess: { rejectedSpans: 2n, errorMessage: 'x' } }, { partialSuccess: { rejectedSpans: 0n, errorMessage: 'a warning' } }, { partialSuccess: { rejectedSpans: 2n ** 63n - 1n, errorMessage: '' } }]) {
      assert.deepEqual(ok(decodeTracesResponse(encodeTracesResponse(res, enc), enc)), res)
    }
  })

  test(`${enc}: the error-status body round-trips`, () => {
    assert.deepEqual(ok(decodeStatus(encodeStatus(3, 'resourceSpans[0]: bad', enc), enc)), { code: 3, message: 'resourceSpans[0]: bad' })
  })

  test(`${enc}: encoding refuses ids that are not hex of the right length, and values nested too deep`, () => {
    const bad = (patch: Partial<ReturnType<typeof sampleSpan>>): OtlpTracesRequest => ({
      resourceSpans: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{ scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans: [{ ...sampleSpan(1), ...patch }] }] }],
    })
    assert.throws(() => encodeTracesRequest(bad({ traceId: 'abc' }), enc), OtlpEncodeError)
    assert.throws(() => encodeTracesRequest(bad({ spanId: 'zzzzzzzzzzzzzzzz' }), enc), OtlpEncodeError)
    assert.throws(() => encodeTracesRequest(bad({ parentSpanId: '0102' }), enc), /parentSpanId/)
    let deep: any = 'x'
    for (let i = 0; i < 40; i++) deep = [deep]
    assert.throws(() => encodeTracesRequest(bad({ attributes: [{ key: 'd', value: deep }] }), enc), /nests deeper/)
    const cyclic: any[] = []
    cyclic.push(cyclic)
    assert.throws(() => encodeTracesRequest(bad({ attributes: [{ key: 'c', value: cyclic }] }), enc), /nests deeper/)
  })
}

test('protobuf: the partial-success response is the bytes the spec example gives', () => {
  assert.equal(Buffer.from(encodeTracesResponse({ partialSuccess: { rejectedSpans: 2n, errorMessage: 'x' } }, 'protobuf')).toString('hex'), '0a050802120178')
  assert.equal(encodeTracesResponse({}, 'protobuf').length, 0)
  assert.deepEqual(ok(decodeTracesResponse(new Uint8Array(0), 'protobuf')), {})
})

test('JSON: ids are lowercase hex out, any case in', () => {
  const body = text(encodeTracesRequest(sampleRequest(), 'json'))
  assert.match(body, /"traceId":"5b8efff798038103d269b633813fc60c"/)
  assert.match(body, /"parentSpanId":"eee19b7ec3c1b170"/)
  const span = firstSpan(ok(decodeTracesRequest(oneSpanJson({ traceId: IDS.traceId.toUpperCase(), spanId: 'EeE19B7ec3c1b174', parentSpanId: 'ABCDEF0123456789' }), 'json')))
  assert.equal(span.traceId, IDS.traceId)
  assert.equal(span.spanId, IDS.spanId)
  assert.equal(span.parentSpanId, 'abcdef0123456789')
})

test('JSON: 64-bit integers go out as decimal strings and come in as strings or numbers', () => {
  const body = text(encodeTracesRequest(sampleRequest(), 'json'))
  assert.match(body, /"startTimeUnixNano":"1544712660000000000"/)
  assert.match(body, /"endTimeUnixNano":"18446744073709551615"/)
  assert.match(body, /"intValue":"-9223372036854775808"/)
  assert.match(text(encodeTracesResponse({ partialSuccess: { rejectedSpans: 3n, errorMessage: '' } }, 'json')), /"rejectedSpans":"3"/)
  // dd-trace-js's exporter writes numbers; the exactness is that of the JSON number.
  const span = firstSpan(ok(decodeTracesRequest(oneSpanJson({ ...IDS, startTimeUnixNano: 1544712660000000000, endTimeUnixNano: '1544712660000000001', attributes: [{ key: 'n', value: { intValue: 42 } }, { key: 's', value: { intValue: '-42' } }], events: [{ timeUnixNano: 7 }] }), 'json')))
  assert.equal(span.startTimeUnixNano, 1544712660000000000n)
  assert.equal(span.endTimeUnixNano, 1544712660000000001n)
  assert.deepEqual(span.attributes, [{ key: 'n', value: 42n }, { key: 's', value: -42n }])
  assert.equal(span.events[0].timeUnixNano, 7n)
  const res = ok(decodeTracesResponse(json('{"partialSuccess":{"rejectedSpans":5,"errorMessage":"m"}}'), 'json'))
  assert.deepEqual(res, { partialSuccess: { rejectedSpans: 5n, errorMessage: 'm' } })
  rejected(decodeTracesRequest(oneSpanJson({ ...IDS, startTimeUnixNano: 1.5 }), 'json'), /startTimeUnixNano must be an integer/)
  rejected(decodeTracesRequest(oneSpanJson({ ...IDS, startTimeUnixNano: '-1' }), 'json'), /startTimeUnixNano -1 is outside the range of a uint64/)
  rejected(decodeTracesRequest(oneSpanJson({ ...IDS, attributes: [{ key: 'k', value: { intValue: '9223372036854775808' } }] }), 'json'), /outside the range of a int64/)
})

test('JSON: enums are integers; kind and status code land in the span', () => {
  const body = text(encodeTracesRequest(sampleRequest(), 'json'))
  assert.match(body, /"kind":3/)
  assert.match(body, /"status":\{"message":"boom: ünïcode","code":2\}/)
  const span = firstSpan(ok(decodeTracesRequest(oneSpanJson({ ...IDS, kind: 3, status: { code: 2, message: 'boom' } }), 'json')))
  assert.equal(span.kind, 3)
  assert.deepEqual(span.status, { code: 2, message: 'boom' })
  rejected(decodeTracesRequest(oneSpanJson({ ...IDS, kind: 'SPAN_KIND_CLIENT' }), 'json'), /kind must be an integer/)
  // A value from a newer schema is the default, not a refused request.
  assert.equal(firstSpan(ok(decodeTracesRequest(oneSpanJson({ ...IDS, kind: 9 }), 'json'))).kind, 0)
})

test('JSON: a snake_case key is a decode error naming the key, at every level', () => {
  rejected(decodeTracesRequest(json('{"resource_spans":[]}'), 'json'), /"resource_spans".*"resourceSpans"/)
  rejected(decodeTracesRequest(json('{"resourceSpans":[{"scope_spans":[]}]}'), 'json'), /resourceSpans\[0\].*"scope_spans"/)
  rejected(decodeTracesRequest(oneSpanJson({ trace_id: IDS.traceId, spanId: IDS.spanId }), 'json'), /spans\[0\].*"trace_id".*"traceId"/)
  rejected(decodeTracesRequest(oneSpanJson({ ...IDS, start_time_unix_nano: '1' }), 'json'), /"start_time_unix_nano"/)
  rejected(decodeTracesRequest(oneSpanJson({ ...IDS, attributes: [{ key: 'k', value: { string_value: 'v' } }] }), 'json'), /"string_value"/)
  rejected(decodeTracesRequest(oneSpanJson({ ...IDS, events: [{ time_unix_nano: '1' }] }), 'json'), /events\[0\].*"time_unix_nano"/)
  rejected(decodeTracesRequest(oneSpanJson({ ...IDS, links: [{ ...IDS, dropped_attributes_count: 1 }] }), 'json'), /links\[0\].*"dropped_attributes_count"/)
  rejected(decodeTracesResponse(json('{"partial_success":{}}'), 'json'), /"partial_success"/)
})

test('JSON: unknown fields are ignored, null is the default', () => {
  const span = firstSpan(ok(decodeTracesRequest(json(JSON.stringify({
    futureField: { a: 1 },
    resourceSpans: [{ resource: null, extra: [1], scopeSpans: [{ scope: { name: 'l', novel: true }, spans: [{ ...IDS, newThing: 'x', name: null, attributes: [{ key: 'k', value: { stringValue: 'v', keyStrindex: 3 } }, { key: 's', value: { stringValueStrindex: 4 } }] }] }] }],
  })), 'json')))
  assert.equal(span.name, '')
  assert.deepEqual(span.attributes, [{ key: 'k', value: 'v' }, { key: 's', value: null }])
})

test('JSON: bytesValue is base64 (standard or URL-safe, padded or not); doubles accept the mapping\'s strings', () => {
  const body = text(encodeTracesRequest(sampleRequest(), 'json'))
  assert.match(body, /"bytesValue":"AAF\/gP7\/"/)
  assert.match(body, /"doubleValue":"NaN"/)
  assert.match(body, /"doubleValue":"-Infinity"/)
  const attrs = firstSpan(ok(decodeTracesRequest(oneSpanJson({
    ...IDS,
    attributes: [
      { key: 'a', value: { bytesValue: 'AAF/gP7/' } }, { key: 'b', value: { bytesValue: 'AAF_gP7_' } }, { key: 'c', value: { bytesValue: 'AQ' } }, { key: 'd', value: { bytesValue: 'AQ==' } },
      { key: 'e', value: { doubleValue: '2.5' } }, { key: 'f', value: { doubleValue: 'Infinity' } }, { key: 'g', value: { doubleValue: 3 } },
    ],
  }), 'json'))).attributes
  const bytes = Uint8Array.from([0, 1, 127, 128, 254, 255])
  assert.deepEqual(attrs.map((a) => a.value), [bytes, bytes, Uint8Array.from([1]), Uint8Array.from([1]), 2.5, Infinity, 3])
})

test('JSON: an AnyValue with two members is refused', () => {
  rejected(decodeTracesRequest(oneSpanJson({ ...IDS, attributes: [{ key: 'k', value: { stringValue: 'v', intValue: '1' } }] }), 'json'), /"k".*both stringValue and intValue/)
})
