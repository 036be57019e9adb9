import { log } from '../diag/logger.js'
import type { EncodeStats } from './encode_stats.js'
import type { MsgpackWriter } from './msgpack_writer.js'

/**
 * Span field helpers shared by the v0.4 and v0.5 encoders. SpanData's types promise hex ids,
 * string meta and numeric metrics, but JS callers can break that at runtime, and the Agent
 * rejects the whole payload (HTTP 400) when one meta value is not a str/bin/nil or one metric is
 * not an int/uint/float64. So each field is checked with one cheap `typeof` and repaired on the
 * rare slow path, counted in `stats.fieldsRepaired` and warned once.
 */

export const hop = Object.prototype.hasOwnProperty

/**
 * Whether for-in over a plain object visits only its own keys, i.e. nothing enumerable was added
 * to Object.prototype (prototype pollution). The encoders check this once per chunk or document
 * and then iterate maps with a bare for-in: V8 reads the values through its enum cache, several
 * times faster than Object.keys plus lookups, and a hasOwnProperty call per key costs as much again.
 */
export function objectPrototypeIsClean (): boolean {
  for (const _key in Object.prototype) return false
  return true
}

const HEX = new Int8Array(128).fill(-1)
for (let i = 0; i < 10; i++) HEX[48 + i] = i
for (let i = 0; i < 6; i++) { HEX[65 + i] = 10 + i; HEX[97 + i] = 10 + i }

/** Result of `parseHexId` (a scratch object: no allocation per id). */
export const parsedId = { hi: 0, lo: 0 }

/**
 * Reads a hex id into `parsedId` as two uint32 halves, without BigInt. Up to 16 hex digits are
 * read as the number they spell; a longer id (a 32-char 128-bit trace id) gives its low 64 bits.
 * Anything else gives 0, which the Agent treats as a missing id.
 */
export function parseHexId (id: unknown, stats: EncodeStats): void {
  if (typeof id === 'string') {
    const n = id.length
    if (n === 16) {
      // The usual case, unrolled: no loop, one validity test per half.
      const hi = hexHalf(id, 0)
      const lo = hexHalf(id, 8)
      if (hi >= 0 && lo >= 0) {
        parsedId.hi = hi
        parsedId.lo = lo
        return
      }
    } else if (n > 0 && n <= 32) {
      const split = n > 8 ? n - 8 : 0
      let hi = 0
      let lo = 0
      let i = n > 16 ? n - 16 : 0
      for (; i < split; i++) {
        const c = id.charCodeAt(i)
        const d = c < 128 ? HEX[c] : -1
        if (d < 0) break
        hi = hi * 16 + d
      }
      for (; i < n; i++) {
        const c = id.charCodeAt(i)
        const d = c < 128 ? HEX[c] : -1
        if (d < 0) break
        lo = lo * 16 + d
      }
      if (i === n) {
        parsedId.hi = hi
        parsedId.lo = lo
        return
      }
    }
  }
  repaired(stats, 'id', 'a span id or trace id is not a hex string; sent as 0')
  parsedId.hi = 0
  parsedId.lo = 0
}

/** Eight hex digits at `at` as a uint32, or -1 when one is not a hex digit. */
function hexHalf (s: string, at: number): number {
  const c0 = s.charCodeAt(at)
  const c1 = s.charCodeAt(at + 1)
  const c2 = s.charCodeAt(at + 2)
  const c3 = s.charCodeAt(at + 3)
  const c4 = s.charCodeAt(at + 4)
  const c5 = s.charCodeAt(at + 5)
  const c6 = s.charCodeAt(at + 6)
  const c7 = s.charCodeAt(at + 7)
  if ((c0 | c1 | c2 | c3 | c4 | c5 | c6 | c7) > 127) return -1
  const d0 = HEX[c0]
  const d1 = HEX[c1]
  const d2 = HEX[c2]
  const d3 = HEX[c3]
  const d4 = HEX[c4]
  const d5 = HEX[c5]
  const d6 = HEX[c6]
  const d7 = HEX[c7]
  if ((d0 | d1 | d2 | d3 | d4 | d5 | d6 | d7) < 0) return -1
  return ((d0 << 28) | (d1 << 24) | (d2 << 20) | (d3 << 16) | (d4 << 12) | (d5 << 8) | (d6 << 4) | d7) >>> 0
}

/** Writes a hex id as uint64 (0xcf); see `parseHexId`. */
export function writeHexId (out: MsgpackWriter, id: unknown, stats: EncodeStats): void {
  parseHexId(id, stats)
  out.writeUint64Halves(parsedId.hi, parsedId.lo)
}

/** A string field (service, name, resource, type) as a string; non-strings are stringified. */
export function stringField (v: unknown, stats: EncodeStats): string {
  if (typeof v === 'string') return v
  repaired(stats, 'string', 'a span name, service, resource or type is not a string; sent as String(value)')
  return v === undefined || v === null ? '' : safeString(v)
}

/** A meta value that is not a string: its String() form, or undefined to leave the entry out. */
export function coerceMetaValue (v: unknown, stats: EncodeStats): string | undefined {
  repaired(stats, 'meta', 'a span meta value is not a string; sent as String(value) (undefined/null left out)')
  return v === undefined || v === null ? undefined : safeString(v)
}

/** Notes a metric left out because it is not a finite number (the Agent takes no NaN/strings). */
export function skippedMetric (stats: EncodeStats): void {
  repaired(stats, 'metric', 'a span metric is not a finite number; left out')
}

/** The duration as a non-negative integer of nanoseconds (the Agent's normalizer zeroes negatives). */
export function durationField (v: unknown, stats: EncodeStats): number {
  if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) return Math.floor(v)
  repaired(stats, 'duration', 'a span duration is not a non-negative number of nanoseconds; sent as 0')
  return 0
}

/**
 * A meta or metrics map whose getters or proxy traps threw (JS callers only): whatever was
 * written of it since `at` is replaced by an empty map, so the span still goes out.
 */
export function unreadableMap (out: MsgpackWriter, at: number, stats: EncodeStats): void {
  repaired(stats, 'map', 'reading a span meta or metrics map threw; sent as an empty map')
  if (out.overflowed) return // the bytes before `at` may be incomplete: leave the flag set
  if (at >= 0) out.truncate(at)
  out.writeMapHeader(0)
}

/** A span's meta_struct that is not an object, or whose keys cannot be read: left out. */
export function unreadableMetaStruct (stats: EncodeStats): void {
  repaired(stats, 'meta_struct', 'a span meta_struct is not a readable object; left out')
}

function safeString (v: unknown): string {
  try {
    return String(v)
  } catch {
    return ''
  }
}

function repaired (stats: EncodeStats, what: string, message: string): void {
  stats.fieldsRepaired++
  log.warnOnce(`encode.span:${what}`, `${message} (further ones are counted silently)`)
}
