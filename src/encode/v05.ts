import { log } from '../diag/logger.js'
import { epochNsHigh, epochNsLow } from '../model/clock.js'
import type { SpanData } from '../model/span_data.js'
import type { EncodeStats } from './encode_stats.js'
import { MsgpackWriter } from './msgpack_writer.js'
import { allocPayload, arrayHeaderSize, putArrayHeader } from './payload_buffer.js'
import {
  coerceMetaValue, durationField, hop, objectPrototypeIsClean, skippedMetric, stringField, unreadableMap, writeHexId,
} from './span_fields.js'

/**
 * Trace payload v0.5 (`PUT /v0.5/traces`): `[string_table, chunks]`. Every string is sent once in
 * the table (index 0 is ""), and each span is a fixed 12-element array
 * `[service, name, resource, trace_id, span_id, parent_id, start, duration, error, meta, metrics, type]`
 * whose strings, meta keys and values and metric keys are table indices (smallest uint).
 * Ids (uint64 0xcf), start (int64 0xd3), error and metric values have the same wire types as
 * in v0.4; duration is the smallest non-negative int.
 *
 * v0.5 has no slot for meta_struct: it is dropped and counted in `stats.metaStructDropped`
 * (which is why LLM Observability forces v0.4).
 *
 * The table and the chunks are built in two writers as chunks arrive, so `finish()` is one copy.
 * A chunk that would take the payload past `maxBytes` is rolled back entirely, table included.
 */

/** `addChunk` results that are not a byte count. */
export const V05_OVERFLOW = -1
export const V05_ERROR = -2

export interface V05PayloadBuilderOptions {
  /** Cap on the finished payload, in bytes (default 64 MiB). */
  maxBytes?: number
}

export class V05PayloadBuilder {
  private readonly maxBytes: number
  private readonly ids = new Map<string, number>()
  /** Table strings in index order; only needed to roll a chunk's new strings back. */
  private readonly table: string[] = []
  private readonly strings: MsgpackWriter
  private readonly chunks: MsgpackWriter
  private chunkTotal = 0
  private protoClean = true

  constructor (options: V05PayloadBuilderOptions = {}) {
    const max = options.maxBytes
    this.maxBytes = max !== undefined && Number.isInteger(max) && max > 0 ? max : 64 * 1024 * 1024
    this.strings = new MsgpackWriter({ initialCapacity: 16 * 1024, maxCapacity: this.maxBytes })
    this.chunks = new MsgpackWriter({ maxCapacity: this.maxBytes })
    this.reset()
  }

  get chunkCount (): number { return this.chunkTotal }

  /** Size of the payload `finish()` would return now. */
  get length (): number {
    return 1 + arrayHeaderSize(this.table.length) + this.strings.length +
      arrayHeaderSize(this.chunkTotal) + this.chunks.length
  }

  /**
   * Adds one chunk; returns the bytes it added (its spans plus its new table strings), or
   * V05_OVERFLOW when it would pass `maxBytes`, or V05_ERROR on an internal error. On either
   * failure nothing was added.
   */
  addChunk (spans: readonly SpanData[], stats: EncodeStats): number {
    const stringsMark = this.strings.length
    const chunksMark = this.chunks.length
    const tableMark = this.table.length
    this.protoClean = objectPrototypeIsClean()
    try {
      const n = spans.length
      this.chunks.writeArrayHeader(n)
      for (let i = 0; i < n && !this.chunks.overflowed && !this.strings.overflowed; i++) {
        this.encodeSpan(spans[i], stats)
      }
    } catch (err) {
      log.internalError('encode.v05', err)
      this.rollback(stringsMark, chunksMark, tableMark)
      return V05_ERROR
    }
    if (this.chunks.overflowed || this.strings.overflowed || this.length > this.maxBytes) {
      this.rollback(stringsMark, chunksMark, tableMark)
      return V05_OVERFLOW
    }
    this.chunkTotal++
    return this.strings.length - stringsMark + this.chunks.length - chunksMark
  }

  /** The payload body (a copy; the builder can be reset and reused right away). */
  finish (): Buffer {
    const body = allocPayload(this.length)
    let p = putArrayHeader(body, 0, 2)
    p = putArrayHeader(body, p, this.table.length)
    body.set(this.strings.view(), p)
    p = putArrayHeader(body, p + this.strings.length, this.chunkTotal)
    body.set(this.chunks.view(), p)
    return body
  }

  reset (): void {
    this.ids.clear()
    this.table.length = 0
    this.strings.reset()
    this.chunks.reset()
    this.chunkTotal = 0
    this.index('')
  }

  private index (s: string): number {
    let i = this.ids.get(s)
    if (i === undefined) {
      i = this.table.length
      this.ids.set(s, i)
      this.table.push(s)
      this.strings.writeString(s)
    }
    return i
  }

  private rollback (stringsMark: number, chunksMark: number, tableMark: number): void {
    for (let i = tableMark; i < this.table.length; i++) this.ids.delete(this.table[i])
    this.table.length = tableMark
    this.strings.truncate(stringsMark)
    this.chunks.truncate(chunksMark)
  }

  private encodeSpan (span: SpanData, stats: EncodeStats): void {
    const out = this.chunks
    out.writeArrayHeader(12)
    out.writeInt(this.index(typeof span.service === 'string' ? span.service : stringField(span.service, stats)))
    out.writeInt(this.index(typeof span.name === 'string' ? span.name : stringField(span.name, stats)))
    out.writeInt(this.index(typeof span.resource === 'string' ? span.resource : stringField(span.resource, stats)))
    writeHexId(out, span.traceId, stats)
    writeHexId(out, span.spanId, stats)
    writeHexId(out, span.parentId, stats)
    out.writeInt64Halves(epochNsHigh(span.startSec, span.startNsec), epochNsLow(span.startSec, span.startNsec))
    out.writeInt(durationField(span.duration, stats))
    out.writeInt(span.error ? 1 : 0)
    this.writeMeta(span.meta, stats)
    this.writeMetrics(span.metrics, stats)
    out.writeInt(this.index(typeof span.type === 'string' ? span.type : stringField(span.type, stats)))
    const metaStruct = span.metaStruct
    if (metaStruct !== undefined && metaStruct !== null && typeof metaStruct === 'object') dropMetaStruct(metaStruct, stats)
  }

  private writeMeta (meta: Record<string, unknown>, stats: EncodeStats): void {
    const out = this.chunks
    if (meta === null || typeof meta !== 'object') { out.writeMapHeader(0); return }
    const own = !this.protoClean
    let at = -1
    let n = 0
    let count = 0
    try {
      for (const k in meta) if (!own || hop.call(meta, k)) n++
      at = out.reserveMapHeader(n)
      for (const k in meta) {
        if (count === n) break // a getter added keys: the header cannot grow
        if (own && !hop.call(meta, k)) continue
        let v = meta[k]
        if (typeof v !== 'string') {
          v = coerceMetaValue(v, stats)
          if (v === undefined) continue
        }
        out.writeInt(this.index(k))
        out.writeInt(this.index(v as string))
        count++
      }
    } catch {
      unreadableMap(out, at, stats)
      return
    }
    if (count !== n) out.patchHeader(at, count)
  }

  private writeMetrics (metrics: Record<string, unknown>, stats: EncodeStats): void {
    const out = this.chunks
    if (metrics === null || typeof metrics !== 'object') { out.writeMapHeader(0); return }
    const own = !this.protoClean
    let at = -1
    let n = 0
    let count = 0
    try {
      for (const k in metrics) if (!own || hop.call(metrics, k)) n++
      at = out.reserveMapHeader(n)
      for (const k in metrics) {
        if (count === n) break
        if (own && !hop.call(metrics, k)) continue
        const v = metrics[k]
        if (typeof v !== 'number' || v - v !== 0) { skippedMetric(stats); continue }
        out.writeInt(this.index(k))
        out.writeInt(v)
        count++
      }
    } catch {
      unreadableMap(out, at, stats)
      return
    }
    if (count !== n) out.patchHeader(at, count)
  }
}

function dropMetaStruct (metaStruct: Record<string, unknown>, stats: EncodeStats): void {
  let dropped = 0
  for (const k of Object.keys(metaStruct)) {
    try {
      if (metaStruct[k] !== undefined) dropped++
    } catch {
      dropped++
    }
  }
  if (dropped === 0) return
  stats.metaStructDropped += dropped
  log.warnOnce('encode.v05:meta_struct',
    'meta_struct cannot travel in trace payload v0.5 and was dropped (use v0.4; further drops are counted silently)')
}
