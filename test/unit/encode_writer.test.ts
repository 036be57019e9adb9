import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Unpackr } from 'msgpackr'
import { MsgpackWriter } from '../../src/encode/msgpack_writer.js'

const exact = new Unpackr({ useRecords: false, int64AsType: 'bigint' })

function bytesOf (fn: (w: MsgpackWriter) => void): Buffer {
  const w = new MsgpackWriter({ initialCapacity: 16 })
  fn(w)
  return w.toBuffer()
}

function hex (b: Uint8Array): string { return Buffer.from(b).toString('hex') }

/** Reference str encoding, built independently from Buffer's UTF-8 and the spec's header table. */
function refString (s: string): Buffer {
  const body = Buffer.from(s, 'utf8')
  const n = body.length
  let head: Buffer
  if (n < 32) head = Buffer.from([0xa0 | n])
  else if (n < 0x100) head = Buffer.from([0xd9, n])
  else if (n < 0x10000) head = Buffer.from([0xda, n >> 8, n & 0xff])
  else { head = Buffer.alloc(5); head[0] = 0xdb; head.writeUInt32BE(n, 1) }
  return Buffer.concat([head, body])
}

test('writeInt picks the smallest encoding at every boundary and stays exact past 2^53', () => {
  const cases: Array<[number, string, number | bigint]> = [
    [0, '00', 0], [127, '7f', 127], [128, 'cc', 128], [255, 'cc', 255], [256, 'cd', 256],
    [65535, 'cd', 65535], [65536, 'ce', 65536], [2 ** 31 - 1, 'ce', 2 ** 31 - 1], [2 ** 31, 'ce', 2 ** 31],
    [2 ** 32 - 1, 'ce', 2 ** 32 - 1], [2 ** 32, 'cf', 2n ** 32n], [2 ** 53, 'cf', 2n ** 53n],
    [2 ** 53 + 2, 'cf', 2n ** 53n + 2n], [2 ** 63, 'cf', 2n ** 63n], [2 ** 64 - 2048, 'cf', 2n ** 64n - 2048n],
    [-1, 'ff', -1], [-32, 'e0', -32], [-33, 'd0', -33], [-128, 'd0', -128], [-129, 'd1', -129],
    [-32768, 'd1', -32768], [-32769, 'd2', -32769], [-(2 ** 31), 'd2', -(2 ** 31)],
    [-(2 ** 31) - 1, 'd3', -(2n ** 31n) - 1n], [-(2 ** 53), 'd3', -(2n ** 53n)], [-(2 ** 63), 'd3', -(2n ** 63n)],
  ]
  for (const [value, marker, decoded] of cases) {
    const b = bytesOf((w) => w.writeInt(value))
    assert.equal(hex(b.subarray(0, 1)), marker, `marker for ${value}`)
    assert.equal(exact.unpack(b), decoded, `value for ${value}`)
  }
  // Outside int64/uint64, and non-integers, become float64.
  for (const value of [2 ** 64, -(2 ** 63) - 4096, 1.5, -0.1, NaN, Infinity, -Infinity, 5e-324]) {
    const b = bytesOf((w) => w.writeInt(value))
    assert.equal(b[0], 0xcb, `float64 for ${value}`)
    assert.equal(b.length, 9)
    assert.ok(Object.is(exact.unpack(b), value), `value for ${value}`)
  }
  assert.equal(hex(bytesOf((w) => w.writeInt(-0))), '00')
})

test('uint64 and int64 halves are fixed-width and exact', () => {
  assert.equal(hex(bytesOf((w) => w.writeUint64Halves(0xffffffff, 0xffffffff))), 'cfffffffffffffffff')
  assert.equal(exact.unpack(bytesOf((w) => w.writeUint64Halves(0xffffffff, 0xffffffff))), 2n ** 64n - 1n)
  assert.equal(hex(bytesOf((w) => w.writeUint64Halves(0, 1))), 'cf0000000000000001')
  assert.equal(exact.unpack(bytesOf((w) => w.writeInt64Halves(-1, 0xffffffff))), -1n)
  assert.equal(exact.unpack(bytesOf((w) => w.writeInt64Halves(0x80000000, 0))), -(2n ** 63n))
  assert.equal(hex(bytesOf((w) => w.writeInt64Halves(0x12345678, 0x9abcdef0))), 'd3123456789abcdef0')
})

test('strings match an independent UTF-8 reference across lengths and alphabets', () => {
  const alphabets = ['a', 'é', '日', '😀', '\ud800', 'a\udc00', 'ab😀é']
  const lengths = [0, 1, 10, 11, 15, 16, 31, 32, 33, 63, 64, 65, 85, 86, 100, 255, 256, 257, 21845, 21846, 65535, 65536, 70000]
  for (const a of alphabets) {
    for (const len of lengths) {
      const s = a.repeat(Math.ceil(len / a.length)).slice(0, len)
      const b = bytesOf((w) => w.writeString(s))
      assert.ok(b.equals(refString(s)), `alphabet ${JSON.stringify(a)} length ${len}`)
    }
  }
})

test('lone surrogates become U+FFFD, astral characters survive', () => {
  assert.equal(hex(bytesOf((w) => w.writeString('\ud800'))), 'a3efbfbd')
  assert.equal(hex(bytesOf((w) => w.writeString('😀'))), 'a4f09f9880')
  assert.equal(exact.unpack(bytesOf((w) => w.writeString('x\udfffy😀'))), 'x\ufffdy😀')
})

test('large strings use str16 and str32 headers', () => {
  const s16 = 'x'.repeat(65535)
  const s32 = 'y'.repeat(64 * 1024 + 1)
  const b16 = bytesOf((w) => w.writeString(s16))
  const b32 = bytesOf((w) => w.writeString(s32))
  assert.equal(b16[0], 0xda)
  assert.equal(b32[0], 0xdb)
  assert.equal(exact.unpack(b32), s32)
})

test('bin, array and map headers at their boundaries', () => {
  for (const [len, marker] of [[0, 0xc4], [255, 0xc4], [256, 0xc5], [65535, 0xc5], [65536, 0xc6]] as const) {
    const data = Buffer.alloc(len, 7)
    const b = bytesOf((w) => w.writeBin(data))
    assert.equal(b[0], marker)
    assert.ok(Buffer.from(exact.unpack(b) as Uint8Array).equals(data))
  }
  assert.equal(hex(bytesOf((w) => w.writeArrayHeader(15))), '9f')
  assert.equal(hex(bytesOf((w) => w.writeArrayHeader(16))), 'dc0010')
  assert.equal(hex(bytesOf((w) => w.writeArrayHeader(65536))), 'dd00010000')
  assert.equal(hex(bytesOf((w) => w.writeMapHeader(15))), '8f')
  assert.equal(hex(bytesOf((w) => w.writeMapHeader(65535))), 'deffff')
  assert.equal(hex(bytesOf((w) => w.writeMapHeader(65536))), 'df00010000')
  assert.equal(hex(bytesOf((w) => { w.writeNil(); w.writeBool(true); w.writeBool(false) })), 'c0c3c2')
})

test('beginBin/endBin wrap a nested document with the smallest header', () => {
  // Inner string lengths chosen so the document is 2, 255, 256 and 70005 bytes.
  for (const [chars, marker] of [[1, 0xc4], [253, 0xc4], [254, 0xc5], [70000, 0xc6]] as const) {
    const inner = 'z'.repeat(chars)
    const len = refString(inner).length
    const b = bytesOf((w) => {
      w.writeArrayHeader(2)
      const at = w.beginBin()
      w.writeString(inner)
      w.endBin(at)
      w.writeNil()
    })
    assert.equal(b[1], marker, `marker for ${len}`)
    const [bin, nil] = exact.unpack(b) as [Uint8Array, null]
    assert.equal(bin.length, len)
    assert.equal(exact.unpack(bin), inner)
    assert.equal(nil, null)
  }
})

test('reserved map headers are patched in place', () => {
  for (const [max, actual] of [[10, 3], [20, 17], [70000, 2]]) {
    const b = bytesOf((w) => {
      const at = w.reserveMapHeader(max)
      for (let i = 0; i < actual; i++) { w.writeString(`k${i}`); w.writeInt(i) }
      w.patchHeader(at, actual)
    })
    assert.equal(Object.keys(exact.unpack(b) as object).length, actual)
  }
})

test('reserved array headers are patched in place too', () => {
  for (const [max, actual, marker] of [[5, 2, 0x92], [300, 20, 0xdc], [70000, 1, 0xdd]]) {
    const b = bytesOf((w) => {
      const at = w.reserveArrayHeader(max)
      for (let i = 0; i < actual; i++) w.writeInt(i)
      w.patchHeader(at, actual)
    })
    assert.equal(b[0], marker)
    assert.equal((exact.unpack(b) as number[]).length, actual)
  }
})

test('templates are copied and their slots filled', () => {
  const b = bytesOf((w) => {
    w.writeNil()
    const at = w.writeTemplate(Uint8Array.from([0x92, 0xce, 0, 0, 0, 0, 0x00]))
    w.putUint32At(at + 2, 0xdeadbeef)
    w.putByteAt(at + 6, 0x05)
  })
  assert.equal(hex(b), 'c092cedeadbeef05')
})

test('the writer grows by doubling and keeps every byte', () => {
  const w = new MsgpackWriter({ initialCapacity: 8 })
  w.writeArrayHeader(5000)
  for (let i = 0; i < 5000; i++) w.writeString(`value-${i}`)
  assert.ok(w.capacity >= w.length)
  assert.equal(w.capacity & (w.capacity - 1), 0, 'capacity stays a power of two')
  const arr = exact.unpack(w.toBuffer()) as string[]
  assert.equal(arr.length, 5000)
  assert.equal(arr[4999], 'value-4999')
})

test('past the cap the writer flags overflow instead of throwing or growing', () => {
  const w = new MsgpackWriter({ initialCapacity: 64, maxCapacity: 1024 })
  w.writeString('before')
  const mark = w.length
  assert.doesNotThrow(() => w.writeString('x'.repeat(2000)))
  assert.equal(w.overflowed, true)
  assert.equal(w.length, mark, 'the oversized write was skipped')
  assert.ok(w.capacity <= 1024)
  assert.doesNotThrow(() => { w.writeBin(Buffer.alloc(5000)); w.writeInt(1); w.writeTemplate(Buffer.alloc(4096)) })
  assert.equal(w.overflowed, true, 'sticky')
  w.truncate(mark)
  assert.equal(w.overflowed, false)
  assert.equal(exact.unpack(w.toBuffer()), 'before')
  w.reset()
  assert.equal(w.length, 0)
})

test('toBuffer copies, view does not', () => {
  const w = new MsgpackWriter()
  w.writeInt(1)
  const copy = w.toBuffer()
  const view = w.view()
  w.reset()
  w.writeInt(2)
  assert.equal(copy[0], 1)
  assert.equal(view[0], 2)
})

test('reset gives back a buffer that grew past retainCapacity', () => {
  const w = new MsgpackWriter({ initialCapacity: 64, retainCapacity: 1024 })
  w.writeBin(Buffer.alloc(10000))
  assert.ok(w.capacity > 1024)
  w.reset()
  assert.equal(w.capacity, 64)
})

test('writeStringCached writes the same bytes as writeString, hits and evictions included', () => {
  const w = new MsgpackWriter()
  const ref = new MsgpackWriter()
  const strings: string[] = []
  for (let i = 0; i < 3000; i++) strings.push(`runtime-${i}-68d3a7ff-0310-41b1-84f9`)
  strings.push('short', 'é'.repeat(40), 'x'.repeat(129), '😀'.repeat(20))
  for (let round = 0; round < 3; round++) {
    for (const s of strings) { w.writeStringCached(s); ref.writeString(s) }
  }
  assert.ok(w.toBuffer().equals(ref.toBuffer()))
})

test('raw bytes append as given', () => {
  const b = bytesOf((w) => {
    w.writeArrayHeader(2)
    w.writeRaw(Uint8Array.from([0xa1, 0x61]))
    w.writeRaw(refString('a longer string over sixteen bytes'))
  })
  assert.deepEqual(exact.unpack(b), ['a', 'a longer string over sixteen bytes'])
})

test('bad constructor options fall back to defaults', () => {
  const w = new MsgpackWriter({ initialCapacity: -5, maxCapacity: Number.NaN })
  assert.equal(w.maxCapacity, 64 * 1024 * 1024)
  assert.ok(w.capacity > 0)
})
