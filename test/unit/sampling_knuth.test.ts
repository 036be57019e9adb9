import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatKnuthRate, sampledByRate } from '../../src/sampling/knuth.js'

// Independent reference: exact BigInt arithmetic, with the threshold floor(rate * 2^64) taken
// from the double's bits rather than from floating-point multiplication.
const K = 1111111111111111111n
const MOD = 1n << 64n

function refHash (hex: string): bigint {
  return (BigInt('0x' + hex) * K) % MOD
}

function refThreshold (rate: number): bigint {
  const view = new DataView(new ArrayBuffer(8))
  view.setFloat64(0, rate)
  const bits = view.getBigUint64(0)
  const exponent = Number((bits >> 52n) & 0x7ffn)
  const fraction = bits & ((1n << 52n) - 1n)
  const mantissa = exponent === 0 ? fraction : fraction | (1n << 52n)
  const shift = (exponent === 0 ? -1074 : exponent - 1075) + 64
  return shift >= 0 ? mantissa << BigInt(shift) : mantissa >> BigInt(-shift)
}

function refKeep (hex: string, rate: number): boolean {
  if (!(rate > 0)) return false
  if (rate >= 1) return true
  return refHash(hex) <= refThreshold(rate)
}

// K is odd, so it has an inverse mod 2^64 (Newton's iteration doubles the correct bits each step).
let kInverse = K
for (let i = 0; i < 6; i++) kInverse = (kInverse * (2n - K * kInverse)) % MOD
kInverse = (kInverse + MOD) % MOD

/** The trace id whose hash is exactly `hash`. */
function idForHash (hash: bigint): string {
  return ((hash * kInverse) % MOD).toString(16).padStart(16, '0')
}

/** Deterministic pseudo-random 64-bit ids (xorshift64). */
function ids (count: number): string[] {
  let x = 0x9e3779b97f4a7c15n
  const out: string[] = []
  for (let i = 0; i < count; i++) {
    x ^= (x << 13n) & (MOD - 1n)
    x ^= x >> 7n
    x ^= (x << 17n) & (MOD - 1n)
    out.push(x.toString(16).padStart(16, '0'))
  }
  return out
}

test('the reference itself: known products and the inverse', () => {
  assert.equal(refHash('0000000000000001'), 1111111111111111111n)
  assert.equal(refHash('0000000000000011'), 442144815179337271n) // 17 * K - 2^64
  assert.equal(refHash('ffffffffffffffff'), 17335632962598440505n) // 2^64 - K
  assert.equal((K * kInverse) % MOD, 1n)
  assert.equal(refThreshold(0.5), 1n << 63n)
  assert.equal(refThreshold(0.75), 3n << 62n)
  assert.equal(refThreshold(Number.MIN_VALUE), 0n)
  assert.equal(refThreshold(1 - 2 ** -53), MOD - 2048n)
})

test('agrees with the BigInt reference on 2000 ids at many rates', () => {
  const rates = [0.5, 0.3, 0.1, 0.01, 1e-9, 0.999999, 1 - 2 ** -53, 0.7777, Number.MIN_VALUE, 2 ** -20]
  const sample = ['0000000000000000', '0000000000000001', 'ffffffffffffffff', '8000000000000000',
    '7fffffffffffffff', ...ids(2000)]
  for (const rate of rates) {
    let kept = 0
    for (const id of sample) {
      const expected = refKeep(id, rate)
      assert.equal(sampledByRate(id, rate), expected, `id ${id} rate ${rate}`)
      if (expected) kept++
    }
    if (rate === 0.5) assert.ok(kept > 900 && kept < 1100, `about half kept at 0.5, got ${kept}`)
  }
})

test('exact boundary: hash equal to the threshold is kept, one above is dropped', () => {
  for (const rate of [0.5, 0.3, 0.1, 1 - 2 ** -53, 2 ** -40, 0.123456789]) {
    const threshold = refThreshold(rate)
    assert.equal(sampledByRate(idForHash(threshold), rate), true, `at threshold, rate ${rate}`)
    assert.equal(sampledByRate(idForHash(threshold + 1n), rate), false, `threshold + 1, rate ${rate}`)
    if (threshold > 0n) assert.equal(sampledByRate(idForHash(threshold - 1n), rate), true)
  }
  // Same high 32 bits as the threshold: only the low-half comparison can decide.
  const t = refThreshold(0.3)
  const high = t & ~0xffffffffn
  assert.ok(t !== high && t !== (high | 0xffffffffn))
  assert.equal(sampledByRate(idForHash(high), 0.3), true)
  assert.equal(sampledByRate(idForHash(high | 0xffffffffn), 0.3), false)
})

test('rate 0 always drops and rate 1 always keeps, even at the extreme hashes', () => {
  const zeroHash = idForHash(0n)
  const maxHash = idForHash(MOD - 1n)
  assert.equal(zeroHash, '0000000000000000')
  assert.equal(sampledByRate(zeroHash, 0), false)
  assert.equal(sampledByRate(zeroHash, -0.5), false)
  assert.equal(sampledByRate(zeroHash, Number.NaN), false)
  assert.equal(sampledByRate(zeroHash, Number.MIN_VALUE), true) // threshold 0, hash 0
  assert.equal(sampledByRate('0000000000000001', Number.MIN_VALUE), false)
  assert.equal(sampledByRate(maxHash, 1), true)
  assert.equal(sampledByRate(maxHash, 1.5), true)
  assert.equal(sampledByRate(maxHash, 1 - 2 ** -53), false)
})

test('id 1 hashes to K: kept just above K / 2^64, dropped just below', () => {
  const edge = Number(K) / 2 ** 64 // ~0.0602
  assert.equal(sampledByRate('0000000000000001', edge * 1.000001), true)
  assert.equal(sampledByRate('0000000000000001', edge * 0.999999), false)
})

test('malformed ids are dropped; upper-case hex is read like lower-case', () => {
  assert.equal(sampledByRate('000000000000000g', 0.999), false)
  assert.equal(sampledByRate('00', 0.999), false)
  assert.equal(sampledByRate('', 0.999), false)
  const id = idForHash(1n << 62n) // kept at 0.25 exactly
  assert.equal(sampledByRate(id.toUpperCase(), 0.25), true)
  assert.equal(sampledByRate(idForHash((1n << 62n) + 1n).toUpperCase(), 0.25), false)
})

test('formatKnuthRate: six decimals at most, trailing zeros removed', () => {
  assert.equal(formatKnuthRate(0.5), '0.5')
  assert.equal(formatKnuthRate(1), '1')
  assert.equal(formatKnuthRate(0), '0')
  assert.equal(formatKnuthRate(0.25), '0.25')
  assert.equal(formatKnuthRate(0.1234567), '0.123457')
  assert.equal(formatKnuthRate(0.000001), '0.000001')
  assert.equal(formatKnuthRate(0.0000001), '0')
  assert.equal(formatKnuthRate(0.1), '0.1')
})
