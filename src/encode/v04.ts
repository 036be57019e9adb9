import { log } from '../diag/logger.js'
import { epochNsHigh, epochNsLow } from '../model/clock.js'
import type { SpanData } from '../model/span_data.js'
import type { EncodeStats } from './encode_stats.js'
import { PLACEHOLDER_GETTER, encodeMetaStructValue, encodePlaceholder } from './meta_struct.js'
import { MsgpackWriter } from './msgpack_writer.js'
import { allocPayload, arrayHeaderSize, putArrayHeader } from './payload_buffer.js'
import {
  coerceMetaValue, durationField, hop, objectPrototypeIsClean, parseHexId, parsedId, skippedMetric, stringField, unreadableMap,
  unreadableMetaStruct,
} from './span_fields.js'

/**
 * Trace payload v0.4 (`PUT /v0.4/traces`): a msgpack array of chunks, each an array of span maps.
 *
 * Wire types, chosen for the Agent's decoder (which takes any int width for ids and times):
 * - trace_id, span_id, parent_id: uint64, always 0xcf (fixed width, unambiguous, as dd-trace-js);
 *   parent_id 0 for a root.
 * - start and duration: int64, always 0xd3 (fixed width lets the constant keys around them be
 *   one template); start is exact, from the (sec, nsec) pair without BigInt. error: fixint 0/1.
 * - meta: map str→str. metrics: map str→(smallest int | float64); never float32 (rejected).
 * - meta_struct: map str→bin, each bin a separate msgpack document; the key is left out when
 *   there is nothing to send.
 *
 * Chunks are encoded one at a time so a writer can buffer them separately and build payloads of
 * any subset (split on 413, cap per payload) with `assemblePayloadV04`, without re-encoding.
 */

/** 'overflow': the writer's cap was reached; 'error': an internal bug. Either way nothing was appended. */
export type EncodeResult = 'ok' | 'overflow' | 'error'

function key (s: string): Uint8Array {
  const w = new MsgpackWriter({ initialCapacity: 64 })
  w.writeString(s)
  return w.toBuffer()
}

// The constant keys and fixed-width values come first (map order is free), so they are one
// template copy per span whose value slots are filled in place.
const head = new MsgpackWriter({ initialCapacity: 128 })
head.writeMapHeader(13)
head.writeString('trace_id')
head.writeUint64Halves(0, 0)
const AT_TRACE_ID = head.length - 8
head.writeString('span_id')
head.writeUint64Halves(0, 0)
const AT_SPAN_ID = head.length - 8
head.writeString('parent_id')
head.writeUint64Halves(0, 0)
const AT_PARENT_ID = head.length - 8
head.writeString('start')
head.writeInt64Halves(0, 0)
const AT_START = head.length - 8
head.writeString('duration')
head.writeInt64Halves(0, 0)
const AT_DURATION = head.length - 8
head.writeString('error')
head.writeInt(0)
const AT_ERROR = head.length - 1
head.writeString('service')
const T_HEAD = head.toBuffer()

const K_NAME = key('name')
const K_META = key('meta')
const K_RESOURCE = key('resource')
const K_TYPE = key('type')
const K_METRICS = key('metrics')
const K_META_STRUCT = key('meta_struct')
const TWO_32 = 4294967296
const OTEL_TRACE_ID = 'otel.trace_id'

// Spans of a chunk share their trace id, and siblings their parent id: parse them once per run.
let lastTraceId: unknown
let lastTraceHi = 0
let lastTraceLo = 0
let lastParentId: unknown
let lastParentHi = 0
let lastParentLo = 0
let protoClean = true

/**
 * Appends one chunk (an array of span maps) to `out`. On 'overflow' or 'error' the writer is
 * rewound to where it was, so the caller can flush what it has and retry, or drop the chunk.
 */
export function encodeChunkV04 (spans: readonly SpanData[], out: MsgpackWriter, stats: EncodeStats): EncodeResult {
  if (out.overflowed) return 'overflow'
  const mark = out.length
  protoClean = objectPrototypeIsClean()
  try {
    const n = spans.length
    out.writeArrayHeader(n)
    for (let i = 0; i < n && !out.overflowed; i++) encodeSpan(spans[i], out, stats)
  } catch (err) {
    log.internalError('encode.v04', err)
    out.truncate(mark)
    return 'error'
  }
  if (out.overflowed) {
    out.truncate(mark)
    return 'overflow'
  }
  return 'ok'
}

/**
 * A whole payload written straight into `out` (array header, then each chunk), for callers that
 * have every chunk at hand: the body is then `out.view(mark)` with no further copy. A chunk that
 * fails leaves `out` where it was and is reported; the others are kept.
 */
export function encodePayloadV04 (chunks: ReadonlyArray<readonly SpanData[]>, out: MsgpackWriter, stats: EncodeStats): EncodeResult {
  if (out.overflowed) return 'overflow'
  const mark = out.length
  const at = out.reserveArrayHeader(chunks.length)
  let written = 0
  let result: EncodeResult = 'ok'
  for (let i = 0; i < chunks.length; i++) {
    const r = encodeChunkV04(chunks[i], out, stats)
    if (r === 'ok') written++
    else result = r
  }
  if (out.overflowed) {
    out.truncate(mark)
    return 'overflow'
  }
  if (written !== chunks.length) out.patchHeader(at, written)
  return result
}

/**
 * A whole payload body from chunks encoded by `encodeChunkV04` (copied once; the chunks may be
 * views of a writer that is reused afterwards).
 */
export function assemblePayloadV04 (chunks: readonly Uint8Array[]): Buffer {
  let total = arrayHeaderSize(chunks.length)
  for (let i = 0; i < chunks.length; i++) total += chunks[i].length
  const body = allocPayload(total)
  let p = putArrayHeader(body, 0, chunks.length)
  for (let i = 0; i < chunks.length; i++) {
    body.set(chunks[i], p)
    p += chunks[i].length
  }
  return body
}

function encodeSpan (span: SpanData, out: MsgpackWriter, stats: EncodeStats): void {
  const at = out.writeTemplate(T_HEAD)
  if (at < 0) return
  const traceId = span.traceId
  if (traceId !== lastTraceId || typeof traceId !== 'string') {
    parseHexId(traceId, stats)
    lastTraceId = traceId
    lastTraceHi = parsedId.hi
    lastTraceLo = parsedId.lo
  }
  out.putUint32At(at + AT_TRACE_ID, lastTraceHi)
  out.putUint32At(at + AT_TRACE_ID + 4, lastTraceLo)
  parseHexId(span.spanId, stats)
  out.putUint32At(at + AT_SPAN_ID, parsedId.hi)
  out.putUint32At(at + AT_SPAN_ID + 4, parsedId.lo)
  const parentId = span.parentId
  if (parentId !== lastParentId || typeof parentId !== 'string') {
    parseHexId(parentId, stats)
    lastParentId = parentId
    lastParentHi = parsedId.hi
    lastParentLo = parsedId.lo
  }
  out.putUint32At(at + AT_PARENT_ID, lastParentHi)
  out.putUint32At(at + AT_PARENT_ID + 4, lastParentLo)
  const sec = span.startSec
  const nsec = span.startNsec
  out.putUint32At(at + AT_START, epochNsHigh(sec, nsec))
  out.putUint32At(at + AT_START + 4, epochNsLow(sec, nsec))
  const duration = durationField(span.duration, stats)
  const durationHi = duration < TWO_32 ? 0 : Math.floor(duration / TWO_32)
  out.putUint32At(at + AT_DURATION, durationHi)
  out.putUint32At(at + AT_DURATION + 4, duration - durationHi * TWO_32)
  if (span.error) out.putByteAt(at + AT_ERROR, 1)
  out.writeStringCached(typeof span.service === 'string' ? span.service : stringField(span.service, stats))
  out.writeRaw(K_NAME)
  out.writeStringCached(typeof span.name === 'string' ? span.name : stringField(span.name, stats))
  out.writeRaw(K_RESOURCE)
  out.writeStringCached(typeof span.resource === 'string' ? span.resource : stringField(span.resource, stats))
  out.writeRaw(K_TYPE)
  out.writeStringCached(typeof span.type === 'string' ? span.type : stringField(span.type, stats))
  out.writeRaw(K_META)
  writeMeta(span.meta, out, stats)
  out.writeRaw(K_METRICS)
  writeMetrics(span.metrics, out, stats)
  const metaStruct = span.metaStruct
  if (metaStruct === undefined || metaStruct === null || !writeMetaStruct(metaStruct, out, stats)) {
    out.patchHeader(at, 12)
  }
}

function writeMeta (meta: Record<string, unknown>, out: MsgpackWriter, stats: EncodeStats): void {
  if (meta === null || typeof meta !== 'object') { out.writeMapHeader(0); return }
  // A bare for-in when Object.prototype is clean (see objectPrototypeIsClean).
  let at = -1
  let n = 0
  let count = 0
  try {
    for (const k in meta) if (protoClean || hop.call(meta, k)) n++
    at = out.reserveMapHeader(n)
    for (const k in meta) {
      if (count === n) break // a getter added keys: the header cannot grow
      if (!protoClean && !hop.call(meta, k)) continue
      let v = meta[k]
      if (typeof v !== 'string') {
        v = coerceMetaValue(v, stats)
        if (v === undefined) continue
      }
      out.writeStringCached(k)
      // The OTel bridge's full trace id is new on every trace: caching it would cost a miss, an
      // arena copy and a map insert per span, and push repeated strings out of the cache.
      if ((v as string).length === 32 && k === OTEL_TRACE_ID) out.writeString(v as string)
      else out.writeStringCached(v as string)
      count++
    }
  } catch {
    unreadableMap(out, at, stats)
    return
  }
  if (count !== n) out.patchHeader(at, count)
}

function writeMetrics (metrics: Record<string, unknown>, out: MsgpackWriter, stats: EncodeStats): void {
  if (metrics === null || typeof metrics !== 'object') { out.writeMapHeader(0); return }
  let at = -1
  let n = 0
  let count = 0
  try {
    for (const k in metrics) if (protoClean || hop.call(metrics, k)) n++
    at = out.reserveMapHeader(n)
    for (const k in metrics) {
      if (count === n) break
      if (!protoClean && !hop.call(metrics, k)) continue
      const v = metrics[k]
      // `v - v` is 0 for finite numbers and NaN for NaN/±Infinity.
      if (typeof v !== 'number' || v - v !== 0) { skippedMetric(stats); continue }
      out.writeStringCached(k)
      out.writeInt(v)
      count++
    }
  } catch {
    unreadableMap(out, at, stats)
    return
  }
  if (count !== n) out.patchHeader(at, count)
}

/** Writes `meta_struct` unless it has nothing to send; returns whether it wrote it. */
function writeMetaStruct (metaStruct: Record<string, unknown>, out: MsgpackWriter, stats: EncodeStats): boolean {
  let keys: string[]
  try {
    if (typeof metaStruct !== 'object') throw new TypeError('meta_struct is not an object')
    keys = Object.keys(metaStruct)
  } catch {
    unreadableMetaStruct(stats)
    return false
  }
  const n = keys.length
  if (n === 0) return false
  const start = out.length
  out.writeRaw(K_META_STRUCT)
  const at = out.reserveMapHeader(n)
  let count = 0
  for (let i = 0; i < n; i++) {
    const k = keys[i]
    let v: unknown
    let threw = false
    try { v = metaStruct[k] } catch { threw = true }
    if (v === undefined && !threw) continue
    out.writeString(k)
    const bin = out.beginBin()
    if (threw) encodePlaceholder(out, stats, PLACEHOLDER_GETTER)
    else encodeMetaStructValue(v, out, stats)
    out.endBin(bin)
    count++
  }
  if (count === 0) {
    if (!out.overflowed) out.truncate(start)
    return false
  }
  if (count !== n) out.patchHeader(at, count)
  return true
}
