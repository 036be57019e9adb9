/**
 * 64-bit integers between our bigint values and protobufjs. protobufjs reads an int64/fixed64 as a
 * Long (or a number when the `long` package is absent) and writes from `{ low, high }`; it does not
 * know bigint: given one it silently writes 0, so every 64-bit value goes through here.
 */

export interface LongLike { low: number, high: number, unsigned?: boolean }

export function toLongBits (v: bigint): LongLike {
  const u = BigInt.asUintN(64, v)
  return { low: Number(u & 0xffffffffn) | 0, high: Number(u >> 32n) | 0 }
}

/** `signed`: int64 (two's complement); otherwise fixed64/uint64. */
export function fromLong (v: LongLike | number | null | undefined, signed: boolean): bigint {
  if (v === null || v === undefined) return 0n
  if (typeof v === 'number') return BigInt(Math.trunc(v))
  const u = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0)
  return signed ? BigInt.asIntN(64, u) : u
}
