import { DecodeError } from './decode_error.js'

export { DecodeError, describeDecodeFailure, type DecodeResult } from './decode_error.js'

/**
 * A strict, bounded msgpack reader for untrusted bodies (the local agent's trace endpoints).
 *
 * Anything a tracer sends may be malformed or hostile, so every read is checked before it
 * allocates: a declared str/bin length must fit in the bytes that remain, an array header must
 * leave at least one byte per element (a map two per entry), nesting is capped (`maxDepth`) and
 * so is the number of values read (`maxElements`). A bad body costs at most one pass over its
 * bytes and never more memory than those bounds allow.
 *
 * Failures throw `DecodeError` (with the byte offset) inside the decoders; the public entry
 * points catch it and return a result union, so callers never see an exception.
 *
 * Choices, matching the Datadog Agent where it has an opinion (pkg/trace/pb decoder_bytes.go):
 * - Invalid UTF-8 in str (or bin read as a string) is repaired with U+FFFD, as the Agent does.
 * - The reserved byte 0xc1 is an error. ext values are an error when decoded as values (no
 *   tracer sends them) but are skipped like anything else inside keys we ignore.
 * - Integers come back exact: a number when safe, a bigint beyond ±(2^53 - 1).
 */

export interface DecodeLimits {
  /** Containers nested deeper than this are rejected. */
  maxDepth: number
  /** Values read from one body (container headers, keys and skipped values included). */
  maxElements: number
}

/**
 * 128 levels is far beyond any real document (our encoder stops at 64). 4 Mi values covers a
 * 25 MiB trace payload of realistic spans (a few values per 20 bytes) while keeping the worst
 * case (tiny values that each become a JS object or property) to a few hundred MB at most.
 */
export const DEFAULT_DECODE_LIMITS: Readonly<DecodeLimits> = Object.freeze({ maxDepth: 128, maxElements: 4 * 1024 * 1024 })

export type MsgpackKind = 'nil' | 'bool' | 'int' | 'float' | 'str' | 'bin' | 'array' | 'map' | 'ext' | 'reserved'

const KINDS: MsgpackKind[] = new Array<MsgpackKind>(256)
for (let b = 0; b < 256; b++) KINDS[b] = kindOfLead(b)

function kindOfLead (b: number): MsgpackKind {
  if (b <= 0x7f || b >= 0xe0 || (b >= 0xcc && b <= 0xd3)) return 'int'
  if (b <= 0x8f || b === 0xde || b === 0xdf) return 'map'
  if (b <= 0x9f || b === 0xdc || b === 0xdd) return 'array'
  if (b <= 0xbf || (b >= 0xd9 && b <= 0xdb)) return 'str'
  if (b === 0xc0) return 'nil'
  if (b === 0xc2 || b === 0xc3) return 'bool'
  if (b >= 0xc4 && b <= 0xc6) return 'bin'
  if (b === 0xca || b === 0xcb) return 'float'
  if (b === 0xc1) return 'reserved'
  return 'ext' // 0xc7-0xc9, 0xd4-0xd8
}

/** ASCII strings up to this length go through STRING_CACHE (keys and short values repeat a lot). */
const SHORT_STRING = 32
const TWO_32 = 4294967296
/** Direct-mapped cache of short ASCII strings, shared by all readers (content-addressed, so safe). */
const CACHE_MASK = 4095
const STRING_CACHE: Array<string | undefined> = new Array<string | undefined>(CACHE_MASK + 1)

export class MsgpackReader {
  readonly maxDepth: number
  private readonly maxElements: number
  private readonly bytes: Uint8Array
  private readonly view: DataView
  private readonly buf: Buffer
  private readonly end: number
  private pos = 0
  private elements = 0

  constructor (bytes: Uint8Array, limits: Partial<DecodeLimits> = {}) {
    this.bytes = bytes
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    this.end = bytes.byteLength
    this.maxDepth = limits.maxDepth ?? DEFAULT_DECODE_LIMITS.maxDepth
    this.maxElements = limits.maxElements ?? DEFAULT_DECODE_LIMITS.maxElements
  }

  get offset (): number { return this.pos }
  get remaining (): number { return this.end - this.pos }

  fail (message: string, at: number = this.pos): never {
    throw new DecodeError(message, at)
  }

  /** Kind of the next value, without consuming it. */
  peekKind (): MsgpackKind { return KINDS[this.lead()] }

  /** The next value's type for messages: the kind, or float32/float64, or the reserved byte. */
  describeNext (): string {
    const b = this.lead()
    if (b === 0xca) return 'float32'
    if (b === 0xcb) return 'float64'
    if (b === 0xc1) return 'reserved byte 0xc1'
    if (KINDS[b] === 'ext') return `ext type ${this.extType()}`
    return KINDS[b]
  }

  readNil (): null {
    if (this.lead() !== 0xc0) return this.typeError('nil')
    this.pos++
    this.tick()
    return null
  }

  readBool (): boolean {
    const b = this.lead()
    if (b !== 0xc2 && b !== 0xc3) return this.typeError('bool')
    this.pos++
    this.tick()
    return b === 0xc3
  }

  /** Call before reading a container at `depth` (0 = top level): enforces `maxDepth`. */
  enter (depth: number): void {
    if (depth >= this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels`)
  }

  /** Consumes a nil if one is next. */
  tryNil (): boolean {
    if (this.pos < this.end && this.bytes[this.pos] === 0xc0) {
      this.pos++
      this.tick()
      return true
    }
    return false
  }

  readArrayHeader (): number {
    const at = this.pos
    const b = this.lead()
    let n: number
    if (b >= 0x90 && b <= 0x9f) { n = b & 0x0f; this.pos++ } else if (b === 0xdc) { this.need(3); n = this.view.getUint16(at + 1); this.pos += 3 } else if (b === 0xdd) { this.need(5); n = this.view.getUint32(at + 1); this.pos += 5 } else return this.typeError('array')
    this.tick()
    const rem = this.end - this.pos
    if (n > rem) this.fail(`declared array length ${n} exceeds remaining bytes (${rem})`, at)
    return n
  }

  readMapHeader (): number {
    const at = this.pos
    const b = this.lead()
    let n: number
    if (b >= 0x80 && b <= 0x8f) { n = b & 0x0f; this.pos++ } else if (b === 0xde) { this.need(3); n = this.view.getUint16(at + 1); this.pos += 3 } else if (b === 0xdf) { this.need(5); n = this.view.getUint32(at + 1); this.pos += 5 } else return this.typeError('map')
    this.tick()
    const rem = this.end - this.pos
    if (n * 2 > rem) this.fail(`declared map length ${n} exceeds remaining bytes (${rem})`, at)
    return n
  }

  /** A str value. */
  readString (): string {
    const len = this.strHeader()
    if (len < 0) return this.typeError('str')
    return this.text(len)
  }

  /** A str or bin value as text (the Agent takes either for string fields). */
  readStringOrBin (): string {
    let len = this.strHeader()
    if (len < 0) len = this.binHeader()
    if (len < 0) return this.typeError('str')
    return this.text(len)
  }

  /** A bin value, copied out so it does not pin the request body. */
  readBin (): Uint8Array {
    const len = this.binHeader()
    if (len < 0) return this.typeError('bin')
    const out = new Uint8Array(len)
    out.set(this.bytes.subarray(this.pos, this.pos + len))
    this.pos += len
    return out
  }

  /** Any msgpack int: a number when it is a safe integer, else an exact bigint. */
  readInteger (): number | bigint {
    const at = this.pos
    const b = this.lead()
    if (b <= 0x7f) { this.pos++; this.tick(); return b }
    if (b >= 0xe0) { this.pos++; this.tick(); return b - 0x100 }
    let v: number | bigint
    switch (b) {
      case 0xcc: this.need(2); v = this.bytes[at + 1]; this.pos += 2; break
      case 0xcd: this.need(3); v = this.view.getUint16(at + 1); this.pos += 3; break
      case 0xce: this.need(5); v = this.view.getUint32(at + 1); this.pos += 5; break
      case 0xcf: {
        this.need(9)
        const hi = this.view.getUint32(at + 1)
        v = hi < 0x200000 ? hi * TWO_32 + this.view.getUint32(at + 5) : this.view.getBigUint64(at + 1)
        this.pos += 9
        break
      }
      case 0xd0: this.need(2); v = this.view.getInt8(at + 1); this.pos += 2; break
      case 0xd1: this.need(3); v = this.view.getInt16(at + 1); this.pos += 3; break
      case 0xd2: this.need(5); v = this.view.getInt32(at + 1); this.pos += 5; break
      case 0xd3: {
        this.need(9)
        const hi = this.view.getInt32(at + 1)
        // Exact as a double when |v| <= 2^53; -2^53 itself is not a safe integer, so bigint.
        const n = hi >= -0x200000 && hi < 0x200000 ? hi * TWO_32 + this.view.getUint32(at + 5) : -Infinity
        v = n >= -Number.MAX_SAFE_INTEGER ? n : this.view.getBigInt64(at + 1)
        this.pos += 9
        break
      }
      default: return this.typeError('int')
    }
    this.tick()
    return v
  }

  /** Any msgpack int as an exact bigint. */
  readBigInt (): bigint {
    const v = this.readInteger()
    return typeof v === 'bigint' ? v : BigInt(v)
  }

  /** A float32 or float64 value. */
  readFloat (): number {
    const at = this.pos
    const b = this.lead()
    let v: number
    if (b === 0xcb) { this.need(9); v = this.view.getFloat64(at + 1); this.pos += 9 } else if (b === 0xca) { this.need(5); v = this.view.getFloat32(at + 1); this.pos += 5 } else return this.typeError('float')
    this.tick()
    return v
  }

  /** Steps over one value of any type, ext included, within the same limits. */
  skip (): void { this.skipValue(0) }

  /** Fails if anything follows the value just read. */
  expectEnd (): void {
    const rem = this.end - this.pos
    if (rem !== 0) this.fail(`${rem} trailing byte${rem === 1 ? '' : 's'} after the top-level value`)
  }

  private skipValue (depth: number): void {
    const at = this.pos
    const b = this.lead()
    switch (KINDS[b]) {
      case 'nil': case 'bool': this.pos++; this.tick(); return
      case 'int': this.readInteger(); return
      case 'float': this.readFloat(); return
      case 'str': case 'bin': {
        let len = this.strHeader()
        if (len < 0) len = this.binHeader()
        this.pos += len
        return
      }
      case 'array': {
        this.enter(depth)
        const n = this.readArrayHeader()
        for (let i = 0; i < n; i++) this.skipValue(depth + 1)
        return
      }
      case 'map': {
        this.enter(depth)
        const n = this.readMapHeader()
        for (let i = 0; i < 2 * n; i++) this.skipValue(depth + 1)
        return
      }
      case 'ext': {
        const [headerLen, len] = this.extSize()
        this.need(headerLen + len)
        this.pos = at + headerLen + len
        this.tick()
        return
      }
      default: this.fail('reserved byte 0xc1')
    }
  }

  /** [header bytes incl. the type byte, data bytes] of the ext at pos. */
  private extSize (): [number, number] {
    const at = this.pos
    const b = this.bytes[at]
    if (b >= 0xd4 && b <= 0xd8) return [2, 1 << (b - 0xd4)]
    if (b === 0xc7) { this.need(2); return [3, this.bytes[at + 1]] }
    if (b === 0xc8) { this.need(3); return [4, this.view.getUint16(at + 1)] }
    this.need(5)
    return [6, this.view.getUint32(at + 1)]
  }

  private extType (): number {
    const [headerLen] = this.extSize()
    this.need(headerLen)
    return this.view.getInt8(this.pos + headerLen - 1)
  }

  /** Length of the str at pos (header consumed and data checked), or -1 if it is not a str. */
  private strHeader (): number {
    const at = this.pos
    const b = this.lead()
    let len: number
    if (b >= 0xa0 && b <= 0xbf) { len = b & 0x1f; this.pos++ } else if (b === 0xd9) { this.need(2); len = this.bytes[at + 1]; this.pos += 2 } else if (b === 0xda) { this.need(3); len = this.view.getUint16(at + 1); this.pos += 3 } else if (b === 0xdb) { this.need(5); len = this.view.getUint32(at + 1); this.pos += 5 } else return -1
    this.tick()
    const rem = this.end - this.pos
    if (len > rem) this.fail(`declared str length ${len} exceeds remaining bytes (${rem})`, at)
    return len
  }

  private binHeader (): number {
    const at = this.pos
    const b = this.lead()
    let len: number
    if (b === 0xc4) { this.need(2); len = this.bytes[at + 1]; this.pos += 2 } else if (b === 0xc5) { this.need(3); len = this.view.getUint16(at + 1); this.pos += 3 } else if (b === 0xc6) { this.need(5); len = this.view.getUint32(at + 1); this.pos += 5 } else return -1
    this.tick()
    const rem = this.end - this.pos
    if (len > rem) this.fail(`declared bin length ${len} exceeds remaining bytes (${rem})`, at)
    return len
  }

  /** UTF-8 text of the next `len` bytes (already bounds-checked); invalid sequences become U+FFFD. */
  private text (len: number): string {
    const start = this.pos
    const end = start + len
    this.pos = end
    if (len > SHORT_STRING) return this.buf.toString('utf8', start, end)
    // Short strings repeat (meta keys, service, env...): a content-addressed cache hands back
    // the same string, which also spares V8 re-internalizing it as a property key.
    const bytes = this.bytes
    let h = len
    for (let i = start; i < end; i++) {
      const c = bytes[i]
      if (c >= 0x80) return this.buf.toString('utf8', start, end)
      h = Math.imul(h ^ c, 0x01000193)
    }
    const slot = (h >>> 20) & CACHE_MASK
    const cached = STRING_CACHE[slot]
    if (cached !== undefined && cached.length === len) {
      let same = true
      for (let i = 0; i < len; i++) if (cached.charCodeAt(i) !== bytes[start + i]) { same = false; break }
      if (same) return cached
    }
    const s = this.buf.toString('latin1', start, end)
    STRING_CACHE[slot] = s
    return s
  }

  private lead (): number {
    if (this.pos >= this.end) this.fail('unexpected end of input: expected a value')
    return this.bytes[this.pos]
  }

  private need (n: number): void {
    const rem = this.end - this.pos
    if (n > rem) this.fail(`unexpected end of input: need ${n} bytes, ${rem} left`)
  }

  private tick (): void {
    if (++this.elements > this.maxElements) this.fail(`more than ${this.maxElements} values in one body`)
  }

  private typeError (expected: string): never {
    return this.fail(`expected ${expected}, got ${this.describeNext()}`)
  }
}

