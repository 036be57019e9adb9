import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Packr, Unpackr } from 'msgpackr'
import { decodeV04 } from '../../src/agent/decode/v04.js'
import { decodeV05 } from '../../src/agent/decode/v05.js'
import { type DecodedSpan, decodeMetaStructValue } from '../../src/agent/decode/trace_span.js'
import { decodeMsgpack } from '../../src/agent/decode/msgpack_value.js'
import { MsgpackWriter } from '../../src/encode/msgpack_writer.js'
import { assemblePayloadV04, encodeChunkV04 } from '../../src/encode/v04.js'
import { V05PayloadBuilder } from '../../src/encode/v05.js'
import { newEncodeStats } from '../../src/encode/encode_stats.js'
import type { SpanData } from '../../src/model/span_data.js'

const DATA = new URL('../../../test/data/dd-trace-js-5.132/', import.meta.url)
const V04_FIXTURE = readFileSync(new URL('01_v0.4_traces.body', DATA))
const V05_FIXTURE = readFileSync(new URL('v05-01_v0.5_traces.body', DATA))
const packr = new Packr({ useRecords: false })
/** msgpackr as the reference reader for the fixtures (exact 64-bit ints). */
const reference = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' })

function chunksOf (r: ReturnType<typeof decodeV04>): DecodedSpan[][] {
  if (!r.ok) assert.fail(`expected ok, got: ${r.reason}`)
  return r.chunks
}

test('v0.4 fixture from dd-trace-js 5.132 decodes to its 4 spans, ids and times exact', () => {
  const [chunk, ...rest] = chunksOf(decodeV04(V04_FIXTURE))
  assert.equal(rest.length, 0)
  assert.deepEqual(chunk.map((s) => s.name), ['answer-question', 'search-docs', 'chat', 'calculator'])
  for (const s of chunk) {
    assert.equal(s.service, 'fixture-svc')
    assert.equal(s.traceId, 41777082546591576n)
    assert.deepEqual(s.metaStruct, {})
  }
  assert.deepEqual(chunk.map((s) => s.spanId), [41777082546591576n, 636040298981857873n, 5255485892174694195n, 9159069457430045036n])
  assert.deepEqual(chunk.map((s) => s.parentId), [0n, 41777082546591576n, 41777082546591576n, 41777082546591576n])
  // 1795611232984016384 is above 2^53: a double would have rounded it.
  assert.equal(chunk[0].start, 1795611232984016384n)
  assert.equal(chunk[0].duration, 3910645n)
  assert.deepEqual(chunk.map((s) => s.error), [0, 0, 0, 1])
  assert.equal(chunk[3].meta['error.type'], 'TypeError')
  assert.equal(chunk[3].meta['error.message'], 'division by zero')
  assert.equal(chunk[0].meta['_dd.p.tid'], '6b06da6000000000')
  assert.equal(chunk[0].metrics._sampling_priority_v1, 1)
  assert.equal(chunk[2].metrics['gen_ai.usage.total_tokens'], 23)

  const ref = reference.unpack(V04_FIXTURE) as Array<Array<Record<string, unknown>>>
  chunk.forEach((s, i) => {
    assert.deepEqual(s.meta, ref[0][i].meta)
    assert.deepEqual(s.metrics, ref[0][i].metrics)
    assert.equal(s.resource, ref[0][i].resource)
  })
})

test('v0.5 fixture decodes to the same shape through the string table', () => {
  const [chunk, ...rest] = chunksOf(decodeV05(V05_FIXTURE))
  assert.equal(rest.length, 0)
  assert.deepEqual(chunk.map((s) => s.name), ['answer-question', 'search-docs', 'chat', 'calculator'])
  assert.deepEqual(chunk.map((s) => s.spanId), [310549760357805932n, 200494007101921784n, 3412146006613966559n, 6993595856073181371n])
  assert.deepEqual(chunk.map((s) => s.parentId), [0n, 310549760357805932n, 310549760357805932n, 310549760357805932n])
  assert.deepEqual(chunk.map((s) => s.error), [0, 0, 0, 1])
  assert.equal(chunk[0].start, 1795611240035015168n)
  for (const s of chunk) {
    assert.equal(s.service, 'fixture-svc')
    assert.equal(s.traceId, 310549760357805932n)
    assert.equal(s.type, '')
  }
  assert.equal(chunk[3].meta['error.type'], 'TypeError')
  assert.equal(chunk[0].meta['_dd.p.tid'], '6b06da6800000000')
  assert.equal(chunk[2].meta['gen_ai.request.model'], 'gpt-4o')
  assert.deepEqual(chunk[2].metrics, {
    '_dd.measured': 1, process_id: 16762, _sampling_priority_v1: 1,
    'gen_ai.usage.input_tokens': 21, 'gen_ai.usage.output_tokens': 2, 'gen_ai.usage.total_tokens': 23,
  })
  // Resolve the reference decode's indices by hand and compare every meta map.
  const [table, chunks] = reference.unpack(V05_FIXTURE) as [string[], unknown[][][]]
  chunk.forEach((s, i) => {
    const metaRef: Record<string, string> = {}
    for (const [k, v] of Object.entries(chunks[0][i][9] as Record<string, number>)) metaRef[table[Number(k)]] = table[v]
    assert.deepEqual(s.meta, metaRef)
  })
})

test('every proper prefix of both fixtures is rejected with a reason, never a throw', () => {
  for (const [body, decode] of [[V04_FIXTURE, decodeV04], [V05_FIXTURE, decodeV05]] as const) {
    for (let n = 0; n < body.length; n++) {
      const r = decode(body.subarray(0, n))
      assert.equal(r.ok, false, `prefix of ${n} bytes decoded`)
      if (!r.ok) assert.match(r.reason, n === 0 ? /empty body/ : /unexpected end of input|exceeds remaining bytes/)
    }
  }
})

test('msgpackr-built v0.4 payload round-trips: any int width, nil as zero, bin strings, meta_struct, unknown keys', () => {
  const llmobs = { trace_id: 'a'.repeat(32), meta: { input: { messages: [{ role: 'user', content: 'hi' }] } }, metrics: { input_tokens: 3 } }
  const body = packr.pack([[
    {
      trace_id: 0xffffffffffffffffn, span_id: -2n, parent_id: 7, service: 'svc', name: new Uint8Array([0x6f, 0x70]),
      resource: null, start: 1795611232984016384n, duration: 12, error: 1, type: 'llm',
      meta: { a: 'b', n: null }, metrics: { f: 1.5, i: 42, big: 2n ** 60n }, meta_struct: { _llmobs: packr.pack(llmobs) },
      span_links: [{ trace_id: 1, span_id: 2, attributes: { x: 'y' } }], span_events: 'skipped',
    },
    null,
    { name: 'bare' },
  ]])
  const [[a, b]] = chunksOf(decodeV04(body))
  assert.equal(a.traceId, 0xffffffffffffffffn)
  assert.equal(a.spanId, 0xfffffffffffffffen, 'negative ints are reinterpreted as uint64, as the Agent does')
  assert.equal(a.parentId, 7n)
  assert.equal(a.name, 'op')
  assert.equal(a.resource, '')
  assert.equal(a.start, 1795611232984016384n)
  assert.equal(a.duration, 12n)
  assert.deepEqual(a.meta, { a: 'b', n: '' })
  assert.deepEqual(a.metrics, { f: 1.5, i: 42, big: 2 ** 60 })
  const doc = decodeMetaStructValue(a.metaStruct._llmobs)
  assert.ok(doc.ok)
  assert.deepEqual(doc.value, llmobs)
  assert.deepEqual(b, { traceId: 0n, spanId: 0n, parentId: 0n, service: '', name: 'bare', resource: '', type: '', start: 0n, duration: 0n, error: 0, meta: {}, metrics: {}, metaStruct: {} })
})

function spanData (over: Partial<SpanData> = {}): SpanData {
  return {
    traceId: 'fedcba9876543210', spanId: '00000000000000ff', parentId: '0000000000000000',
    name: 'llm.call', service: 'svc', resource: 'res', type: 'llm', startSec: 1795611232, startNsec: 984016384,
    duration: 1234, error: 1, meta: { 'ü': 'ñ', '_dd.p.tid': '6b06da6000000000' }, metrics: { _sampling_priority_v1: 1, score: 0.25 },
    metaStruct: undefined, ...over,
  }
}

test('our v0.4 encoder round-trips through decodeV04, meta_struct lossless (null, booleans in arrays, nesting)', () => {
  const llmobs = { trace_id: 'b'.repeat(32), parent_id: 'undefined', tags: { a: 'b' }, meta: { input: { value: null }, flags: [true, false, null, 1.5, 'x'], deep: { a: { b: { c: [1, [2, [3]]] } } } } }
  const out = new MsgpackWriter()
  assert.equal(encodeChunkV04([spanData({ metaStruct: { _llmobs: llmobs } }), spanData({ spanId: '0000000000000100', parentId: '00000000000000ff', error: 0 })], out, newEncodeStats()), 'ok')
  const [[a, b]] = chunksOf(decodeV04(assemblePayloadV04([out.toBuffer()])))
  assert.equal(a.traceId, 0xfedcba9876543210n)
  assert.equal(a.spanId, 0xffn)
  assert.equal(a.start, 1795611232984016384n)
  assert.equal(a.duration, 1234n)
  assert.equal(a.error, 1)
  assert.deepEqual(a.meta, { 'ü': 'ñ', '_dd.p.tid': '6b06da6000000000' })
  assert.deepEqual(a.metrics, { _sampling_priority_v1: 1, score: 0.25 })
  const doc = decodeMetaStructValue(a.metaStruct._llmobs)
  assert.ok(doc.ok)
  assert.deepEqual(doc.value, llmobs)
  assert.equal(b.parentId, 0xffn)
  assert.deepEqual(b.metaStruct, {})
})

test('our v0.5 encoder round-trips through decodeV05', () => {
  const builder = new V05PayloadBuilder()
  assert.ok(builder.addChunk([spanData(), spanData({ spanId: '0000000000000100', name: 'second', type: '' })], newEncodeStats()) > 0)
  const [[a, b]] = chunksOf(decodeV05(builder.finish()))
  assert.equal(a.traceId, 0xfedcba9876543210n)
  assert.equal(a.start, 1795611232984016384n)
  assert.deepEqual(a.meta, { 'ü': 'ñ', '_dd.p.tid': '6b06da6000000000' })
  assert.deepEqual(a.metrics, { _sampling_priority_v1: 1, score: 0.25 })
  assert.equal(b.name, 'second')
  assert.equal(b.spanId, 0x100n)
})

test('decodeMsgpack: exact ints at every width, floats, bin, nested values', () => {
  const cases: Array<[number[], unknown]> = [
    [[0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 0xffffffffffffffffn],
    [[0xcf, 0x00, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], Number.MAX_SAFE_INTEGER],
    [[0xcf, 0x00, 0x20, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00], 2n ** 53n],
    [[0xd3, 0x80, 0, 0, 0, 0, 0, 0, 0], -(2n ** 63n)],
    [[0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 1], -(2 ** 53) + 1],
    [[0xd3, 0xff, 0xe0, 0, 0, 0, 0, 0, 0], -(2n ** 53n)],
    [[0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe], -2],
    [[0xd0, 0x80], -128], [[0xd1, 0x80, 0x00], -32768], [[0xd2, 0x80, 0, 0, 0], -2147483648],
    [[0xcc, 0xff], 255], [[0xcd, 0xff, 0xff], 65535], [[0xce, 0xff, 0xff, 0xff, 0xff], 4294967295],
    [[0xe0], -32], [[0x7f], 127],
    [[0xca, 0x3f, 0xc0, 0, 0], 1.5], [[0xcb, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18], Math.PI],
    [[0xc4, 0x02, 0xde, 0xad], new Uint8Array([0xde, 0xad])],
    [[0xa2, 0xff, 0x61], '\ufffda'], // invalid UTF-8 is repaired, as the Agent does
    [[0x82, 0xa1, 0x61, 0x91, 0xc0, 0xa1, 0x62, 0xc3], { a: [null], b: true }],
  ]
  for (const [bytes, expected] of cases) {
    const r = decodeMsgpack(Uint8Array.from(bytes))
    assert.ok(r.ok, `${bytes}: ${r.ok ? '' : r.reason}`)
    assert.deepEqual(r.value, expected, `bytes ${bytes.map((b) => b.toString(16)).join(' ')}`)
  }
})

test('hostile "__proto__" keys stay own data and do not touch prototypes', () => {
  const body = Uint8Array.from([0x91, 0x91, 0x81, 0xa4, ...Buffer.from('meta'), 0x81, 0xa9, ...Buffer.from('__proto__'), 0xa1, 0x78])
  const [[s]] = chunksOf(decodeV04(body))
  assert.equal(Object.getPrototypeOf(s.meta), Object.prototype)
  assert.deepEqual(Object.keys(s.meta), ['__proto__'])
  assert.equal(Object.getOwnPropertyDescriptor(s.meta, '__proto__')?.value, 'x')
  const doc = decodeMsgpack(Uint8Array.from([0x81, 0xa9, ...Buffer.from('__proto__'), 0x81, 0xa1, 0x61, 0x01]))
  assert.ok(doc.ok)
  assert.equal(Object.getPrototypeOf(doc.value), Object.prototype)
  assert.deepEqual(Object.getOwnPropertyDescriptor(doc.value, '__proto__')?.value, { a: 1 })
})

test('the short-string cache never hands back a different string (10,000 distinct keys, 4,096 slots)', () => {
  for (let round = 0; round < 2; round++) {
    const meta: Record<string, string> = {}
    for (let i = 0; i < 10_000; i++) meta[`k${i.toString(36).padStart(6, '0')}`] = `v${(i * 7919).toString(36)}`
    const r = decodeV04(packr.pack([[{ meta }]]))
    if (!r.ok) assert.fail(r.reason)
    assert.deepEqual(r.chunks[0][0].meta, meta)
  }
})
