import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Unpackr } from 'msgpackr'
import { log } from '../../src/diag/logger.js'
import { newEncodeStats } from '../../src/encode/encode_stats.js'
import type { EncodeStats } from '../../src/encode/encode_stats.js'
import { MsgpackWriter } from '../../src/encode/msgpack_writer.js'
import { assemblePayloadV04, encodeChunkV04, encodePayloadV04 } from '../../src/encode/v04.js'
import { ZERO_ID } from '../../src/model/span_data.js'
import type { SpanData } from '../../src/model/span_data.js'

log.configure({ sink: () => {} })
const exact = new Unpackr({ useRecords: false, int64AsType: 'bigint' })
const FIXTURE = new URL('../../../test/data/dd-trace-js-5.132/01_v0.4_traces.body', import.meta.url)

type WireSpan = Record<string, unknown>

function span (over: Partial<SpanData> = {}): SpanData {
  return {
    traceId: '00946c0904f11758',
    spanId: '00946c0904f11758',
    parentId: ZERO_ID,
    name: 'answer-question',
    service: 'fixture-svc',
    resource: 'GET /',
    type: 'web',
    startSec: 1795611232,
    startNsec: 984016384,
    duration: 3910645,
    error: 0,
    meta: { env: 'fixture', '_dd.p.tid': '6b06da6000000000' },
    metrics: { _sampling_priority_v1: 1, '_dd.agent_psr': 0.5 },
    metaStruct: undefined,
    ...over,
  }
}

function chunkBytes (spans: SpanData[], stats: EncodeStats = newEncodeStats()): Buffer {
  const w = new MsgpackWriter({ initialCapacity: 64 })
  assert.equal(encodeChunkV04(spans, w, stats), 'ok')
  return w.toBuffer()
}

function decodeChunk (spans: SpanData[], stats?: EncodeStats): WireSpan[] {
  return exact.unpack(assemblePayloadV04([chunkBytes(spans, stats)]))[0] as WireSpan[]
}

/** Byte offset of the value that follows `key` in an encoded span map. */
function valueAt (bytes: Buffer, key: string): number {
  const k = Buffer.concat([Buffer.from([0xa0 | key.length]), Buffer.from(key)])
  const at = bytes.indexOf(k)
  assert.ok(at >= 0, `key ${key} present`)
  return at + k.length
}

test('span maps carry exactly the v0.4 keys with the right values', () => {
  const [wire] = decodeChunk([span()])
  assert.deepEqual(Object.keys(wire).sort(), [
    'duration', 'error', 'meta', 'metrics', 'name', 'parent_id', 'resource', 'service', 'span_id', 'start',
    'trace_id', 'type',
  ])
  assert.equal(wire.trace_id, 0x00946c0904f11758n)
  assert.equal(wire.span_id, 0x00946c0904f11758n)
  assert.equal(wire.parent_id, 0n)
  assert.equal(wire.name, 'answer-question')
  assert.equal(wire.service, 'fixture-svc')
  assert.equal(wire.resource, 'GET /')
  assert.equal(wire.type, 'web')
  assert.equal(wire.duration, 3910645n)
  assert.equal(wire.error, 0)
  assert.deepEqual(wire.meta, { env: 'fixture', '_dd.p.tid': '6b06da6000000000' })
  assert.deepEqual(wire.metrics, { _sampling_priority_v1: 1, '_dd.agent_psr': 0.5 })
})

test('ids are uint64 0xcf, start and duration int64 0xd3, error a fixint', () => {
  const b = chunkBytes([span({ traceId: 'ffffffffffffffff', spanId: '8000000000000001', error: 1 })])
  for (const [key, expected] of [['trace_id', 'cfffffffffffffffff'], ['span_id', 'cf8000000000000001'], ['parent_id', 'cf0000000000000000']]) {
    const at = valueAt(b, key)
    assert.equal(b.subarray(at, at + 9).toString('hex'), expected, key)
  }
  assert.equal(b[valueAt(b, 'start')], 0xd3)
  assert.equal(b[valueAt(b, 'duration')], 0xd3)
  assert.equal(b[valueAt(b, 'error')], 0x01)
  assert.equal(b[valueAt(b, '_dd.agent_psr')], 0xcb, 'non-integer metric is float64 (never float32)')
  assert.equal(b[valueAt(b, '_sampling_priority_v1')], 0x01, 'integer metric is the smallest int')
})

test('start is the exact int64 nanosecond count of (startSec, startNsec)', () => {
  const cases: Array<[number, number]> = [[1795611232, 984016384], [0, 0], [0, 999999999], [1, 1], [2 ** 31 - 1, 999999999], [1700000000, 123456789]]
  for (const [sec, nsec] of cases) {
    const [wire] = decodeChunk([span({ startSec: sec, startNsec: nsec })])
    assert.equal(wire.start, BigInt(sec) * 1000000000n + BigInt(nsec), `${sec}.${nsec}`)
  }
})

test('durations up to 2^53 are exact; invalid ones are sent as 0 and counted', () => {
  assert.equal(decodeChunk([span({ duration: 2 ** 53 - 1 })])[0].duration, 2n ** 53n - 1n)
  assert.equal(decodeChunk([span({ duration: 2 ** 32 + 5 })])[0].duration, 2n ** 32n + 5n)
  const stats = newEncodeStats()
  assert.equal(decodeChunk([span({ duration: -5 })], stats)[0].duration, 0n)
  assert.equal(decodeChunk([span({ duration: Number.NaN })], stats)[0].duration, 0n)
  assert.equal(stats.fieldsRepaired, 2)
})

test('ids: 32-char trace ids give their low 64 bits, malformed ids become 0 and are counted', () => {
  const stats = newEncodeStats()
  const wire = decodeChunk([
    span({ traceId: '6b06da60000000002a94616f3b4d62df' }),
    span({ traceId: 'abc', spanId: 'not-hex-at-all!!', parentId: 42 as unknown as string }),
  ], stats)
  assert.equal(wire[0].trace_id, 0x2a94616f3b4d62dfn)
  assert.equal(wire[1].trace_id, 0xabcn)
  assert.equal(wire[1].span_id, 0n)
  assert.equal(wire[1].parent_id, 0n)
  assert.equal(stats.fieldsRepaired, 2)
})

test('spans of a chunk that change trace id mid-chunk keep their own ids', () => {
  const wire = decodeChunk([span({ traceId: '0000000000000001' }), span({ traceId: '0000000000000002' }), span({ traceId: '0000000000000001' })])
  assert.deepEqual(wire.map((s) => s.trace_id), [1n, 2n, 1n])
})

test('meta and metrics of the wrong runtime type are repaired, never sent as the Agent would reject them', () => {
  const stats = newEncodeStats()
  const meta = { ok: 'v', num: 5, bool: true, nil: null, undef: undefined, obj: { a: 1 } } as unknown as Record<string, string>
  const metrics = { ok: 1.25, nan: Number.NaN, inf: Infinity, str: '3', big: 2 ** 40 } as unknown as Record<string, number>
  const [wire] = decodeChunk([span({ meta, metrics })], stats)
  assert.deepEqual(wire.meta, { ok: 'v', num: '5', bool: 'true', obj: '[object Object]' })
  assert.deepEqual(wire.metrics, { ok: 1.25, big: 2n ** 40n })
  assert.equal(stats.fieldsRepaired, 5 + 3)
})

test('non-string names and missing maps do not break the span', () => {
  const stats = newEncodeStats()
  const [wire] = decodeChunk([span({
    name: undefined as unknown as string,
    service: 7 as unknown as string,
    meta: null as unknown as Record<string, string>,
    metrics: undefined as unknown as Record<string, number>,
  })], stats)
  assert.equal(wire.name, '')
  assert.equal(wire.service, '7')
  assert.deepEqual(wire.meta, {})
  assert.deepEqual(wire.metrics, {})
})

test('a meta_struct that is not a readable object is left out and counted', () => {
  const stats = newEncodeStats()
  const throwing = new Proxy({}, { ownKeys () { throw new Error('keys') } })
  for (const metaStruct of ['text', 5, throwing] as unknown as Array<Record<string, unknown>>) {
    const [wire] = decodeChunk([span({ metaStruct })], stats)
    assert.equal('meta_struct' in wire, false)
  }
  assert.equal(stats.fieldsRepaired, 3)
})

test('a meta map whose getter throws is sent empty and the span survives', () => {
  const meta: Record<string, string> = { a: 'x' }
  Object.defineProperty(meta, 'bad', { enumerable: true, get () { throw new Error('boom') } })
  const stats = newEncodeStats()
  const [wire] = decodeChunk([span({ meta })], stats)
  assert.deepEqual(wire.meta, {})
  assert.equal(wire.name, 'answer-question')
  assert.equal(stats.fieldsRepaired, 1)
})

test('meta_struct values are separate msgpack documents carried as bin', () => {
  const llmobs = { trace_id: 'a'.repeat(32), meta: { input: { messages: [{ role: 'user', content: 'hi' }] } }, flags: [true, null, false] }
  const big = { text: 'x'.repeat(300) }
  const huge = { text: 'y'.repeat(70000) }
  const b = chunkBytes([span({ metaStruct: { _llmobs: llmobs, big, huge } })])
  assert.equal(b[valueAt(b, '_llmobs')], 0xc4)
  assert.equal(b[valueAt(b, 'big')], 0xc5)
  assert.equal(b[valueAt(b, 'huge')], 0xc6)
  const [wire] = exact.unpack(assemblePayloadV04([b]))[0] as WireSpan[]
  const ms = wire.meta_struct as Record<string, Uint8Array>
  assert.ok(ms._llmobs instanceof Uint8Array)
  assert.deepEqual(exact.unpack(ms._llmobs), llmobs)
  assert.deepEqual(exact.unpack(ms.big), big)
  assert.deepEqual(exact.unpack(ms.huge), huge)
})

test('meta_struct is left out when undefined, empty or all-undefined', () => {
  for (const metaStruct of [undefined, {}, { a: undefined }]) {
    const b = chunkBytes([span({ metaStruct })])
    assert.equal(b[1], 0x8c, 'a 12-entry map')
    assert.equal(b.includes(Buffer.from('meta_struct')), false)
  }
  const b = chunkBytes([span({ metaStruct: { a: undefined, b: null } })])
  assert.equal(b[1], 0x8d)
  const [wire] = exact.unpack(assemblePayloadV04([b]))[0] as WireSpan[]
  assert.deepEqual(Object.keys(wire.meta_struct as object), ['b'])
  assert.equal(exact.unpack((wire.meta_struct as Record<string, Uint8Array>).b), null)
})

test('a meta_struct value with placeholders still decodes, and is counted', () => {
  const stats = newEncodeStats()
  const cyclic: Record<string, unknown> = {}
  cyclic.me = cyclic
  const [wire] = decodeChunk([span({ metaStruct: { _llmobs: { cyclic, f: () => 1 } } })], stats)
  assert.deepEqual(exact.unpack((wire.meta_struct as Record<string, Uint8Array>)._llmobs), {
    cyclic: { me: '[circular]' }, f: '[unencodable: function]',
  })
  assert.equal(stats.placeholders, 2)
})

test('chunks assemble into one payload without re-encoding', () => {
  const chunks: Buffer[] = []
  for (let i = 0; i < 17; i++) chunks.push(chunkBytes([span({ traceId: (i + 1).toString(16).padStart(16, '0') }), span()]))
  const body = assemblePayloadV04(chunks)
  assert.equal(body[0], 0xdc, 'array16 for 17 chunks')
  const payload = exact.unpack(body) as WireSpan[][]
  assert.equal(payload.length, 17)
  assert.equal(payload[16][0].trace_id, 17n)
  assert.equal(payload[16].length, 2)
  assert.deepEqual(exact.unpack(assemblePayloadV04([])), [])
  // A payload of a subset (a 413 split) needs no re-encoding either.
  assert.equal((exact.unpack(assemblePayloadV04(chunks.slice(0, 3))) as unknown[]).length, 3)
})

test('chunks appended to one writer can be cut out by their marks', () => {
  const w = new MsgpackWriter()
  const stats = newEncodeStats()
  const marks = [0]
  for (let i = 0; i < 3; i++) {
    encodeChunkV04([span({ name: `n${i}` })], w, stats)
    marks.push(w.length)
  }
  const views = [w.view(marks[0], marks[1]), w.view(marks[2], marks[3])]
  const payload = exact.unpack(assemblePayloadV04(views)) as WireSpan[][]
  assert.deepEqual(payload.map((c) => c[0].name), ['n0', 'n2'])
})

test('a whole payload can be written straight into a writer', () => {
  const w = new MsgpackWriter()
  w.writeNil() // something before the payload: the body starts at the mark
  const mark = w.length
  assert.equal(encodePayloadV04([[span({ name: 'a' })], [span({ name: 'b' }), span({ name: 'c' })]], w, newEncodeStats()), 'ok')
  const payload = exact.unpack(w.view(mark)) as WireSpan[][]
  assert.deepEqual(payload.map((c) => c.map((s) => s.name)), [['a'], ['b', 'c']])
  assert.deepEqual(exact.unpack(assemblePayloadV04([])), [])
})

test('a payload keeps the chunks that fit and reports the one that did not', () => {
  const w = new MsgpackWriter({ initialCapacity: 64, maxCapacity: 1500 })
  const result = encodePayloadV04([[span({ name: 'a' })], [span({ metaStruct: { big: 'x'.repeat(3000) } })], [span({ name: 'c' })]], w, newEncodeStats())
  assert.equal(result, 'overflow')
  const payload = exact.unpack(w.view()) as WireSpan[][]
  assert.deepEqual(payload.map((c) => c[0].name), ['a', 'c'])
})

test('a chunk that passes the writer cap is rolled back and reported', () => {
  const w = new MsgpackWriter({ initialCapacity: 64, maxCapacity: 2048 })
  const stats = newEncodeStats()
  assert.equal(encodeChunkV04([span()], w, stats), 'ok')
  const mark = w.length
  const result = encodeChunkV04([span({ metaStruct: { big: 'x'.repeat(5000) } })], w, stats)
  assert.equal(result, 'overflow')
  assert.equal(w.length, mark)
  assert.equal(w.overflowed, false, 'rewound, ready for the next chunk')
  assert.equal(encodeChunkV04([span()], w, stats), 'ok')
})

test('payload bodies are independent of each other and of the writer', () => {
  const w = new MsgpackWriter()
  encodeChunkV04([span({ name: 'first' })], w, newEncodeStats())
  const first = assemblePayloadV04([w.view()])
  w.reset()
  encodeChunkV04([span({ name: 'second' })], w, newEncodeStats())
  const second = assemblePayloadV04([w.view()])
  assert.equal((exact.unpack(first) as WireSpan[][])[0][0].name, 'first')
  assert.equal((exact.unpack(second) as WireSpan[][])[0][0].name, 'second')
})

test("re-encoding dd-trace-js's own v0.4 payload gives the same spans", () => {
  const original = exact.unpack(readFileSync(FIXTURE)) as WireSpan[][]
  const chunks = original.map((chunk) => chunk.map((s): SpanData => {
    const start = s.start as bigint
    return {
      traceId: (s.trace_id as bigint).toString(16).padStart(16, '0'),
      spanId: (s.span_id as bigint).toString(16).padStart(16, '0'),
      parentId: (s.parent_id as bigint).toString(16).padStart(16, '0'),
      name: s.name as string,
      service: s.service as string,
      resource: s.resource as string,
      type: (s.type as string | undefined) ?? '',
      startSec: Number(start / 1000000000n),
      startNsec: Number(start % 1000000000n),
      duration: Number(s.duration),
      error: s.error as 0 | 1,
      meta: s.meta as Record<string, string>,
      metrics: s.metrics as Record<string, number>,
      metaStruct: undefined,
    }
  }))
  const stats = newEncodeStats()
  const body = assemblePayloadV04(chunks.map((c) => chunkBytes(c, stats)))
  const norm = (payload: WireSpan[][]): unknown => payload.map((c) => c.map((s) => ({
    ...s, type: s.type ?? '', duration: BigInt(s.duration as number | bigint), start: BigInt(s.start as bigint),
  })))
  assert.deepEqual(norm(exact.unpack(body) as WireSpan[][]), norm(original))
  assert.deepEqual(stats, newEncodeStats())
})
