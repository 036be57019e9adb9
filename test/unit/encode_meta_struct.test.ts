import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Unpackr } from 'msgpackr'
import { log } from '../../src/diag/logger.js'
import { newEncodeStats } from '../../src/encode/encode_stats.js'
import type { EncodeStats } from '../../src/encode/encode_stats.js'
import {
  META_STRUCT_MAX_DEPTH, PLACEHOLDER_BIGINT, PLACEHOLDER_CIRCULAR, PLACEHOLDER_FUNCTION, PLACEHOLDER_GETTER,
  PLACEHOLDER_MAX_DEPTH, PLACEHOLDER_SYMBOL, PLACEHOLDER_THROWING, encodeMetaStructValue,
} from '../../src/encode/meta_struct.js'
import { MsgpackWriter } from '../../src/encode/msgpack_writer.js'

// 'auto': numbers within ±2^53 decode as numbers, anything wider as exact bigints.
// (msgpackr's typings do not list 'auto' yet.)
const auto = new Unpackr({ useRecords: false, int64AsType: 'auto' as 'bigint' })

function encode (value: unknown, stats: EncodeStats = newEncodeStats()): Buffer {
  const w = new MsgpackWriter({ initialCapacity: 32 })
  encodeMetaStructValue(value, w, stats)
  assert.equal(w.overflowed, false)
  return w.toBuffer()
}

/** Decodes exactly one document and fails on trailing or missing bytes. */
function decodeOne (b: Buffer): unknown {
  const values = auto.unpackMultiple(b) as unknown[]
  assert.equal(values.length, 1, 'exactly one msgpack document')
  return values[0]
}

function roundTrip (value: unknown): unknown {
  return decodeOne(encode(value))
}

function nested (depth: number): unknown {
  let v: unknown = 'leaf'
  for (let i = 0; i < depth; i++) v = i % 2 === 0 ? [v] : { k: v }
  return v
}

/** Walks `levels` containers into a value built by `nested(total)`. */
function walk (v: unknown, total: number, levels: number): unknown {
  for (let i = total - 1; i >= total - levels; i--) v = i % 2 === 0 ? (v as unknown[])[0] : (v as { k: unknown }).k
  return v
}

test('every JSON-domain value round-trips, including null and booleans inside arrays', () => {
  const doc = {
    null: null,
    t: true,
    f: false,
    mixed: [null, true, false, 0, -1, 'x', [], {}, [null], { a: [true] }],
    empty: { s: '', a: [], o: {} },
    ints: [2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER],
    floats: [0.1, -1.5e300, 5e-324, 1e21, -0.5],
    unicode: ['héllo', '日本語', '😀 astral', 'a\u0000b', '\u2028'],
    nested: { a: { b: { c: [1, { d: 'deep' }] } } },
  }
  assert.deepEqual(roundTrip(doc), doc)
  assert.deepEqual(JSON.parse(JSON.stringify(roundTrip(doc))), JSON.parse(JSON.stringify(doc)))
})

test('integers stay exact up to the int64/uint64 range, via numbers or BigInt', () => {
  assert.equal(roundTrip(2 ** 63), 2n ** 63n)
  assert.equal(roundTrip(-(2 ** 63)), -(2n ** 63n))
  assert.equal(roundTrip(2 ** 53 + 2), 2n ** 53n + 2n)
  assert.equal(roundTrip(2n ** 64n - 1n), 2n ** 64n - 1n)
  assert.equal(roundTrip(-(2n ** 63n)), -(2n ** 63n))
  assert.equal(roundTrip(12345n), 12345)
  assert.equal(encode(2n ** 64n - 1n)[0], 0xcf)
  assert.equal(encode(-(2n ** 63n))[0], 0xd3)
})

test('NaN and Infinity are kept as float64', () => {
  for (const v of [NaN, Infinity, -Infinity]) {
    const b = encode(v)
    assert.equal(b[0], 0xcb)
    assert.ok(Object.is(decodeOne(b), v))
  }
})

test('lone surrogates become U+FFFD; astral characters are kept', () => {
  assert.deepEqual(roundTrip({ s: 'a\ud800b', t: '\udc00', u: '😀' }), { s: 'a\ufffdb', t: '\ufffd', u: '😀' })
})

test('undefined is skipped in objects and becomes nil in arrays, as JSON.stringify', () => {
  // eslint-disable-next-line no-sparse-arrays
  const value = { a: undefined, b: 1, c: [undefined, 2, , 3] }
  assert.deepEqual(roundTrip(value), { b: 1, c: [null, 2, null, 3] })
  assert.equal(roundTrip(undefined), null)
})

test('containers nest to depth 64 exactly; the 65th becomes a placeholder', () => {
  const stats = newEncodeStats()
  const ok = decodeOne(encode(nested(META_STRUCT_MAX_DEPTH), stats))
  assert.equal(walk(ok, META_STRUCT_MAX_DEPTH, META_STRUCT_MAX_DEPTH), 'leaf')
  assert.equal(stats.placeholders, 0)
  const deep = decodeOne(encode(nested(META_STRUCT_MAX_DEPTH + 1), stats))
  assert.equal(walk(deep, META_STRUCT_MAX_DEPTH + 1, META_STRUCT_MAX_DEPTH), PLACEHOLDER_MAX_DEPTH)
  assert.equal(stats.placeholders, 1)
})

test('binary data becomes msgpack bin', () => {
  const b = encode({ raw: Uint8Array.from([1, 2, 3]), buf: Buffer.from('hi') })
  const out = decodeOne(b) as { raw: Uint8Array, buf: Uint8Array }
  assert.deepEqual([...out.raw], [1, 2, 3])
  assert.equal(Buffer.from(out.buf).toString(), 'hi')
  assert.ok(b.includes(Buffer.from([0xc4, 0x03, 1, 2, 3])))
})

test('Date, toJSON, boxed primitives and class instances follow JSON.stringify', () => {
  class Point { x = 1; y = 2 }
  const value = {
    date: new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 6)),
    bad: new Date(Number.NaN),
    custom: new (class Custom { toJSON () { return { replaced: true } } })(),
    boxed: [new String('s'), new Number(4), new Boolean(false)],
    point: new Point(),
    bare: Object.assign(Object.create(null) as object, { k: 'v' }),
  }
  const expected = JSON.parse(JSON.stringify(value)) as unknown
  assert.deepEqual(roundTrip(value), expected)
  assert.equal((roundTrip(value) as { date: string }).date, '2024-01-02T03:04:05.006Z')
})

test('a plain object is data: its own toJSON is not called', () => {
  const stats = newEncodeStats()
  const out = decodeOne(encode({ a: 1, toJSON: () => 'replaced' }, stats))
  assert.deepEqual(out, { a: 1, toJSON: PLACEHOLDER_FUNCTION })
  assert.equal(stats.placeholders, 1)
})

test('unencodable values become counted placeholders and warn once per kind', () => {
  const warnings: string[] = []
  log.resetWarnings()
  log.configure({ sink: (_level, message) => { warnings.push(message) } })
  try {
    const stats = newEncodeStats()
    const circular: Record<string, unknown> = { name: 'c' }
    circular.self = circular
    const shared = { s: 1 }
    const value = {
      fn: () => 1,
      sym: Symbol('s'),
      big: 2n ** 64n,
      small: -(2n ** 63n) - 1n,
      circular,
      arrayCycle: [] as unknown[],
      shared: [shared, shared],
      map: new Map([[1, 2]]),
      set: new Set([1]),
      regexp: /x/,
      typed: new Int16Array(2),
      ab: new ArrayBuffer(4),
      weak: new WeakMap(),
      promise: Promise.resolve(1),
      fns: [() => 2, function named () { return 3 }],
    }
    value.arrayCycle.push(value.arrayCycle)
    const out = decodeOne(encode(value, stats)) as Record<string, unknown>
    assert.equal(out.fn, PLACEHOLDER_FUNCTION)
    assert.equal(out.sym, PLACEHOLDER_SYMBOL)
    assert.equal(out.big, PLACEHOLDER_BIGINT)
    assert.equal(out.small, PLACEHOLDER_BIGINT)
    assert.deepEqual(out.circular, { name: 'c', self: PLACEHOLDER_CIRCULAR })
    assert.deepEqual(out.arrayCycle, [PLACEHOLDER_CIRCULAR])
    assert.deepEqual(out.shared, [{ s: 1 }, { s: 1 }], 'a shared reference is not a cycle')
    assert.equal(out.map, '[unencodable: Map]')
    assert.equal(out.set, '[unencodable: Set]')
    assert.equal(out.regexp, '[unencodable: RegExp]')
    assert.equal(out.typed, '[unencodable: Int16Array]')
    assert.equal(out.ab, '[unencodable: ArrayBuffer]')
    assert.equal(out.weak, '[unencodable: WeakMap]')
    assert.equal(out.promise, '[unencodable: Promise]')
    assert.deepEqual(out.fns, [PLACEHOLDER_FUNCTION, PLACEHOLDER_FUNCTION])
    assert.equal(stats.placeholders, 15)
    assert.equal(warnings.filter((w) => w.includes(PLACEHOLDER_FUNCTION)).length, 1)
    assert.equal(warnings.filter((w) => w.includes(PLACEHOLDER_CIRCULAR)).length, 1)
  } finally {
    log.configure({ sink: () => {} })
    log.resetWarnings()
  }
})

test('throwing getters, proxies and toJSON never escape the encoder', () => {
  const stats = newEncodeStats()
  const getter = { ok: 1 }
  Object.defineProperty(getter, 'bad', { enumerable: true, get () { throw new Error('boom') } })
  const throwingKeys = new Proxy({}, { ownKeys () { throw new Error('keys') } })
  const throwingGet = new Proxy({ a: 1, b: 2 }, { get () { throw new Error('get') } })
  const throwingB = new Proxy({ a: 1, b: 2 }, { get (t, k) { if (k === 'b') throw new Error('b'); return Reflect.get(t, k) } })
  const revocable = Proxy.revocable({}, {})
  revocable.revoke()
  const arrayProxy = new Proxy([1, 2], { get (t, k) { if (k === 'length') throw new Error('len'); return Reflect.get(t, k) } })
  const badToJSON = { toJSON () { throw new Error('json') } }
  Object.setPrototypeOf(badToJSON, { constructor: 'x' })
  const value = { getter, throwingKeys, throwingGet, throwingB, revoked: revocable.proxy, arrayProxy, badToJSON }
  let b: Buffer | undefined
  assert.doesNotThrow(() => { b = encode(value, stats) })
  const out = decodeOne(b as Buffer) as Record<string, unknown>
  assert.deepEqual(out.getter, { ok: 1, bad: PLACEHOLDER_GETTER })
  assert.equal(out.throwingKeys, PLACEHOLDER_THROWING)
  assert.deepEqual(out.throwingGet, { a: PLACEHOLDER_GETTER, b: PLACEHOLDER_GETTER })
  assert.deepEqual(out.throwingB, { a: 1, b: PLACEHOLDER_GETTER })
  assert.equal(out.revoked, PLACEHOLDER_THROWING)
  assert.equal(out.arrayProxy, PLACEHOLDER_THROWING)
  assert.equal(out.badToJSON, PLACEHOLDER_THROWING)
  assert.equal(stats.placeholders, 8)
})

test('getters that add or delete keys while the map is written keep the document well-formed', () => {
  const adder: Record<string, unknown> = { a: 1 }
  Object.defineProperty(adder, 'b', { enumerable: true, get () { adder.zz = 'late'; return 2 } })
  adder.c = 3
  const deleter: Record<string, unknown> = {}
  Object.defineProperty(deleter, 'first', { enumerable: true, configurable: true, get () { delete deleter.second; return 1 } })
  deleter.second = 2
  deleter.third = 3
  const out = roundTrip({ adder, deleter }) as { adder: Record<string, unknown>, deleter: Record<string, unknown> }
  assert.equal(out.adder.a, 1)
  assert.equal(out.adder.b, 2)
  assert.deepEqual(out.deleter, { first: 1, third: 3 })
})

test('only own enumerable keys are written, even when Object.prototype is polluted', () => {
  const proto = Object.prototype as Record<string, unknown>
  proto.polluted = 'yes'
  try {
    class WithProto { own = 1 }
    ;(WithProto.prototype as unknown as Record<string, unknown>).inherited = 2
    assert.deepEqual(roundTrip({ a: 1, nested: { b: 2 } }), { a: 1, nested: { b: 2 } })
    assert.deepEqual(roundTrip(new WithProto()), { own: 1 })
  } finally {
    delete proto.polluted
  }
  const hidden = {}
  Object.defineProperty(hidden, 'secret', { enumerable: false, value: 1 })
  assert.deepEqual(roundTrip({ hidden, [Symbol('s')]: 1 }), { hidden: {} })
})

// An encoder that spins past the cap never returns: the runner's per-file timeout fails it.
test('a runaway sparse array stops at the writer cap instead of spinning', () => {
  const sparse: unknown[] = []
  sparse.length = 2 ** 32 - 1
  // Counts the elements the encoder reads: a proxied array is still an array to it.
  let reads = 0
  const huge = new Proxy(sparse, {
    get (target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++
      return Reflect.get(target, key, receiver) as unknown
    },
  })
  const w = new MsgpackWriter({ initialCapacity: 64, maxCapacity: 4096 })
  encodeMetaStructValue(huge, w, newEncodeStats())
  assert.equal(w.overflowed, true)
  // Each hole costs at least one byte (nil), so past 4096 reads the cap was hit and ignored.
  assert.ok(reads > 0 && reads <= 4096, `${reads} elements read`)
})

test('an overflowed writer is left alone', () => {
  const w = new MsgpackWriter({ initialCapacity: 16, maxCapacity: 16 })
  w.writeString('x'.repeat(100))
  assert.equal(w.overflowed, true)
  const before = w.length
  encodeMetaStructValue({ a: 1 }, w, newEncodeStats())
  assert.equal(w.length, before)
})

test('a realistic _llmobs document round-trips exactly', () => {
  const doc = {
    trace_id: '6b06da60000000002a94616f3b4d62df',
    parent_id: 'undefined',
    name: 'chat',
    ml_app: 'app',
    session_id: 's-1',
    tags: { env: 'prod', 'team': 'x' },
    meta: {
      span: { kind: 'llm' },
      model_name: 'gpt-4o',
      input: { messages: [{ role: 'user', content: 'Bonjour, ça va ? 👋'.repeat(50) }] },
      output: { messages: [{ role: 'assistant', content: '', tool_calls: [{ name: 'f', arguments: { x: null, y: [true, false] } }] }] },
      metadata: { temperature: 0.7, stop: null },
    },
    metrics: { input_tokens: 21, output_tokens: 2, total_tokens: 23 },
    _dd: { span_id: '41777082546591576', trace_id: 'a'.repeat(32), apm_trace_id: 'b'.repeat(32) },
  }
  assert.deepEqual(roundTrip(doc), doc)
})
