import { log } from '../diag/logger.js'
import { epochNsHigh, epochNsLow } from '../trace/clock.js'
import type { SpanData } from '../trace/span_data.js'
import type { EncodeStats } from './encode_stats.js'
import { PLACEHOLDER_GETTER, encodeMetaStructValue, encodePlaceholder } from './meta_struct.js'
import { MsgpackWriter } from './msgpack_writer.js'
import { coerceMetaValue, durationField, skippedMetric, stringField, writeHexId } from './span_fields.js'

/**
 * Trace payload v0.4 (`PUT /v0.4/traces`): a msgpack array of chunks, each an array of span maps.
 *
 * Wire types, chosen for the Agent's decoder (which takes any int width for ids and times):
 * - trace_id, span_id, parent_id: uint64, always 0xcf (fixed width, unambiguous, as dd-trace-js);
 *   parent_id 0 for a root.
 * - start: int64, always 0xd3, exact (from the (sec, nsec) pair without BigInt).
 * - duration: smallest non-negative int. error: fixint 0/1.
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

const K_TRACE_ID = key('trace_id')
const K_SPAN_ID = key('span_id')
const K_PARENT_ID = key('parent_id')
const K_SERVICE = key('service')
const K_NAME = key('name')
const K_RESOURCE = key('resource')
const K_TYPE = key('type')
const K_START = key('start')
const K_DURATION = key('duration')
const K_ERROR_0 = Uint8Array.from([...key('error'), 0x00])
const K_ERROR_1 = Uint8Array.from([...key('error'), 0x01])
const K_META = key('meta')
const K_METRICS = key('metrics')
const K_META_STRUCT = key('meta_struct')

/**
 * Appends one chunk (an array of span maps) to `out`. On 'overflow' or 'error' the writer is
 * rewound to where it was, so the caller can flush what it has and retry, or drop the chunk.
 */
export function encodeChunkV04 (spans: readonly SpanData[], out: MsgpackWriter, stats: EncodeStats): EncodeResult {
  if (out.overflowed) return 'overflow'
  const mark = out.length
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

/** A whole payload body from chunks encoded by `encodeChunkV04` (copies them once). */
export function assemblePayloadV04 (chunks: readonly Uint8Array[]): Buffer {
  let total = 0
  for (let i = 0; i < chunks.length; i++) total += chunks[i].length
  const header = new MsgpackWriter({ initialCapacity: 8 })
  header.writeArrayHeader(chunks.length)
  const body = Buffer.allocUnsafe(header.length + total)
  body.set(header.view(), 0)
  let p = header.length
  for (let i = 0; i < chunks.length; i++) {
    body.set(chunks[i], p)
    p += chunks[i].length
  }
  return body
}

function encodeSpan (span: SpanData, out: MsgpackWriter, stats: EncodeStats): void {
  const header = out.reserveMapHeader(13)
  out.writeRaw(K_TRACE_ID)
  writeHexId(out, span.traceId, stats)
  out.writeRaw(K_SPAN_ID)
  writeHexId(out, span.spanId, stats)
  out.writeRaw(K_PARENT_ID)
  writeHexId(out, span.parentId, stats)
  out.writeRaw(K_SERVICE)
  out.writeString(typeof span.service === 'string' ? span.service : stringField(span.service, stats))
  out.writeRaw(K_NAME)
  out.writeString(typeof span.name === 'string' ? span.name : stringField(span.name, stats))
  out.writeRaw(K_RESOURCE)
  out.writeString(typeof span.resource === 'string' ? span.resource : stringField(span.resource, stats))
  out.writeRaw(K_TYPE)
  out.writeString(typeof span.type === 'string' ? span.type : stringField(span.type, stats))
  out.writeRaw(K_START)
  out.writeInt64Halves(epochNsHigh(span.startSec, span.startNsec), epochNsLow(span.startSec, span.startNsec))
  out.writeRaw(K_DURATION)
  out.writeInt(durationField(span.duration, stats))
  out.writeRaw(span.error ? K_ERROR_1 : K_ERROR_0)
  out.writeRaw(K_META)
  writeMeta(span.meta, out, stats)
  out.writeRaw(K_METRICS)
  writeMetrics(span.metrics, out, stats)
  const metaStruct = span.metaStruct
  if (metaStruct === undefined || metaStruct === null || typeof metaStruct !== 'object' ||
    !writeMetaStruct(metaStruct, out, stats)) {
    out.patchMapHeader(header, 12)
  }
}

function writeMeta (meta: Record<string, unknown>, out: MsgpackWriter, stats: EncodeStats): void {
  if (meta === null || typeof meta !== 'object') { out.writeMapHeader(0); return }
  const keys = Object.keys(meta)
  const n = keys.length
  const at = out.reserveMapHeader(n)
  let count = n
  for (let i = 0; i < n; i++) {
    const k = keys[i]
    let v = meta[k]
    if (typeof v !== 'string') {
      v = coerceMetaValue(v, stats)
      if (v === undefined) { count--; continue }
    }
    out.writeString(k)
    out.writeString(v as string)
  }
  if (count !== n) out.patchMapHeader(at, count)
}

function writeMetrics (metrics: Record<string, unknown>, out: MsgpackWriter, stats: EncodeStats): void {
  if (metrics === null || typeof metrics !== 'object') { out.writeMapHeader(0); return }
  const keys = Object.keys(metrics)
  const n = keys.length
  const at = out.reserveMapHeader(n)
  let count = n
  for (let i = 0; i < n; i++) {
    const k = keys[i]
    const v = metrics[k]
    // `v - v` is 0 for finite numbers and NaN for NaN/±Infinity.
    if (typeof v !== 'number' || v - v !== 0) { skippedMetric(stats); count--; continue }
    out.writeString(k)
    out.writeInt(v)
  }
  if (count !== n) out.patchMapHeader(at, count)
}

/** Writes `meta_struct` unless it has nothing to send; returns whether it wrote it. */
function writeMetaStruct (metaStruct: Record<string, unknown>, out: MsgpackWriter, stats: EncodeStats): boolean {
  const keys = Object.keys(metaStruct)
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
  if (count !== n) out.patchMapHeader(at, count)
  return true
}
