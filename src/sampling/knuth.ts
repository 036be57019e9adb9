/**
 * Deterministic trace sampling shared by every Datadog tracer: a trace is kept when
 * `(traceIdLow64 * 1111111111111111111) mod 2^64 <= floor(rate * 2^64)`, so every service that
 * sees the same trace id and rate reaches the same decision without talking to the others.
 *
 * The 64-bit product is done exactly in 16-bit limbs held in plain numbers (every partial sum
 * stays below 2^35), which is faster than BigInt and allocates nothing.
 */

// 1111111111111111111 = 0x0f6b75ab2bc471c7, as 16-bit limbs from least significant.
const K0 = 0x71c7
const K1 = 0x2bc4
const K2 = 0x75ab
const K3 = 0x0f6b

const TWO_16 = 65536
const TWO_32 = 4294967296
// dd-trace-js writes the scale as `2 ** 64 - 1`, which as a double is exactly 2^64. Scaling a
// double by a power of two is exact, so floor(rate * 2^64) is the exact threshold it compares with.
const TWO_64 = 18446744073709551616

/**
 * Whether the trace with low 64 bits `traceIdLowHex` (16 hex chars) is kept at `rate`.
 * Rate 0 (or below, or NaN) always drops and rate 1 (or above) always keeps: without the short
 * circuit, id 0 would hash to 0 and pass a zero threshold.
 * An id that is not 16 hex chars is dropped (our own ids never are; this keeps garbage harmless).
 */
export function sampledByRate (traceIdLowHex: string, rate: number): boolean {
  if (!(rate > 0)) return false
  if (rate >= 1) return true
  if (traceIdLowHex.length !== 16) return false

  const x3 = limb(traceIdLowHex, 0)
  const x2 = limb(traceIdLowHex, 4)
  const x1 = limb(traceIdLowHex, 8)
  const x0 = limb(traceIdLowHex, 12)
  if ((x0 | x1 | x2 | x3) < 0) return false

  // Schoolbook multiplication keeping only the four low limbs (mod 2^64).
  let acc = x0 * K0
  let carry = Math.floor(acc / TWO_16)
  const r0 = acc - carry * TWO_16
  acc = carry + x0 * K1 + x1 * K0
  carry = Math.floor(acc / TWO_16)
  const r1 = acc - carry * TWO_16
  acc = carry + x0 * K2 + x1 * K1 + x2 * K0
  carry = Math.floor(acc / TWO_16)
  const r2 = acc - carry * TWO_16
  acc = carry + x0 * K3 + x1 * K2 + x2 * K1 + x3 * K0
  const r3 = acc % TWO_16

  const hashHi = r3 * TWO_16 + r2
  const hashLo = r1 * TWO_16 + r0

  // rate < 1, so the threshold is at most 2^64 - 2^11; both halves are exact integers.
  const threshold = Math.floor(rate * TWO_64)
  const thresholdHi = Math.floor(threshold / TWO_32)
  const thresholdLo = threshold - thresholdHi * TWO_32
  return hashHi < thresholdHi || (hashHi === thresholdHi && hashLo <= thresholdLo)
}

/**
 * The rate as dd-trace-js propagates it in `_dd.p.ksr`: at most six decimals, trailing zeros
 * removed ("0.5", "1", "0.000001").
 */
let lastRate = NaN
let lastText = ''
export function formatKnuthRate (rate: number): string {
  // Called once per trace with one of a handful of rates: remember the last one.
  if (rate === lastRate) return lastText
  lastRate = rate
  lastText = formatRate(rate)
  return lastText
}

function formatRate (rate: number): string {
  const fixed = rate.toFixed(6)
  let end = fixed.length
  while (end > 1 && fixed.charCodeAt(end - 1) === 48 /* 0 */) end--
  if (fixed.charCodeAt(end - 1) === 46 /* . */) end--
  return fixed.slice(0, end)
}

/** Four hex chars at `start` as a number, or -1 when one of them is not a hex digit. */
function limb (hex: string, start: number): number {
  let value = 0
  for (let i = start; i < start + 4; i++) {
    const d = hexDigit(hex.charCodeAt(i))
    if (d < 0) return -1
    value = value * 16 + d
  }
  return value
}

function hexDigit (c: number): number {
  if (c >= 48 && c <= 57) return c - 48 // 0-9
  if (c >= 97 && c <= 102) return c - 87 // a-f
  if (c >= 65 && c <= 70) return c - 55 // A-F
  return -1
}
