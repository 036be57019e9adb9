import { DecodeError } from './decode_error.js'
import type { MsgpackReader } from './msgpack_reader.js'
import { setOwn } from './msgpack_value.js'

/**
 * Readers for span fields with the Datadog Agent's coercions (pkg/trace/pb decoder_bytes.go and
 * the v0.4 span decoder), so the local agent accepts exactly what the Agent accepts:
 * - nil reads as the zero value ("" / 0) for strings, ids, times, error and metric values, and
 *   as an empty map for meta, metrics and meta_struct;
 * - strings may be str or bin; invalid UTF-8 is repaired with U+FFFD;
 * - uint64 fields take any int (a negative one is reinterpreted as two's complement);
 * - int64 fields take any int but a uint64 above 2^63 - 1; error must fit int32;
 * - metric values take any int or float64, but not float32 (the Agent's type check refuses it);
 * - meta_struct keys must be str and values bin (Datadog's test agent answers 400 otherwise).
 */

const INT64_MAX = 0x7fffffffffffffffn
const INT32_MIN = -0x80000000
const INT32_MAX = 0x7fffffff

/**
 * Where the decoder is, for reasons like `chunk 0 span 3: field "meta" must be a map, got str`.
 * Mutable and shared through one decode so the hot path builds no strings.
 */
export class Where {
  chunk = -1
  span = -1
  /** Set while a field's value is read; cleared by errors that already name the field. */
  field: string | undefined = undefined

  describe (message: string): string {
    let prefix = ''
    if (this.chunk >= 0) prefix = `chunk ${this.chunk}`
    if (this.span >= 0) prefix += ` span ${this.span}`
    if (this.field !== undefined) prefix += `${prefix === '' ? '' : ': '}field ${quote(this.field)}`
    return prefix === '' ? message : `${prefix}: ${message}`
  }
}

/** A key or name from the wire, quoted and shortened for a message. */
export function quote (s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s)
}

/** Throws `field "<name>" <problem>` (the field is named here, so not again in the prefix). */
export function fieldError (r: MsgpackReader, w: Where, problem: string): never {
  const name = w.field ?? '?'
  w.field = undefined
  throw new DecodeError(`field ${quote(name)} ${problem}`, r.offset)
}

export function readStringField (r: MsgpackReader, w: Where): string {
  const kind = r.peekKind()
  if (kind === 'str' || kind === 'bin') return r.readStringOrBin()
  if (r.tryNil()) return ''
  return fieldError(r, w, `must be a string, got ${r.describeNext()}`)
}

export function readUint64Field (r: MsgpackReader, w: Where): bigint {
  if (r.peekKind() === 'int') {
    const v = r.readBigInt()
    return v < 0n ? BigInt.asUintN(64, v) : v
  }
  if (r.tryNil()) return 0n
  return fieldError(r, w, `must be an integer, got ${r.describeNext()}`)
}

export function readInt64Field (r: MsgpackReader, w: Where): bigint {
  if (r.peekKind() === 'int') {
    const at = r.offset
    const v = r.readBigInt()
    if (v > INT64_MAX) { r.fail(`value ${v} overflows int64`, at) }
    return v
  }
  if (r.tryNil()) return 0n
  return fieldError(r, w, `must be an integer, got ${r.describeNext()}`)
}

export function readInt32Field (r: MsgpackReader, w: Where): number {
  if (r.peekKind() === 'int') {
    const at = r.offset
    const v = r.readInteger()
    if (typeof v !== 'number' || v < INT32_MIN || v > INT32_MAX) r.fail(`value ${v} overflows int32`, at)
    return v
  }
  if (r.tryNil()) return 0
  return fieldError(r, w, `must be an integer, got ${r.describeNext()}`)
}

/** A metric value: any int or float64 (ints beyond 2^53 round, as in the Agent's float64). */
export function readMetricValue (r: MsgpackReader, key: string): number {
  const kind = r.peekKind()
  if (kind === 'int') return Number(r.readInteger())
  if (kind === 'float') {
    if (r.describeNext() === 'float64') return r.readFloat()
    r.fail(`key ${quote(key)}: value must be an int or float64, got float32 (the Agent rejects float32)`)
  }
  if (r.tryNil()) return 0
  return r.fail(`key ${quote(key)}: value must be an int or float64, got ${r.describeNext()}`)
}

/** Reads a map header, or nil as an empty map; -1 if the next value is neither. */
export function readMapOrNil (r: MsgpackReader): number {
  if (r.peekKind() === 'map') return r.readMapHeader()
  if (r.tryNil()) return 0
  return -1
}

/** Returns a fresh map: a repeated key replaces the earlier map, as in the Agent. */
export function readMetaMap (r: MsgpackReader, w: Where): Record<string, string> {
  const n = readMapOrNil(r)
  if (n < 0) fieldError(r, w, `must be a map, got ${r.describeNext()}`)
  const out: Record<string, string> = {}
  for (let i = 0; i < n; i++) {
    const key = readMapKey(r)
    const kind = r.peekKind()
    let value = ''
    if (kind === 'str' || kind === 'bin') value = r.readStringOrBin()
    else if (!r.tryNil()) r.fail(`key ${quote(key)}: value must be a string, got ${r.describeNext()}`)
    setOwn(out, key, value)
  }
  return out
}

export function readMetricsMap (r: MsgpackReader, w: Where): Record<string, number> {
  const n = readMapOrNil(r)
  if (n < 0) fieldError(r, w, `must be a map, got ${r.describeNext()}`)
  const out: Record<string, number> = {}
  for (let i = 0; i < n; i++) {
    const key = readMapKey(r)
    setOwn(out, key, readMetricValue(r, key))
  }
  return out
}

export function readMetaStructMap (r: MsgpackReader, w: Where): Record<string, Uint8Array> {
  const n = readMapOrNil(r)
  if (n < 0) fieldError(r, w, `must be a map, got ${r.describeNext()}`)
  const out: Record<string, Uint8Array> = {}
  for (let i = 0; i < n; i++) {
    if (r.peekKind() !== 'str') r.fail(`key must be str, got ${r.describeNext()}`)
    const key = r.readString()
    if (r.peekKind() !== 'bin') {
      r.fail(`key ${quote(key)}: value must be bin (a msgpack document), got ${r.describeNext()}`)
    }
    setOwn(out, key, r.readBin())
  }
  return out
}

/** A map key for meta/metrics: str or bin (nil reads as ""), as the Agent's string parser. */
export function readMapKey (r: MsgpackReader): string {
  const kind = r.peekKind()
  if (kind === 'str' || kind === 'bin') return r.readStringOrBin()
  if (r.tryNil()) return ''
  return r.fail(`key must be a string, got ${r.describeNext()}`)
}
