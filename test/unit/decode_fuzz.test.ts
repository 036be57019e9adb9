import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { Packr } from 'msgpackr'
import { decodeV04 } from '../../src/agent/decode/v04.js'
import { decodeV05 } from '../../src/agent/decode/v05.js'
import { decodeMetaStructValue } from '../../src/agent/decode/trace_span.js'
import { decodeMsgpack } from '../../src/agent/decode/msgpack_value.js'
import { MsgpackWriter } from '../../src/encode/msgpack_writer.js'
import { assemblePayloadV04, encodeChunkV04 } from '../../src/encode/v04.js'
import { V05PayloadBuilder } from '../../src/encode/v05.js'
import { newEncodeStats } from '../../src/encode/encode_stats.js'
import type { SpanData } from '../../src/model/span_data.js'

/** Mutated bodies per run; each goes through decodeV04, decodeV05 and decodeMsgpack. */
const FUZZ_ITERATIONS = 5000
const SEED = 0x5eed1234
// Speed is not asserted (a busy machine is slow, not wrong): the elapsed time is a diagnostic. A
// decoder that hangs or goes exponential blocks this synchronous test, and the runner's per-file
// timeout (scripts/run-tests.mjs) fails it.
/** Peak heap growth allowed over the run: generous for GC timing, far below a giant allocation. */
const HEAP_BUDGET_BYTES = 128 * 1024 * 1024

/** mulberry32: tiny, seedable, good enough to pick mutations reproducibly. */
function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const DATA = new URL('../../../test/data/dd-trace-js-5.132/', import.meta.url)

function basePayloads (): Uint8Array[] {
  const packr = new Packr({ useRecords: false })
  const doc = { trace_id: 'a'.repeat(32), meta: { input: { messages: [{ role: 'user', content: 'héllo' }] }, flags: [true, null, 1.5] } }
  const built = packr.pack([[
    { trace_id: 0xffffffffffffffffn, span_id: 3, parent_id: null, name: 'x', start: 2n ** 62n, duration: 7, error: 1, meta: { k: 'v', e: '' }, metrics: { m: 0.5, n: -3 }, meta_struct: { _llmobs: packr.pack(doc) }, span_links: [{ a: [1, 2, { b: 'c' }] }] },
    { name: 'y', meta: null },
  ], []])
  const span: SpanData = {
    traceId: 'fedcba9876543210', spanId: '00000000000000ff', parentId: '0000000000000000', name: 'llm', service: 's', resource: 'r',
    type: 'llm', startSec: 1795611232, startNsec: 1, duration: 99, error: 0, meta: { a: 'b' }, metrics: { c: 1 }, metaStruct: { _llmobs: doc },
  }
  const out = new MsgpackWriter()
  encodeChunkV04([span, { ...span, spanId: '0000000000000100', metaStruct: undefined }], out, newEncodeStats())
  const v05 = new V05PayloadBuilder()
  v05.addChunk([{ ...span, metaStruct: undefined }], newEncodeStats())
  return [
    readFileSync(new URL('01_v0.4_traces.body', DATA)),
    readFileSync(new URL('v05-01_v0.5_traces.body', DATA)),
    built,
    assemblePayloadV04([out.toBuffer()]),
    v05.finish(),
  ]
}

const INTERESTING = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc4, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd8, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff]
/** Lead bytes followed by a 1-, 2- or 4-byte length (or count). */
const LENGTH_FIELD: Record<number, number> = { 0xc4: 1, 0xc5: 2, 0xc6: 4, 0xc7: 1, 0xc8: 2, 0xc9: 4, 0xd9: 1, 0xda: 2, 0xdb: 4, 0xdc: 2, 0xdd: 4, 0xde: 2, 0xdf: 4 }

function mutate (input: Uint8Array, bases: Uint8Array[], rand: () => number): Uint8Array {
  const int = (n: number): number => Math.floor(rand() * n)
  let b = Uint8Array.from(input)
  const rounds = 1 + int(3)
  for (let k = 0; k < rounds; k++) {
    const at = int(b.length + 1)
    switch (int(8)) {
      case 0: // bit flips
        for (let i = 0, n = 1 + int(4); i < n && b.length > 0; i++) b[int(b.length)] ^= 1 << int(8)
        break
      case 1: // interesting byte
        if (b.length > 0) b[int(b.length)] = INTERESTING[int(INTERESTING.length)]
        break
      case 2: { // insertion
        const ins = Array.from({ length: 1 + int(8) }, () => (rand() < 0.5 ? INTERESTING[int(INTERESTING.length)] : int(256)))
        b = Uint8Array.from([...b.subarray(0, at), ...ins, ...b.subarray(at)])
        break
      }
      case 3: // deletion
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(Math.min(b.length, at + 1 + int(16)))])
        break
      case 4: { // splice in a slice of another payload
        const other = bases[int(bases.length)]
        const from = int(other.length)
        const piece = other.subarray(from, from + 1 + int(64))
        b = Uint8Array.from([...b.subarray(0, at), ...piece, ...b.subarray(Math.min(b.length, at + int(64)))])
        break
      }
      case 5: { // corrupt a length field: huge, off by one, or random
        const heads: number[] = []
        for (let i = 0; i < b.length; i++) if (LENGTH_FIELD[b[i]] !== undefined || (b[i] >= 0x80 && b[i] <= 0xbf)) heads.push(i)
        if (heads.length === 0) break
        const h = heads[int(heads.length)]
        const width = LENGTH_FIELD[b[h]]
        if (width === undefined) { b[h] = (b[h] & 0xf0) | ((b[h] & 0x0f) + (rand() < 0.5 ? 1 : 15)) & 0xff; break }
        const choice = int(3)
        for (let i = 1; i <= width && h + i < b.length; i++) b[h + i] = choice === 0 ? 0xff : choice === 1 ? b[h + i] ^ 1 : int(256)
        break
      }
      case 6: // truncation
        b = b.subarray(0, at)
        break
      default: { // duplicate a range
        const len = 1 + int(32)
        b = Uint8Array.from([...b.subarray(0, at + len), ...b.subarray(at, at + len), ...b.subarray(at + len)])
      }
    }
  }
  return b
}

test(`fuzz: ${FUZZ_ITERATIONS} mutated bodies never throw, never hang and keep the heap bounded`, (t) => {
  const rand = mulberry32(SEED)
  const bases = basePayloads()
  for (const base of bases) assert.ok(decodeV04(base).ok || decodeV05(base).ok, 'every base payload is valid')
  const heapStart = process.memoryUsage().heapUsed
  let heapPeak = heapStart
  const counts = { v04ok: 0, v04rejected: 0, v05ok: 0, v05rejected: 0, msgpackOk: 0, metaStructDocs: 0 }
  const reasons = new Map<string, number>()
  let slowest = 0
  const t0 = performance.now()
  for (let i = 0; i < FUZZ_ITERATIONS; i++) {
    const body = mutate(bases[Math.floor(rand() * bases.length)], bases, rand)
    const started = performance.now()
    try {
      const a = decodeV04(body)
      if (a.ok) {
        counts.v04ok++
        for (const chunk of a.chunks) for (const s of chunk) for (const bin of Object.values(s.metaStruct)) { decodeMetaStructValue(bin); counts.metaStructDocs++ }
      } else {
        counts.v04rejected++
        assert.ok(a.reason.length > 0)
        const kind = a.reason.replace(/^(chunk \d+( span \d+)?: )?(field "[^"]*": )?/, '').replace(/\d+/g, 'N').replace(/ \(at offset N\)$/, '')
        reasons.set(kind, (reasons.get(kind) ?? 0) + 1)
      }
      const b = decodeV05(body)
      if (b.ok) counts.v05ok++
      else { counts.v05rejected++; assert.ok(b.reason.length > 0) }
      if (decodeMsgpack(body).ok) counts.msgpackOk++
    } catch (err) {
      assert.fail(`iteration ${i} (seed ${SEED}) threw ${String(err)} for body ${Buffer.from(body).toString('hex')}`)
    }
    slowest = Math.max(slowest, performance.now() - started)
    if (i % 100 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
  }
  const elapsed = performance.now() - t0
  t.diagnostic(`v0.4 ok ${counts.v04ok} / rejected ${counts.v04rejected}; v0.5 ok ${counts.v05ok} / rejected ${counts.v05rejected}; ` +
    `decodeMsgpack ok ${counts.msgpackOk}; meta_struct docs decoded ${counts.metaStructDocs}`)
  t.diagnostic(`elapsed ${elapsed.toFixed(0)} ms, slowest call ${slowest.toFixed(2)} ms, heap peak +${((heapPeak - heapStart) / 1048576).toFixed(1)} MiB`)
  t.diagnostic(`top v0.4 rejection kinds: ${[...reasons].sort((x, y) => y[1] - x[1]).slice(0, 8).map(([k, n]) => `${n}× ${k}`).join('; ')}`)
  assert.ok(counts.v04rejected > FUZZ_ITERATIONS / 4, 'mutations mostly break the payload')
  assert.ok(counts.v04ok + counts.v05ok > 0, 'some mutations stay valid (e.g. changed string bytes)')
  assert.ok(heapPeak - heapStart < HEAP_BUDGET_BYTES, `heap grew by ${heapPeak - heapStart} bytes`)
})

/** Offsets of every length-prefixed header in a valid msgpack body (a tiny independent walker). */
function lengthHeaders (b: Uint8Array): number[] {
  const out: number[] = []
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength)
  let p = 0
  const len = (width: number, at: number): number => (width === 1 ? b[at] : width === 2 ? view.getUint16(at) : view.getUint32(at))
  const walk = (): void => {
    const lead = b[p]
    const width = LENGTH_FIELD[lead]
    if (width !== undefined) out.push(p)
    if (lead <= 0x7f || lead >= 0xe0 || lead === 0xc0 || lead === 0xc2 || lead === 0xc3) { p++; return }
    if (lead >= 0xa0 && lead <= 0xbf) { p += 1 + (lead & 0x1f); return }
    if (lead >= 0x80 && lead <= 0x9f) {
      const n = (lead & 0x0f) * (lead <= 0x8f ? 2 : 1)
      p++
      for (let i = 0; i < n; i++) walk()
      return
    }
    if (lead === 0xdc || lead === 0xdd || lead === 0xde || lead === 0xdf) {
      const n = len(width, p + 1) * (lead >= 0xde ? 2 : 1)
      p += 1 + width
      for (let i = 0; i < n; i++) walk()
      return
    }
    if (width !== undefined) { p += 1 + width + len(width, p + 1) + (lead >= 0xc7 && lead <= 0xc9 ? 1 : 0); return }
    const fixed: Record<number, number> = { 0xca: 5, 0xcb: 9, 0xcc: 2, 0xcd: 3, 0xce: 5, 0xcf: 9, 0xd0: 2, 0xd1: 3, 0xd2: 5, 0xd3: 9, 0xd4: 3, 0xd5: 4, 0xd6: 6, 0xd7: 10, 0xd8: 18 }
    p += fixed[lead]
  }
  walk()
  assert.equal(p, b.length, 'walker consumed the whole body')
  return out
}

test('fuzz: a huge declared length at every length header of the base payloads is refused', () => {
  let tried = 0
  for (const base of basePayloads()) {
    for (const h of lengthHeaders(base)) {
      const b = Uint8Array.from(base)
      for (let i = 1; i <= LENGTH_FIELD[b[h]]; i++) b[h + i] = 0xff
      const results = [decodeV04(b), decodeV05(b), decodeMsgpack(b)]
      // A 2- or 4-byte 0xff.. length exceeds the few KiB left; a 1-byte 255 may fit, and then
      // the misaligned rest fails. Either way every decoder refuses the body.
      for (const r of results) assert.equal(r.ok, false)
      tried++
    }
  }
  assert.ok(tried >= 10, `only ${tried} length headers found`)
})
