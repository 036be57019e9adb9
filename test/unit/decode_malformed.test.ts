import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Packr } from 'msgpackr'
import { decodeV04 } from '../../src/agent/decode/v04.js'
import { decodeV05 } from '../../src/agent/decode/v05.js'
import { decodeMetaStructValue } from '../../src/agent/decode/trace_span.js'
import { decodeMsgpack } from '../../src/agent/decode/msgpack_value.js'
import { DecodeError, MsgpackReader } from '../../src/agent/decode/msgpack_reader.js'

const DATA = new URL('../../../test/data/dd-trace-js-5.132/', import.meta.url)
const V04_FIXTURE = readFileSync(new URL('01_v0.4_traces.body', DATA))
const V05_FIXTURE = readFileSync(new URL('v05-01_v0.5_traces.body', DATA))
const packr = new Packr({ useRecords: false })

function reason (r: { ok: true } | { ok: false, reason: string }): string {
  if (r.ok) assert.fail('expected the body to be rejected')
  return r.reason
}

const str = (s: string): number[] => [0xa0 | s.length, ...Buffer.from(s)]
/** `[[{ <key>: <value bytes> }]]` as raw bytes. */
const oneField = (key: string, value: number[]): Uint8Array => Uint8Array.from([0x91, 0x91, 0x81, ...str(key), ...value])

test('wrong top-level and container types are named', () => {
  assert.match(reason(decodeV04(packr.pack({ traces: [] }))), /^body must be an array of chunks, got map \(at offset 0\)$/)
  assert.match(reason(decodeV04(packr.pack(['x']))), /^chunk 0: must be an array of spans, got str/)
  assert.match(reason(decodeV04(packr.pack([[{}, 5]]))), /^chunk 0 span 1: span must be a map, got int/)
  assert.match(reason(decodeV04(Uint8Array.from([0xc1]))), /got reserved byte 0xc1/)
  assert.match(reason(decodeV05(packr.pack([[''], [], []]))), /must be an array of 2 elements \[string_table, chunks\], got 3 elements/)
  assert.match(reason(decodeV05(packr.pack({}))), /^body must be an array \[string_table, chunks\], got map/)
  assert.match(reason(decodeV05(packr.pack([['', 5], []]))), /string_table\[1\] must be a string, got int/)
  assert.match(reason(decodeV04(new Uint8Array(0))), /^empty body/)
  assert.match(reason(decodeV05(new Uint8Array(0))), /^empty body/)
})

test('wrong field types name chunk, span and field', () => {
  const spans = [{}, {}, {}, { name: 'x', meta: 'oops' }]
  const r = reason(decodeV04(packr.pack([spans])))
  assert.match(r, /^chunk 0 span 3: field "meta" must be a map, got str \(at offset \d+\)$/)
  const cases: Array<[Record<string, unknown>, RegExp]> = [
    [{ trace_id: 'abc' }, /^chunk 0 span 0: field "trace_id" must be an integer, got str/],
    [{ start: 1.5 }, /field "start" must be an integer, got float64/],
    [{ service: 12 }, /field "service" must be a string, got int/],
    [{ metrics: { a: 'x' } }, /field "metrics": key "a": value must be an int or float64, got str/],
    [{ meta: { a: 1 } }, /field "meta": key "a": value must be a string, got int/],
    [{ meta: [] }, /field "meta" must be a map, got array/],
    [{ meta_struct: { _llmobs: { a: 1 } } }, /field "meta_struct": key "_llmobs": value must be bin \(a msgpack document\), got map/],
    [{ meta_struct: { _llmobs: 'json text' } }, /key "_llmobs": value must be bin .*got str/],
    [{ error: 2 ** 31 }, /field "error": value 2147483648 overflows int32/],
    [{ duration: 2n ** 63n }, /field "duration": value 9223372036854775808 overflows int64/],
  ]
  for (const [span, expected] of cases) assert.match(reason(decodeV04(packr.pack([[span]]))), expected)
  // float32 metrics: the Agent's type check refuses them, so a local agent must too.
  assert.match(reason(decodeV04(oneField('metrics', [0x81, ...str('m'), 0xca, 0x3f, 0xc0, 0, 0]))), /got float32 \(the Agent rejects float32\)/)
  // A non-string span key.
  assert.match(reason(decodeV04(Uint8Array.from([0x91, 0x91, 0x81, 0x01, 0x01]))), /span map key must be a string, got int/)
})

test('absurd declared lengths fail at the header, before any allocation', () => {
  const body = Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0])
  assert.match(reason(decodeV04(body)), /declared array length 4294967295 exceeds remaining bytes \(5\) \(at offset 0\)/)
  const cases: Array<[Uint8Array, RegExp]> = [
    [Uint8Array.from([0x91, 0xdd, 0xff, 0xff, 0xff, 0xff]), /^chunk 0: declared array length 4294967295 exceeds remaining bytes \(0\)/],
    [Uint8Array.from([0x91, 0x91, 0xdf, 0xff, 0xff, 0xff, 0xff, 0xa0]), /declared map length 4294967295 exceeds remaining bytes \(1\)/],
    [Uint8Array.from([0x91, 0x91, 0x81, 0xdb, 0xff, 0xff, 0xff, 0xff, 0x00]), /declared str length 4294967295 exceeds remaining bytes \(1\)/],
    [oneField('meta_struct', [0x81, ...str('_llmobs'), 0xc6, 0xff, 0xff, 0xff, 0xff, 0x00]), /field "meta_struct": declared bin length 4294967295 exceeds remaining bytes \(1\)/],
    [oneField('meta', [0xde, 0x00, 0x03, 0xa0, 0xa0, 0xa0, 0xa0, 0xa0]), /declared map length 3 exceeds remaining bytes \(5\)/],
  ]
  // The reasons name the header and what was left: the decoder stopped there, it did not try.
  for (const [bytes, expected] of cases) assert.match(reason(decodeV04(bytes)), expected)
  const v05 = Uint8Array.from([0x92, 0xdd, 0xff, 0xff, 0xff, 0xff])
  assert.match(reason(decodeV05(v05)), /declared array length 4294967295 exceeds remaining bytes \(0\)/)
})

test('depth bombs are stopped at the depth limit (128 levels allowed, 129 not)', () => {
  const nested = (depth: number): Uint8Array => Uint8Array.from([...new Array<number>(depth).fill(0x91), 0xc0])
  assert.ok(decodeMsgpack(nested(128)).ok)
  assert.match(reason(decodeMsgpack(nested(129))), /nesting deeper than 128 levels/)
  assert.match(reason(decodeMetaStructValue(nested(100_000))), /nesting deeper than 128 levels \(at offset 128\)/)
  assert.match(reason(decodeMetaStructValue(nested(50), { maxDepth: 10 })), /nesting deeper than 10 levels/)
  // In a key the decoder skips: same limit, no stack overflow.
  assert.match(reason(decodeV04(oneField('span_links', [...nested(100_000)]))), /^chunk 0 span 0: field "span_links": nesting deeper than 128 levels/)
  // Nested maps too.
  const maps = Uint8Array.from([...new Array<number>(200).fill(0).flatMap(() => [0x81, 0xa1, 0x6b]), 0xc0])
  assert.match(reason(decodeMsgpack(maps)), /nesting deeper than 128 levels/)
  // At the top of a trace body the shape check fires first.
  assert.match(reason(decodeV04(nested(100_000))), /^chunk 0 span 0: span must be a map, got array/)
})

test('reserved byte 0xc1, ext values and non-str map keys', () => {
  assert.match(reason(decodeMsgpack(Uint8Array.from([0xc1]))), /^reserved byte 0xc1 \(at offset 0\)$/)
  assert.match(reason(decodeV04(oneField('unknown', [0xc1]))), /field "unknown": reserved byte 0xc1/)
  assert.match(reason(decodeV04(oneField('meta', [0x81, 0xc1, 0xa0]))), /key must be a string, got reserved byte 0xc1/)
  assert.match(reason(decodeMsgpack(Uint8Array.from([0xd4, 0x05, 0x00]))), /ext type 5 is not supported/)
  assert.match(reason(decodeMsgpack(Uint8Array.from([0xc7, 0x01, 0xff, 0x00]))), /ext type -1 is not supported/)
  assert.match(reason(decodeMsgpack(Uint8Array.from([0x81, 0x01, 0x02]))), /map key must be str, got int/)
  // ext inside a key the Agent skips is skipped too.
  const skipped = decodeV04(oneField('x', [0xc8, 0x00, 0x02, 0x01, 0xaa, 0xbb]))
  assert.ok(skipped.ok)
  assert.match(reason(decodeV04(oneField('x', [0xc8, 0x00, 0x09, 0x01, 0xaa]))), /need 13 bytes, 5 left \(at offset 5\)/)
})

test('trailing bytes after the top-level value are rejected', () => {
  assert.match(reason(decodeV04(Buffer.concat([V04_FIXTURE, Buffer.from([0x00])]))), /^1 trailing byte after the top-level value \(at offset 3719\)$/)
  assert.match(reason(decodeV05(Buffer.concat([V05_FIXTURE, Buffer.from('junk')]))), /^4 trailing bytes after the top-level value/)
  assert.match(reason(decodeMsgpack(Uint8Array.from([0xc0, 0xc0]))), /1 trailing byte/)
})

test('v0.5: bad string-table index, wrong span arity, nil span, nil maps', () => {
  const table = ['', 'svc', 'op']
  // Maps, not objects: msgpackr would write an object's keys as strings.
  const span = (over: Record<number, unknown> = {}): unknown[] => {
    const s: unknown[] = [1, 2, 2, 1n, 2n, 0n, 1n, 5, 0, new Map([[1, 2]]), new Map([[2, 1.5]]), 0]
    for (const [i, v] of Object.entries(over)) s[Number(i)] = v
    return s
  }
  const ok = decodeV05(packr.pack([table, [[span()]]]))
  assert.ok(ok.ok)
  assert.deepEqual(ok.chunks[0][0].meta, { svc: 'op' })
  assert.deepEqual(ok.chunks[0][0].metrics, { op: 1.5 })
  assert.match(reason(decodeV05(packr.pack([table, [[span({ 1: 999 })]]]))), /^chunk 0 span 0: field "name": string table index 999 out of range \(table has 3 strings\)/)
  assert.match(reason(decodeV05(packr.pack([table, [[span({ 0: -1 })]]]))), /field "service": string table index -1 out of range/)
  assert.match(reason(decodeV05(packr.pack([table, [[span({ 11: 'llm' })]]]))), /field "type" must be a string table index, got str/)
  assert.match(reason(decodeV05(packr.pack([table, [[span({ 9: new Map([[1, 7]]) })]]]))), /field "meta": string table index 7 out of range/)
  assert.match(reason(decodeV05(packr.pack([table, [[span({ 10: null })]]]))), /field "metrics" must be a map, got nil/)
  assert.match(reason(decodeV05(packr.pack([table, [[span().slice(0, 11)]]]))), /^chunk 0 span 0: span must be an array of 12 elements, got 11/)
  assert.match(reason(decodeV05(packr.pack([table, [[null]]]))), /span must be an array of 12 elements, got nil/)
  assert.match(reason(decodeV05(packr.pack([table, [[span({ 3: 'x' })]]]))), /field "trace_id" must be an integer, got str/)
})

test('budgets: value count and span count', () => {
  assert.match(reason(decodeV04(V04_FIXTURE, { limits: { maxElements: 100 } })), /more than 100 values in one body/)
  assert.match(reason(decodeV04(V04_FIXTURE, { maxSpans: 3 })), /^chunk 0: more than 3 spans in one payload/)
  assert.match(reason(decodeV05(V05_FIXTURE, { maxSpans: 3 })), /more than 3 spans in one payload/)
  // A million empty spans in one array: refused at the header by the span cap, not decoded.
  const many = Buffer.concat([Buffer.from([0x91, 0xdd, 0x00, 0x0f, 0x42, 0x40]), Buffer.alloc(1_000_000, 0x80)])
  assert.match(reason(decodeV04(many)), /more than 200000 spans/)
})

test('lenient where the Agent is: nil span entries, nil meta/metrics/meta_struct, bin keys', () => {
  const r = decodeV04(packr.pack([[null, { meta: null, metrics: null, meta_struct: null, name: null, trace_id: null }]]))
  assert.ok(r.ok)
  assert.equal(r.chunks[0].length, 1)
  assert.deepEqual(r.chunks[0][0].meta, {})
  const binKey = decodeV04(Uint8Array.from([0x91, 0x91, 0x81, 0xc4, 0x04, ...Buffer.from('name'), ...str('op')]))
  assert.ok(binKey.ok)
  assert.equal(binKey.chunks[0][0].name, 'op')
})

test('DecodeError carries a stable code and the offset; the reader reports it', () => {
  const reader = new MsgpackReader(Uint8Array.from([0x92, 0xa3, 0x61]))
  assert.equal(reader.readArrayHeader(), 2)
  assert.throws(() => reader.readString(), (err: unknown) => {
    assert.ok(err instanceof DecodeError)
    assert.equal(err.code, 'ERR_DECODE')
    assert.equal(err.offset, 1)
    assert.match(err.message, /declared str length 3 exceeds remaining bytes \(1\)/)
    return true
  })
})
