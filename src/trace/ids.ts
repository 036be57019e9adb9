import { randomFillSync } from 'node:crypto'

/**
 * Random 64-bit ids as 16-char lowercase hex. Random bytes come from a pooled buffer refilled in
 * bulk: one syscall per 512 ids instead of one per id.
 */
const POOL_IDS = 512
const pool = Buffer.allocUnsafe(POOL_IDS * 8)
let offset = pool.length

// Buffer#toString('hex', a, b) dispatches on the encoding and validates ranges before calling the
// native hexSlice; calling hexSlice directly (present on every Node Buffer) skips that on the
// span-start path. Fall back to toString where it is missing.
type HexSlice = (this: Buffer, start: number, end: number) => string
const hexSlice: HexSlice = (Buffer.prototype as unknown as { hexSlice?: HexSlice }).hexSlice ??
  function (this: Buffer, start: number, end: number) { return this.toString('hex', start, end) }

export function randomId64 (): string {
  for (;;) {
    if (offset >= pool.length) {
      randomFillSync(pool)
      offset = 0
    }
    const id = hexSlice.call(pool, offset, offset + 8)
    offset += 8
    // Zero means "no parent" on the wire; never hand it out.
    if (id !== '0000000000000000') return id
  }
}

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

/** Decimal form of a 16-char hex id (Datadog headers, LLMObs span ids). Off the hot path. */
export function hexToDecimal (hex: string): string {
  return BigInt('0x' + hex).toString(10)
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
