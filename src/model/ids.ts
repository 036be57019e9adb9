import { randomFillSync } from 'node:crypto'

/**
 * Random 64-bit ids as 16-char lowercase hex. Random bytes come from a pooled buffer refilled in
 * bulk: one syscall per 512 ids instead of one per id.
 */
const POOL_IDS = 512
const ZERO_ID = '0000000000000000'

// Buffer#toString('hex', a, b) dispatches on the encoding and validates ranges before calling the
// native hexSlice; calling hexSlice directly (present on every Node Buffer) skips that on the
// span-start path. Fall back to toString where it is missing.
type HexSlice = (this: Buffer, start: number, end: number) => string
const hexSlice: HexSlice = (Buffer.prototype as unknown as { hexSlice?: HexSlice }).hexSlice ??
  function (this: Buffer, start: number, end: number) { return this.toString('hex', start, end) }

/**
 * An id generator over `fill` (the random source; injectable so tests can hand it zeros). Zero
 * means "no id" to the Agent, which drops a chunk whose trace id or a span whose span id is 0,
 * so a zero draw is skipped and the next one taken.
 */
export function createIdSource (fill: (buf: Buffer) => void = randomFillSync): () => string {
  const pool = Buffer.allocUnsafe(POOL_IDS * 8)
  let offset = pool.length
  return function nextId64 (): string {
    for (;;) {
      if (offset >= pool.length) {
        fill(pool)
        offset = 0
      }
      const id = hexSlice.call(pool, offset, offset + 8)
      offset += 8
      if (id !== ZERO_ID) return id
    }
  }
}

/** Span ids and the low half of new trace ids; never '0000000000000000'. */
export const randomId64: () => string = createIdSource()

/**
 * High half of a 128-bit trace id, Datadog style: 32-bit epoch seconds then 32 zero bits, so the
 * id sorts by creation time and the intake can tell 128-bit ids from padded 64-bit ones.
 */
let lastHighSec = -1
let lastHigh = ''
export function traceIdHigh (epochSec: number): string {
  if (epochSec !== lastHighSec) {
    lastHighSec = epochSec
    lastHigh = (epochSec >>> 0).toString(16).padStart(8, '0') + '00000000'
  }
  return lastHigh
}

/**
 * Decimal form of a hex id of up to 16 digits (Datadog headers; every LLMObs span id, so it is on
 * the LLM span's start path). Two uint32 halves in float arithmetic that stays exact: value =
 * hi * 2^32 + lo, and 2^32 = 4294 * 10^6 + 967296, so `low` below stays under 2^53. BigInt
 * parsing and printing cost several times more; anything that is not plain hex takes that path.
 */
export function hexToDecimal (hex: string): string {
  const n = hex.length
  if (n === 0 || n > 16) return BigInt('0x' + hex).toString(10)
  const split = n > 8 ? n - 8 : 0
  const hi = split === 0 ? 0 : parseHex32(hex, 0, split)
  const lo = parseHex32(hex, split, n)
  if (hi < 0 || lo < 0) return BigInt('0x' + hex).toString(10)
  if (hi === 0) return String(lo)
  const low = hi * 967296 + lo
  const high = hi * 4294 + Math.floor(low / 1e6)
  const rem = low % 1e6
  return String(high) + String(rem + 1e6).slice(1)
}

/** Up to eight hex digits of `s` in [from, to) as a uint32, or -1 when one is not a hex digit. */
function parseHex32 (s: string, from: number, to: number): number {
  let v = 0
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i)
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1
    if (d < 0) return -1
    v = v * 16 + d
  }
  return v
}

/** 16-char hex form of a decimal uint64 string; undefined when it is not one. */
export function decimalToHex (dec: string): string | undefined {
  if (!/^[0-9]{1,20}$/.test(dec)) return undefined
  const n = BigInt(dec)
  if (n >= 1n << 64n) return undefined
  return n.toString(16).padStart(16, '0')
}

export function isHexId (s: string, length: number): boolean {
  return s.length === length && /^[0-9a-f]+$/.test(s)
}
