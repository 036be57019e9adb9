/**
 * String-level pieces of truncation (DESIGN §3.5): how many bytes a string costs inside JSON,
 * and how to cut one to a byte budget with the marker that says how much went.
 */
import { rememberJoined } from '../encode/joined_strings.js'

const MARKER_HEAD = '…[truncated '
const MARKER_TAIL = ' bytes to fit the event size limit]'
/** Bytes of the marker without its number (the ellipsis is 3 bytes of UTF-8, the rest ASCII). */
const MARKER_FIXED = Buffer.byteLength(MARKER_HEAD) + MARKER_TAIL.length

// eslint-disable-next-line no-control-regex -- the control characters JSON writes as \u00XX
const WIDE_CONTROL = /[\u0000-\u0007\u000b\u000e-\u001f]/
/** The control characters JSON writes as two bytes (\b \t \n \f \r), and the two it backslashes. */
const SHORT_ESCAPES = ['"', '\\', '\n', '\t', '\r', '\b', '\f']
/** Below this many UTF-16 units the JS walk is cheaper than a handful of native calls. */
const SHORT_STRING = 64
/**
 * Cutting measures regions natively while they are longer than this; the last few bytes of room
 * are walked in JS. Small enough that the walk is cheap, large enough that few regions are measured.
 */
const NATIVE_REGION = 4096

export function marker (removedBytes: number): string {
  return `${MARKER_HEAD}${removedBytes}${MARKER_TAIL}`
}

/**
 * The most bytes a cut string's marker can take: the number it carries is at most the string's
 * UTF-8 length, which is at most its JSON length, so either length's digits bound the marker.
 */
export function markerBound (bytes: number): number {
  return MARKER_FIXED + String(bytes).length
}

/** Bytes `s` takes between its quotes in JSON.stringify output. */
export function jsonBytes (s: string): number {
  if (s.length < SHORT_STRING) return scan(s, Infinity, 0).bytes
  const utf8 = Buffer.byteLength(s)
  // As many UTF-8 bytes as units: pure ASCII, where only the escapes add bytes.
  if (utf8 === s.length) return utf8 + asciiEscapes(s)
  // JSON.stringify escapes quotes, backslashes, control characters and lone surrogates (as
  // \udxxx). Strings without lone surrogates and without the rare controls, nearly all of
  // them (prose has quotes and newlines, not \u0001), take the native byte count plus one byte
  // per two-byte escape, each counted with indexOf (native): walking a prompt of megabytes in a
  // JS loop held the event loop for tens of milliseconds per call.
  if ((s as unknown as WellFormed).isWellFormed() && !WIDE_CONTROL.test(s)) {
    let n = utf8
    for (const ch of SHORT_ESCAPES) n += occurrences(s, ch)
    return n
  }
  // Counted rather than serialised: escaping can make a copy six times the string's size.
  return scan(s, Infinity, 0).bytes
}

/** Extra JSON bytes per ASCII code: 1 for a two-byte escape, 5 for \u00XX. */
const ASCII_EXTRA = new Uint8Array(256)
for (let c = 0; c < 0x20; c++) ASCII_EXTRA[c] = c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 1 : 5
ASCII_EXTRA[0x22] = ASCII_EXTRA[0x5c] = 1
/** ASCII is copied here a piece at a time to be counted: memory stays at this, whatever the string. */
const SCRATCH_BYTES = 256 * 1024
let scratch: Buffer | undefined

let words: Int32Array | undefined

/**
 * What escaping adds to an ASCII string. One native copy, then four bytes at a time: a word
 * with no control character, quote or backslash (most of them, even in prose) is passed over
 * with a few integer operations. Several times cheaper than a regex or an indexOf per escape.
 */
function asciiEscapes (s: string): number {
  const buf = scratch ??= Buffer.allocUnsafeSlow(SCRATCH_BYTES)
  const w = words ??= new Int32Array(buf.buffer, buf.byteOffset, SCRATCH_BYTES >> 2)
  let n = 0
  for (let at = 0; at < s.length; at += SCRATCH_BYTES) {
    const piece = Math.min(SCRATCH_BYTES, s.length - at)
    buf.write(piece === s.length ? s : s.slice(at, at + piece), 0, piece, 'latin1')
    const whole = piece >> 2
    for (let i = 0; i < whole; i++) {
      const x = w[i]
      // Bytes are ASCII (< 0x80), so the classic "has a byte below k / equal to k" tests hold.
      const q = x ^ 0x22222222
      const b = x ^ 0x5c5c5c5c
      if ((((x - 0x20202020) & ~x) | ((q - 0x01010101) & ~q) | ((b - 0x01010101) & ~b)) & 0x80808080) {
        const j = i << 2
        n += ASCII_EXTRA[buf[j]] + ASCII_EXTRA[buf[j + 1]] + ASCII_EXTRA[buf[j + 2]] + ASCII_EXTRA[buf[j + 3]]
      }
    }
    for (let i = whole << 2; i < piece; i++) n += ASCII_EXTRA[buf[i]]
  }
  return n
}

function occurrences (s: string, ch: string): number {
  let n = 0
  for (let i = s.indexOf(ch); i >= 0; i = s.indexOf(ch, i + 1)) n++
  return n
}

/** ES2024, present from Node 20 (engines: >= 20.19); our TypeScript lib is ES2022. */
interface WellFormed { isWellFormed: () => boolean }

/** A cut string and its JSON bytes between the quotes (the marker has nothing to escape). */
export interface Cut { text: string, bytes: number }

/**
 * The cut form of `s`: its longest prefix whose JSON text fits `capBytes` (never splitting a
 * surrogate pair), then the marker counting the UTF-8 bytes removed. `utf8Bytes`, the string's
 * UTF-8 length, when the caller knows it already.
 */
export function cutString (s: string, capBytes: number, utf8Bytes?: number): string {
  return cutWithSize(s, capBytes, utf8Bytes).text
}

export function cutWithSize (s: string, capBytes: number, utf8Bytes = Buffer.byteLength(s)): Cut {
  const at = prefixEnd(s, capBytes)
  const kept = s.slice(0, at.end)
  const keptUtf8 = Buffer.byteLength(kept)
  const tail = marker(utf8Bytes - keptUtf8)
  const tailUtf8 = Buffer.byteLength(tail)
  const text = kept + tail
  rememberJoined({ text, head: kept, tail, utf8Bytes: keptUtf8 + tailUtf8 })
  return { text, bytes: at.bytes + tailUtf8 }
}

/**
 * Where the longest prefix that fits `capBytes` ends, and its JSON bytes. Work is bounded by
 * what is kept, never by the string's length: no unit takes less than one byte, so the prefix
 * is at most `capBytes` units. Regions are measured natively: a region that fits is taken
 * whole; one that overflows by `over` bytes gives back its last `over` units (which take at
 * least that much), measured on their own. Each step leaves as room only the escapes and
 * multi-byte characters of the last region, so after two or three steps a JS walk finishes.
 */
function prefixEnd (s: string, capBytes: number): { end: number, bytes: number } {
  let end = 0
  let bytes = 0
  let hi = Math.min(s.length, capBytes)
  while (hi - end > NATIVE_REGION) {
    hi = pairSafe(s, hi)
    const b = jsonBytes(s.slice(end, hi))
    const room = capBytes - bytes
    if (b <= room) {
      end = hi
      bytes += b
      hi = Math.min(s.length, end + (room - b))
      continue
    }
    const over = b - room
    if (over * 2 < hi - end) {
      const mid = pairSafe(s, hi - over)
      bytes += b - jsonBytes(s.slice(mid, hi))
      end = mid
      hi = Math.min(s.length, end + (capBytes - bytes))
    } else {
      // Mostly multi-byte text: scale the region down by its average width and measure again.
      hi = end + Math.floor((hi - end) * room / b)
    }
  }
  const rest = scan(s, capBytes - bytes, end)
  return { end: rest.end, bytes: bytes + rest.bytes }
}

/** `i`, or one less when `i` would split a surrogate pair. */
function pairSafe (s: string, i: number): number {
  if (i <= 0 || i >= s.length) return i
  const c = s.charCodeAt(i - 1)
  const d = s.charCodeAt(i)
  return c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff ? i - 1 : i
}

/** Walks `s` from `from` as JSON.stringify writes it, up to `capBytes`: where it stopped and the bytes so far. */
function scan (s: string, capBytes: number, from: number): { end: number, bytes: number } {
  let bytes = 0
  let i = from
  while (i < s.length) {
    const c = s.charCodeAt(i)
    let units = 1
    let w: number
    if (c < 0x20) w = c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6
    else if (c === 0x22 || c === 0x5c) w = 2
    else if (c < 0x80) w = 1
    else if (c < 0x800) w = 2
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) { w = 4; units = 2 } else w = 6
    } else w = 3
    if (bytes + w > capBytes) break
    bytes += w
    i += units
  }
  return { end: i, bytes }
}
