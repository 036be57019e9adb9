/**
 * A growable, reusable msgpack byte writer for the trace encoders.
 *
 * One Buffer is kept across payloads and grows by doubling, so steady-state encoding allocates
 * nothing. Growth stops at a hard cap (`maxCapacity`, default 64 MiB): a trace payload is worth
 * at most 25 MiB to the Agent (413 above) and the writer's own payload target is far lower, so a
 * writer that wants more than the cap is encoding something pathological (a runaway meta_struct,
 * a trace with millions of spans). Past the cap the writer never throws and never allocates
 * further: writes that do not fit are skipped and the sticky `overflowed` flag is set; the bytes
 * written since are garbage, and the caller rewinds with `truncate(mark)` or `reset()`. (Near the
 * cap a string can be refused slightly early: it reserves its worst-case UTF-8 size, 3 bytes per
 * UTF-16 unit, before the copy.)
 *
 * Integers: `writeInt` picks the smallest msgpack encoding. Every integral double is exact, so
 * integers beyond 2^53 are still written as exact int64/uint64 as long as they are within
 * [-2^63, 2^64); outside that range, non-integers, NaN and ±Infinity are written as float64.
 * `-0` is written as the integer 0 (as JSON does). float32 is never written: the Agent's v0.4
 * decoder rejects it for metrics.
 *
 * Strings are written as valid UTF-8: lone surrogates become U+FFFD, as Buffer and TextEncoder
 * do (the Agent would otherwise "repair" them itself).
 */

import { EncodedStringCache } from './string_cache.js'

const DEFAULT_INITIAL = 64 * 1024
const DEFAULT_MAX = 64 * 1024 * 1024
const DEFAULT_RETAIN = 4 * 1024 * 1024
const TWO_32 = 4294967296
const TWO_63 = 9223372036854775808
const TWO_64 = 18446744073709551616

/** Strings up to this many UTF-16 units are copied by hand (cheaper than a native call). */
const SHORT_STRING = 64

// `writeStringCached`: below 16 chars the hand copy beats a lookup plus a native copy; above 128
// strings are rarely repeated verbatim.
const CACHE_MIN_CHARS = 16
const CACHE_MAX_CHARS = 128

type Utf8Writer = (this: Buffer, s: string, offset: number, length: number) => number
const nativeUtf8Write: Utf8Writer | undefined =
  (Buffer.prototype as unknown as { utf8Write?: Utf8Writer }).utf8Write

export interface MsgpackWriterOptions {
  /** Bytes allocated up front (default 64 KiB). */
  initialCapacity?: number
  /** Hard cap; growth past it sets `overflowed` instead (default 64 MiB). */
  maxCapacity?: number
  /** `reset()` gives back a buffer that grew above this (default 4 MiB) so memory stays flat after a burst. */
  retainCapacity?: number
}

export class MsgpackWriter {
  readonly maxCapacity: number
  private readonly initialCapacity: number
  private readonly retainCapacity: number
  private buf: Buffer
  /** `buf.length`, kept as a plain field: the capacity check runs on every write. */
  private cap: number
  private pos = 0
  private overflow = false
  private cache: EncodedStringCache | undefined

  constructor (options: MsgpackWriterOptions = {}) {
    this.maxCapacity = positiveInt(options.maxCapacity, DEFAULT_MAX)
    this.initialCapacity = Math.min(positiveInt(options.initialCapacity, DEFAULT_INITIAL), this.maxCapacity)
    this.retainCapacity = Math.max(positiveInt(options.retainCapacity, DEFAULT_RETAIN), this.initialCapacity)
    this.buf = Buffer.allocUnsafe(this.initialCapacity)
    this.cap = this.buf.length
  }

  /** Bytes written so far. */
  get length (): number { return this.pos }

  get capacity (): number { return this.buf.length }

  /** Set when a write did not fit under `maxCapacity`; sticky until `reset()` or `truncate()`. */
  get overflowed (): boolean { return this.overflow }

  /** Empties the writer for reuse (and drops a buffer that grew past `retainCapacity`). */
  reset (): void {
    this.pos = 0
    this.overflow = false
    if (this.cap > this.retainCapacity) {
      this.buf = Buffer.allocUnsafe(this.initialCapacity)
      this.cap = this.buf.length
    }
  }

  /** Rewinds to an earlier `length` (a mark taken before a unit of work) and clears `overflowed`. */
  truncate (length: number): void {
    if (length >= 0 && length <= this.pos) this.pos = length
    this.overflow = false
  }

  /** A copy of the bytes written (safe to keep after the writer is reused). */
  toBuffer (start = 0, end = this.pos): Buffer {
    const out = Buffer.allocUnsafe(end - start)
    this.buf.copy(out, 0, start, end)
    return out
  }

  /** A view of the bytes written, without copying; valid only until the next write or reset. */
  view (start = 0, end = this.pos): Buffer {
    return this.buf.subarray(start, end)
  }

  /** Appends bytes that are already msgpack (a pre-encoded chunk, a cached key). */
  writeRaw (bytes: Uint8Array): void {
    const n = bytes.length
    if (this.pos + n > this.cap && !this.grow(n)) return
    if (n < 16) {
      const buf = this.buf
      let p = this.pos
      for (let i = 0; i < n; i++) buf[p++] = bytes[i]
      this.pos = p
    } else {
      this.buf.set(bytes, this.pos)
      this.pos += n
    }
  }

  /**
   * Copies a fixed byte layout (constant keys with value slots) and returns where it starts, or
   * -1 past the cap. The caller fills the slots with `putUint32At` / `putByteAt`: one capacity
   * check and one copy for a run of constant keys instead of one per key.
   */
  writeTemplate (template: Uint8Array): number {
    const n = template.length
    if (this.pos + n > this.cap && !this.grow(n)) return -1
    const at = this.pos
    this.buf.set(template, at)
    this.pos = at + n
    return at
  }

  /** Big-endian uint32 (or int32) at an earlier position, e.g. a slot of `writeTemplate`. */
  putUint32At (at: number, value: number): void {
    put32(this.buf, at, value)
  }

  putByteAt (at: number, value: number): void {
    this.buf[at] = value
  }

  writeNil (): void {
    if (this.pos + 1 > this.cap && !this.grow(1)) return
    this.buf[this.pos++] = 0xc0
  }

  writeBool (value: boolean): void {
    if (this.pos + 1 > this.cap && !this.grow(1)) return
    this.buf[this.pos++] = value ? 0xc3 : 0xc2
  }

  /** Smallest integer encoding; see the header comment for values that are not int64/uint64. */
  writeInt (value: number): void {
    if (this.pos + 9 > this.cap && !this.grow(9)) return
    const buf = this.buf
    let p = this.pos
    if (value === (value | 0)) {
      if (value >= 0) {
        if (value < 0x80) {
          buf[p++] = value
        } else if (value < 0x100) {
          buf[p++] = 0xcc; buf[p++] = value
        } else if (value < 0x10000) {
          buf[p++] = 0xcd; buf[p++] = value >>> 8; buf[p++] = value & 0xff
        } else {
          buf[p++] = 0xce; p = put32(buf, p, value)
        }
      } else if (value >= -32) {
        buf[p++] = value & 0xff
      } else if (value >= -128) {
        buf[p++] = 0xd0; buf[p++] = value & 0xff
      } else if (value >= -32768) {
        buf[p++] = 0xd1; buf[p++] = (value >> 8) & 0xff; buf[p++] = value & 0xff
      } else {
        buf[p++] = 0xd2; p = put32(buf, p, value)
      }
      this.pos = p
      return
    }
    if (Number.isInteger(value)) {
      if (value >= 0) {
        if (value < TWO_32) {
          buf[p++] = 0xce; this.pos = put32(buf, p, value); return
        }
        if (value < TWO_64) {
          const hi = Math.floor(value / TWO_32)
          buf[p++] = 0xcf; p = put32(buf, p, hi); this.pos = put32(buf, p, value - hi * TWO_32); return
        }
      } else if (value >= -TWO_63) {
        const hi = Math.floor(value / TWO_32)
        buf[p++] = 0xd3; p = put32(buf, p, hi); this.pos = put32(buf, p, value - hi * TWO_32); return
      }
    }
    this.writeFloat64(value)
  }

  /** uint64 from two uint32 halves, always as 0xcf (fixed width: ids). */
  writeUint64Halves (hi: number, lo: number): void {
    if (this.pos + 9 > this.cap && !this.grow(9)) return
    const buf = this.buf
    buf[this.pos] = 0xcf
    this.pos = put32(buf, put32(buf, this.pos + 1, hi), lo)
  }

  /** int64 from a signed high half and an unsigned low half, always as 0xd3 (timestamps). */
  writeInt64Halves (hi: number, lo: number): void {
    if (this.pos + 9 > this.cap && !this.grow(9)) return
    const buf = this.buf
    buf[this.pos] = 0xd3
    this.pos = put32(buf, put32(buf, this.pos + 1, hi), lo)
  }

  writeFloat64 (value: number): void {
    if (this.pos + 9 > this.cap && !this.grow(9)) return
    this.buf[this.pos] = 0xcb
    this.buf.writeDoubleBE(value, this.pos + 1)
    this.pos += 9
  }

  writeString (s: string): void {
    const n = s.length
    if (n < SHORT_STRING) {
      // Optimistic ASCII: for ASCII the byte length is the char length, so the header is known
      // before the copy. The first non-ASCII char sends the whole string to the general path.
      if (this.pos + 2 + n * 3 > this.cap && !this.grow(2 + n * 3)) return
      const buf = this.buf
      const start = this.pos
      let p = n < 32 ? start + 1 : start + 2
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i)
        if (c >= 0x80) { this.writeStringGeneral(s); return }
        buf[p++] = c
      }
      if (n < 32) {
        buf[start] = 0xa0 | n
      } else {
        buf[start] = 0xd9; buf[start + 1] = n
      }
      this.pos = p
      return
    }
    this.writeStringGeneral(s)
  }

  /**
   * `writeString` for strings that often repeat across spans (tag keys and values, service
   * names): see EncodedStringCache. Same bytes as `writeString`.
   */
  writeStringCached (s: string): void {
    const n = s.length
    if (n < CACHE_MIN_CHARS || n > CACHE_MAX_CHARS) { this.writeString(s); return }
    const cache = this.cache ?? (this.cache = new EncodedStringCache())
    if (!cache.active()) { this.writeString(s); return }
    const hit = cache.get(s)
    if (hit !== undefined) {
      if (this.pos + hit.length > this.cap && !this.grow(hit.length)) return
      this.buf.set(hit, this.pos)
      this.pos += hit.length
      return
    }
    const start = this.pos
    this.writeString(s)
    if (!this.overflow) cache.add(s, this.buf, start, this.pos)
  }

  writeBin (bytes: Uint8Array): void {
    const n = bytes.length
    if (this.pos + 5 + n > this.cap && !this.grow(5 + n)) return
    this.writeBinHeader(n)
    this.buf.set(bytes, this.pos)
    this.pos += n
  }

  writeBinHeader (length: number): void {
    if (this.pos + 5 > this.cap && !this.grow(5)) return
    const buf = this.buf
    if (length < 0x100) {
      buf[this.pos++] = 0xc4; buf[this.pos++] = length
    } else if (length < 0x10000) {
      buf[this.pos++] = 0xc5; buf[this.pos++] = length >>> 8; buf[this.pos++] = length & 0xff
    } else {
      buf[this.pos] = 0xc6; this.pos = put32(buf, this.pos + 1, length)
    }
  }

  writeArrayHeader (count: number): void { this.writeContainerHeader(count, 0x90, 0xdc) }

  writeMapHeader (count: number): void { this.writeContainerHeader(count, 0x80, 0xde) }

  /**
   * Writes a map header sized for at most `maxCount` entries and returns its position, for
   * encoders that learn the real count while writing (skipped entries). Pair with `patchHeader`.
   */
  reserveMapHeader (maxCount: number): number {
    const at = this.pos
    this.writeContainerHeader(maxCount, 0x80, 0xde)
    return at
  }

  /** The array counterpart of `reserveMapHeader`. */
  reserveArrayHeader (maxCount: number): number {
    const at = this.pos
    this.writeContainerHeader(maxCount, 0x90, 0xdc)
    return at
  }

  /**
   * Rewrites the count of a reserved map or array header, keeping its width (a wider header than
   * needed is valid msgpack). `count` must not exceed the reserved maximum.
   */
  patchHeader (at: number, count: number): void {
    if (this.overflow || at < 0 || at >= this.pos) return
    const buf = this.buf
    const marker = buf[at]
    if (marker === 0xde || marker === 0xdc) {
      buf[at + 1] = count >>> 8; buf[at + 2] = count & 0xff
    } else if (marker === 0xdf || marker === 0xdd) {
      put32(buf, at + 1, count)
    } else {
      buf[at] = (marker & 0xf0) | count
    }
  }

  /**
   * Starts a bin whose length is not known yet (a nested msgpack document written in place).
   * Returns a token for `endBin`, which shifts the content so the header is the smallest one.
   */
  beginBin (): number {
    const at = this.pos
    if (this.pos + 5 > this.cap && !this.grow(5)) return at
    this.pos += 5
    return at
  }

  endBin (at: number): void {
    if (this.overflow) return
    const buf = this.buf
    const len = this.pos - at - 5
    if (len < 0x100) {
      buf.copyWithin(at + 2, at + 5, this.pos)
      buf[at] = 0xc4; buf[at + 1] = len
      this.pos -= 3
    } else if (len < 0x10000) {
      buf.copyWithin(at + 3, at + 5, this.pos)
      buf[at] = 0xc5; buf[at + 1] = len >>> 8; buf[at + 2] = len & 0xff
      this.pos -= 2
    } else {
      buf[at] = 0xc6; put32(buf, at + 1, len)
    }
  }

  private writeContainerHeader (count: number, fixBase: number, marker16: number): void {
    if (this.pos + 5 > this.cap && !this.grow(5)) return
    const buf = this.buf
    if (count < 16) {
      buf[this.pos++] = fixBase | count
    } else if (count < 0x10000) {
      buf[this.pos++] = marker16; buf[this.pos++] = count >>> 8; buf[this.pos++] = count & 0xff
    } else {
      buf[this.pos] = marker16 + 1; this.pos = put32(buf, this.pos + 1, count)
    }
  }

  /**
   * The string `head + tail`, whose UTF-8 length is `utf8Bytes`, written part by part: joining
   * them (or writing the joined string) makes V8 copy the whole first.
   */
  writeStringParts (head: string, tail: string, utf8Bytes: number): void {
    const header = strHeaderSize(utf8Bytes)
    if (this.pos + header + utf8Bytes > this.cap && !this.grow(header + utf8Bytes)) return
    const buf = this.buf
    const start = this.pos
    let p = start + header
    p += buf.write(head, p, utf8Bytes, 'utf8')
    p += buf.write(tail, p, start + header + utf8Bytes - p, 'utf8')
    if (p !== start + header + utf8Bytes) {
      // A length that was not the parts' (a bug of the caller): the plain path is always right.
      this.pos = start
      this.writeStringGeneral(head + tail)
      return
    }
    this.pos = start
    this.writeStrHeaderAt(utf8Bytes)
    this.pos = p
  }

  private writeStrHeaderAt (bytes: number): void {
    const buf = this.buf
    const start = this.pos
    if (bytes < 0x20) {
      buf[start] = 0xa0 | bytes
    } else if (bytes < 0x100) {
      buf[start] = 0xd9; buf[start + 1] = bytes
    } else if (bytes < 0x10000) {
      buf[start] = 0xda; buf[start + 1] = bytes >>> 8; buf[start + 2] = bytes & 0xff
    } else {
      buf[start] = 0xdb; put32(buf, start + 1, bytes)
    }
  }

  private writeStringGeneral (s: string): void {
    const n = s.length
    // UTF-8 takes between n and 3n bytes. Guess the header for n bytes (right for ASCII, the
    // common case), copy once natively, and move the bytes only if the guess was wrong.
    const need = 5 + n * 3
    if (this.pos + need > this.cap && !this.grow(need)) return
    const buf = this.buf
    const start = this.pos
    const guess = strHeaderSize(n)
    const bytes = nativeUtf8Write !== undefined
      ? nativeUtf8Write.call(buf, s, start + guess, buf.length - start - guess)
      : buf.write(s, start + guess, 'utf8')
    const header = strHeaderSize(bytes)
    if (header !== guess) buf.copyWithin(start + header, start + guess, start + guess + bytes)
    if (header === 1) {
      buf[start] = 0xa0 | bytes
    } else if (header === 2) {
      buf[start] = 0xd9; buf[start + 1] = bytes
    } else if (header === 3) {
      buf[start] = 0xda; buf[start + 1] = bytes >>> 8; buf[start + 2] = bytes & 0xff
    } else {
      buf[start] = 0xdb; put32(buf, start + 1, bytes)
    }
    this.pos = start + header + bytes
  }

  /** Makes room for `extra` more bytes; false (and `overflowed`) when that would pass the cap. */
  private grow (extra: number): boolean {
    const needed = this.pos + extra
    if (this.overflow || needed > this.maxCapacity) {
      this.overflow = true
      return false
    }
    let cap = this.cap * 2
    while (cap < needed) cap *= 2
    if (cap > this.maxCapacity) cap = this.maxCapacity
    const next = Buffer.allocUnsafe(cap)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
    this.cap = cap
    return true
  }
}

function strHeaderSize (byteLength: number): number {
  if (byteLength < 0x20) return 1
  if (byteLength < 0x100) return 2
  if (byteLength < 0x10000) return 3
  return 5
}

/** Big-endian 32 bits (signed or unsigned input); returns the next position. */
function put32 (buf: Buffer, p: number, v: number): number {
  buf[p] = v >>> 24
  buf[p + 1] = (v >>> 16) & 0xff
  buf[p + 2] = (v >>> 8) & 0xff
  buf[p + 3] = v & 0xff
  return p + 4
}

function positiveInt (value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isInteger(value) && value > 0 ? value : fallback
}
