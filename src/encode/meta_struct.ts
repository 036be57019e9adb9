import { log } from '../diag/logger.js'
import type { EncodeStats } from './encode_stats.js'
import { JOINED_MIN_UNITS, takeJoined } from './joined_strings.js'
import type { MsgpackWriter } from './msgpack_writer.js'
import { objectPrototypeIsClean } from './span_fields.js'

/**
 * Encodes one meta_struct value as its own msgpack document (the v0.4 encoder then carries it as
 * bin). Lossless over the JSON value domain, which is what `_llmobs` is made of; the reference
 * tracer's encoder drops `null` and booleans inside arrays, this one must not.
 *
 * What goes where:
 * - null → nil; booleans (anywhere) → true/false; strings → str (lone surrogates become U+FFFD).
 * - numbers: integers → the smallest int, exact up to the int64/uint64 range (every integral
 *   double is exact); other numbers → float64, including NaN and ±Infinity: msgpack can carry
 *   them and the LLMObs layer has already decided what JSON-bound data may hold.
 * - bigint within [-2^63, 2^64) → int; outside → placeholder.
 * - arrays → array (`undefined` and holes → nil, as JSON.stringify gives null);
 *   objects → map of own enumerable string keys (`undefined` values skipped, as JSON.stringify).
 * - Uint8Array / Buffer → bin. A class instance's `toJSON()` is honoured once, as JSON.stringify
 *   does, so a Date becomes its ISO string (an invalid Date becomes nil; a toJSON returning
 *   undefined gives nil too, where JSON would drop the key). Plain objects are taken as data:
 *   an own `toJSON` function on one is not called (it shows as a function placeholder).
 *   Boxed primitives are unwrapped.
 * - Class instances without toJSON (including Error) → their own enumerable properties, as JSON.
 * - Everything else becomes a placeholder string, counted in `stats.placeholders` and warned once
 *   per kind: functions and symbols (also as object values, where JSON would silently drop them),
 *   Map/Set/WeakMap/WeakSet/WeakRef/Promise/RegExp, ArrayBuffer and typed arrays other than
 *   Uint8Array, a container nested deeper than 64 levels ("[max depth]"), a reference to an
 *   enclosing container ("[circular]"; a shared non-circular reference is written twice, as
 *   JSON), and any object whose getters, proxy traps or toJSON throw.
 *
 * Depth: the top-level value is at depth 0; a container is encoded when at most 63 containers
 * enclose it, i.e. 64 nested containers encode fully and the 65th becomes "[max depth]".
 *
 * Never throws. Stops early (leaving garbage the caller discards) once the writer overflows.
 */
export const META_STRUCT_MAX_DEPTH = 64

export const PLACEHOLDER_CIRCULAR = '[circular]'
export const PLACEHOLDER_MAX_DEPTH = '[max depth]'
export const PLACEHOLDER_FUNCTION = '[unencodable: function]'
export const PLACEHOLDER_SYMBOL = '[unencodable: symbol]'
export const PLACEHOLDER_BIGINT = '[unencodable: bigint out of range]'
export const PLACEHOLDER_GETTER = '[unencodable: throwing getter]'
export const PLACEHOLDER_THROWING = '[unencodable: throwing object]'

const MIN_INT64 = -(2n ** 63n)
const MAX_UINT64 = 2n ** 64n - 1n
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

/** Marks a property read that threw (a value no caller can produce). */
const THREW: unique symbol = Symbol('threw')
const hop = Object.prototype.hasOwnProperty

// Enclosing containers of the value being written, for cycle detection. Module-level so a
// document costs no allocation; encoding is synchronous, and a re-entrant call (a getter that
// encodes) simply nests on top.
const ancestors: object[] = []
let depthTop = 0
let protoClean = true
const RELEASED = {}

const KIND_ARRAY = 0
const KIND_MAP = 1
const KIND_BYTES = 2
const KIND_TO_JSON = 3
const KIND_BOXED = 4
const KIND_EXOTIC = 5
const KIND_THREW = 6
/** An object with another prototype (a class instance): may inherit enumerable keys. */
const KIND_OBJECT = 7

const EXOTIC: ReadonlyArray<readonly [abstract new (...args: never[]) => unknown, string]> = [
  [Map, 'Map'], [Set, 'Set'], [WeakMap, 'WeakMap'], [WeakSet, 'WeakSet'], [WeakRef, 'WeakRef'],
  [Promise, 'Promise'], [RegExp, 'RegExp'], [ArrayBuffer, 'ArrayBuffer'],
  [SharedArrayBuffer, 'SharedArrayBuffer'],
]

export function encodeMetaStructValue (value: unknown, out: MsgpackWriter, stats: EncodeStats): void {
  if (out.overflowed) return
  const start = out.length
  const base = depthTop
  protoClean = objectPrototypeIsClean()
  try {
    encodeValue(value, out, stats, 0)
  } catch (err) {
    // Only a bug of ours lands here (user code is fenced below); keep the document well-formed.
    log.internalError('encode.meta_struct', err)
    if (!out.overflowed) {
      out.truncate(start)
      encodePlaceholder(out, stats, PLACEHOLDER_THROWING)
    }
  } finally {
    while (depthTop > base) ancestors[--depthTop] = RELEASED
  }
}

function encodeValue (v: unknown, out: MsgpackWriter, stats: EncodeStats, depth: number): void {
  switch (typeof v) {
    case 'string': writeStr(v, out); return
    case 'number': out.writeInt(v); return
    case 'boolean': out.writeBool(v); return
    case 'object':
      if (v === null) out.writeNil()
      else encodeObject(v, out, stats, depth, true)
      return
    case 'undefined': out.writeNil(); return
    case 'bigint': encodeBigInt(v, out, stats); return
    case 'function': encodePlaceholder(out, stats, PLACEHOLDER_FUNCTION); return
    default: encodePlaceholder(out, stats, PLACEHOLDER_SYMBOL)
  }
}

function writeStr (s: string, out: MsgpackWriter): void {
  const joined = s.length >= JOINED_MIN_UNITS ? takeJoined(s) : undefined
  if (joined !== undefined) out.writeStringParts(joined.head, joined.tail, joined.utf8Bytes)
  else out.writeString(s)
}

function encodeObject (v: object, out: MsgpackWriter, stats: EncodeStats, depth: number, allowToJSON: boolean): void {
  const kind = classify(v, allowToJSON)
  if (kind === KIND_BYTES) { out.writeBin(v as Uint8Array); return }
  if (kind === KIND_MAP || kind === KIND_ARRAY || kind === KIND_OBJECT) {
    if (depth >= META_STRUCT_MAX_DEPTH) { encodePlaceholder(out, stats, PLACEHOLDER_MAX_DEPTH); return }
    for (let i = 0; i < depthTop; i++) {
      if (ancestors[i] === v) { encodePlaceholder(out, stats, PLACEHOLDER_CIRCULAR); return }
    }
    ancestors[depthTop++] = v
    if (kind === KIND_ARRAY) encodeArray(v as unknown[], out, stats, depth + 1)
    else encodeMap(v as Record<string, unknown>, out, stats, depth + 1, kind === KIND_OBJECT || !protoClean)
    ancestors[--depthTop] = RELEASED // keep no user object alive, and no array resizing
    return
  }
  if (kind === KIND_TO_JSON || kind === KIND_BOXED) {
    let r: unknown
    try {
      r = kind === KIND_TO_JSON ? (v as { toJSON: (key: string) => unknown }).toJSON('') : v.valueOf()
    } catch {
      encodePlaceholder(out, stats, PLACEHOLDER_THROWING)
      return
    }
    if (typeof r === 'object' && r !== null) encodeObject(r, out, stats, depth, false)
    else encodeValue(r, out, stats, depth)
    return
  }
  if (kind === KIND_EXOTIC) { encodePlaceholder(out, stats, exoticPlaceholder(v)); return }
  encodePlaceholder(out, stats, PLACEHOLDER_THROWING)
}

/** Sorts an object into how it is written; proxy traps may throw, hence the fence. */
function classify (v: object, allowToJSON: boolean): number {
  try {
    if (Array.isArray(v)) return KIND_ARRAY
    const proto: unknown = Object.getPrototypeOf(v)
    // Plain objects are data: their toJSON is not looked up (a lookup that misses on every object
    // of the document costs ~7% of the encode); an own toJSON function shows as a placeholder.
    if (proto === Object.prototype || proto === null) return KIND_MAP
    // Before toJSON: Buffer has one, and bytes must stay bytes.
    if (v instanceof Uint8Array) return KIND_BYTES
    if (allowToJSON && typeof (v as { toJSON?: unknown }).toJSON === 'function') return KIND_TO_JSON
    if (v instanceof String || v instanceof Number || v instanceof Boolean) return KIND_BOXED
    if (ArrayBuffer.isView(v)) return KIND_EXOTIC
    for (let i = 0; i < EXOTIC.length; i++) if (v instanceof EXOTIC[i][0]) return KIND_EXOTIC
    return KIND_OBJECT
  } catch {
    return KIND_THREW
  }
}

function encodeArray (arr: unknown[], out: MsgpackWriter, stats: EncodeStats, depth: number): void {
  let len: number
  try {
    len = arr.length
  } catch {
    encodePlaceholder(out, stats, PLACEHOLDER_THROWING)
    return
  }
  out.writeArrayHeader(len)
  for (let i = 0; i < len; i++) {
    // A sparse array of length 2^32-1 must not spin after the cap stopped the writes.
    if (out.overflowed) return
    let el: unknown
    try { el = arr[i] } catch { el = THREW }
    if (el === THREW) encodePlaceholder(out, stats, PLACEHOLDER_GETTER)
    else encodeValue(el, out, stats, depth)
  }
}

function encodeMap (obj: Record<string, unknown>, out: MsgpackWriter, stats: EncodeStats, depth: number, ownCheck: boolean): void {
  // for-in: V8 reads the values through its enum cache. The own-property check is skipped for
  // plain objects while Object.prototype is clean (span_fields.objectPrototypeIsClean).
  // Proxy traps fire in the loops, hence the fence around both.
  let at = -1
  let n = 0
  let count = 0
  try {
    for (const key in obj) if (!ownCheck || hop.call(obj, key)) n++
    at = out.reserveMapHeader(n)
    for (const key in obj) {
      if (count === n || out.overflowed) break // a getter added keys: the header cannot grow
      if (ownCheck && !hop.call(obj, key)) continue
      let val: unknown
      try { val = obj[key] } catch { val = THREW }
      if (val === undefined) continue
      out.writeString(key)
      if (val === THREW) encodePlaceholder(out, stats, PLACEHOLDER_GETTER)
      else encodeValue(val, out, stats, depth)
      count++
    }
  } catch {
    // Whatever was written of this map goes; the whole object becomes one placeholder.
    if (out.overflowed) return
    if (at >= 0) out.truncate(at)
    encodePlaceholder(out, stats, PLACEHOLDER_THROWING)
    return
  }
  if (count !== n) out.patchHeader(at, count)
}

function encodeBigInt (v: bigint, out: MsgpackWriter, stats: EncodeStats): void {
  if (v < MIN_INT64 || v > MAX_UINT64) { encodePlaceholder(out, stats, PLACEHOLDER_BIGINT); return }
  if (v >= -MAX_SAFE && v <= MAX_SAFE) { out.writeInt(Number(v)); return }
  const u = BigInt.asUintN(64, v)
  const hi = Number(u >> 32n)
  const lo = Number(u & 0xffffffffn)
  if (v < 0n) out.writeInt64Halves(hi, lo)
  else out.writeUint64Halves(hi, lo)
}

function exoticPlaceholder (v: object): string {
  for (let i = 0; i < EXOTIC.length; i++) {
    if (v instanceof EXOTIC[i][0]) return `[unencodable: ${EXOTIC[i][1]}]`
  }
  // Typed arrays and DataView; the tag is a built-in getter on their prototypes.
  let tag = 'binary view'
  // The tag is user-controllable (Symbol.toStringTag): bounded, since it names a warning.
  try { tag = Object.prototype.toString.call(v).slice(8, -1).slice(0, 32) } catch { /* keep the generic name */ }
  return `[unencodable: ${tag}]`
}

/** Writes a placeholder string (counted and warned once per text) in place of a value. */
export function encodePlaceholder (out: MsgpackWriter, stats: EncodeStats, text: string): void {
  stats.placeholders++
  log.warnOnce(`encode.meta_struct:${text}`,
    `a meta_struct value could not be encoded and was replaced by "${text}" (further ones are counted silently)`)
  out.writeString(text)
}
