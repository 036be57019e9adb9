import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Unpackr } from 'msgpackr'
import { log } from '../../src/diag/logger.js'
import { newEncodeStats } from '../../src/encode/encode_stats.js'
import { V05PayloadBuilder, V05_OVERFLOW } from '../../src/encode/v05.js'
import { ZERO_ID } from '../../src/model/span_data.js'
import type { SpanData } from '../../src/model/span_data.js'

log.configure({ sink: () => {} })
const exact = new Unpackr({ useRecords: false, int64AsType: 'bigint' })
const FIXTURE = new URL('../../../test/data/dd-trace-js-5.132/v05-01_v0.5_traces.body', import.meta.url)

type WireSpan = unknown[]
type Payload = [string[], WireSpan[][]]

interface Resolved {
  service: string, name: string, resource: string, traceId: bigint, spanId: bigint, parentId: bigint,
  start: bigint, duration: bigint, error: number, meta: Record<string, string>, metrics: Record<string, number>, type: string
}

/** Turns a v0.5 span back into named fields through the string table, checking every index. */
function resolve (table: string[], s: WireSpan): Resolved {
  assert.equal(s.length, 12, 'a span is a fixed 12-element array')
  const str = (i: unknown): string => {
    assert.equal(typeof i, 'number', 'string slots hold table indices')
    assert.ok((i as number) >= 0 && (i as number) < table.length, `index ${String(i)} in range`)
    return table[i as number]
  }
  const meta: Record<string, string> = {}
  for (const [k, v] of Object.entries(s[9] as Record<string, number>)) meta[str(Number(k))] = str(v)
  const metrics: Record<string, number> = {}
  for (const [k, v] of Object.entries(s[10] as Record<string, number>)) metrics[str(Number(k))] = v
  return {
    service: str(s[0]), name: str(s[1]), resource: str(s[2]),
    traceId: BigInt(s[3] as bigint), spanId: BigInt(s[4] as bigint), parentId: BigInt(s[5] as bigint),
    start: BigInt(s[6] as bigint), duration: BigInt(s[7] as bigint), error: s[8] as number, meta, metrics, type: str(s[11]),
  }
}

function span (over: Partial<SpanData> = {}): SpanData {
  return {
    traceId: '00000000000000aa',
    spanId: '00000000000000bb',
    parentId: ZERO_ID,
    name: 'op',
    service: 'svc',
    resource: 'res',
    type: '',
    startSec: 1700000000,
    startNsec: 5,
    duration: 1000,
    error: 0,
    meta: { env: 'prod', service: 'svc' },
    metrics: { _sampling_priority_v1: 1, rate: 0.25 },
    metaStruct: undefined,
    ...over,
  }
}

test('payload is [string_table, chunks] with "" at index 0 and no duplicate strings', () => {
  const b = new V05PayloadBuilder()
  const stats = newEncodeStats()
  assert.ok(b.addChunk([span(), span({ spanId: '00000000000000cc', parentId: '00000000000000bb', error: 1 })], stats) > 0)
  assert.ok(b.addChunk([span({ traceId: '00000000000000dd', service: 'other' })], stats) > 0)
  assert.equal(b.chunkCount, 2)
  const body = b.finish()
  assert.equal(body.length, b.length)
  assert.equal(body[0], 0x92)
  const [table, chunks] = exact.unpack(body) as Payload
  assert.equal(table[0], '')
  assert.equal(new Set(table).size, table.length)
  assert.equal(chunks.length, 2)
  const first = resolve(table, chunks[0][0])
  assert.deepEqual(first, {
    service: 'svc', name: 'op', resource: 'res', traceId: 0xaan, spanId: 0xbbn, parentId: 0n,
    start: 1700000000000000005n, duration: 1000n, error: 0,
    meta: { env: 'prod', service: 'svc' }, metrics: { _sampling_priority_v1: 1, rate: 0.25 }, type: '',
  })
  assert.equal(chunks[0][0][11], 0, 'the empty type is index 0')
  const second = resolve(table, chunks[0][1])
  assert.equal(second.parentId, 0xbbn)
  assert.equal(second.error, 1)
  assert.equal(resolve(table, chunks[1][0]).service, 'other')
  assert.deepEqual(stats, newEncodeStats())
})

test('ids are uint64 0xcf and start is int64 0xd3 inside the span array', () => {
  const b = new V05PayloadBuilder()
  b.addChunk([span({ traceId: 'ffffffffffffffff' })], newEncodeStats())
  const body = b.finish()
  assert.ok(body.includes(Buffer.from('cfffffffffffffffff', 'hex')))
  const start = Buffer.alloc(9)
  start[0] = 0xd3
  start.writeBigInt64BE(1700000000000000005n, 1)
  assert.ok(body.includes(start))
})

test('meta_struct has no slot in v0.5: it is dropped and counted', () => {
  const b = new V05PayloadBuilder()
  const stats = newEncodeStats()
  b.addChunk([span({ metaStruct: { _llmobs: { a: 1 }, other: 'x', none: undefined } })], stats)
  assert.equal(stats.metaStructDropped, 2)
  const [table] = exact.unpack(b.finish()) as Payload
  assert.equal(table.includes('_llmobs'), false)
})

test('a chunk past maxBytes is rolled back with its new strings', () => {
  const b = new V05PayloadBuilder({ maxBytes: 600 })
  const stats = newEncodeStats()
  assert.ok(b.addChunk([span()], stats) > 0)
  const before = b.length
  assert.equal(b.addChunk([span({ meta: { huge: 'x'.repeat(1000) }, name: 'new-name' })], stats), V05_OVERFLOW)
  assert.equal(b.length, before)
  assert.equal(b.chunkCount, 1)
  const [table, chunks] = exact.unpack(b.finish()) as Payload
  assert.equal(table.includes('new-name'), false)
  assert.equal(table.includes('huge'), false)
  assert.equal(chunks.length, 1)
  // The builder still works after a rollback, and strings added later get fresh indices.
  assert.ok(b.addChunk([span({ name: 'later' })], stats) > 0)
  const [table2, chunks2] = exact.unpack(b.finish()) as Payload
  assert.equal(resolve(table2, chunks2[1][0]).name, 'later')
})

test('reset starts a fresh string table', () => {
  const b = new V05PayloadBuilder()
  b.addChunk([span({ service: 'a-service' })], newEncodeStats())
  b.reset()
  assert.equal(b.chunkCount, 0)
  b.addChunk([span({ service: 'b-service' })], newEncodeStats())
  const [table, chunks] = exact.unpack(b.finish()) as Payload
  assert.equal(table.includes('a-service'), false)
  assert.equal(chunks.length, 1)
  assert.deepEqual(exact.unpack(new V05PayloadBuilder().finish()), [[''], []])
})

test('bad runtime types are repaired the same way as in v0.4', () => {
  const b = new V05PayloadBuilder()
  const stats = newEncodeStats()
  b.addChunk([span({
    meta: { n: 5, u: undefined } as unknown as Record<string, string>,
    metrics: { s: 'x', ok: 2 } as unknown as Record<string, number>,
    spanId: 'zz',
  })], stats)
  const [table, chunks] = exact.unpack(b.finish()) as Payload
  const s = resolve(table, chunks[0][0])
  assert.deepEqual(s.meta, { n: '5' })
  assert.deepEqual(s.metrics, { ok: 2 })
  assert.equal(s.spanId, 0n)
  assert.equal(stats.fieldsRepaired, 4)
})

test("re-encoding dd-trace-js's own v0.5 payload gives the same spans", () => {
  const [origTable, origChunks] = exact.unpack(readFileSync(FIXTURE)) as Payload
  const expected = origChunks.map((c) => c.map((s) => resolve(origTable, s)))
  const b = new V05PayloadBuilder()
  for (const chunk of expected) {
    b.addChunk(chunk.map((r): SpanData => ({
      traceId: r.traceId.toString(16).padStart(16, '0'),
      spanId: r.spanId.toString(16).padStart(16, '0'),
      parentId: r.parentId.toString(16).padStart(16, '0'),
      name: r.name, service: r.service, resource: r.resource, type: r.type,
      startSec: Number(r.start / 1000000000n), startNsec: Number(r.start % 1000000000n),
      duration: Number(r.duration), error: r.error as 0 | 1, meta: r.meta, metrics: r.metrics, metaStruct: undefined,
    })), newEncodeStats())
  }
  const [table, chunks] = exact.unpack(b.finish()) as Payload
  assert.deepEqual(chunks.map((c) => c.map((s) => resolve(table, s))), expected)
  assert.equal(table.length, origTable.length, 'same set of distinct strings')
})
