import type { DecodeResult } from './decode_error.js'
import type { DecodeLimits, MsgpackReader } from './msgpack_reader.js'
import type { Where } from './span_fields.js'
import { type MsgpackValue, decodeMsgpack } from './msgpack_value.js'

/**
 * A span as the local agent works with it, whichever wire format it came in (v0.4, v0.5).
 * Field types are the Agent's: ids are uint64 and times int64, kept exact as bigint.
 */
export interface DecodedSpan {
  /** Low 64 bits of the trace id; the high 64 bits are meta `_dd.p.tid` on the chunk root. */
  traceId: bigint
  spanId: bigint
  /** 0n for a root. */
  parentId: bigint
  service: string
  name: string
  resource: string
  type: string
  /** Nanoseconds since the Unix epoch (int64). */
  start: bigint
  /** Nanoseconds (int64). */
  duration: bigint
  /** int32 as sent; tracers send 0 or 1. */
  error: number
  meta: Record<string, string>
  metrics: Record<string, number>
  /** Raw bin bytes of each meta_struct value (each a msgpack document): see decodeMetaStructValue. */
  metaStruct: Record<string, Uint8Array>
}

export type TraceDecodeResult = { ok: true, chunks: DecodedSpan[][] } | { ok: false, reason: string }

export interface TraceDecodeOptions {
  limits?: Partial<DecodeLimits>
  /** Spans in one payload, nil entries included (default DEFAULT_MAX_SPANS). */
  maxSpans?: number
}

/**
 * A span costs a few hundred bytes of heap even when its wire form is one byte (`{}`), so the
 * count is capped on its own. 200,000 is far above real payloads (a tracer flushes every second
 * and partially at 300 spans) and bounds that amplification to well under 100 MB.
 */
export const DEFAULT_MAX_SPANS = 200_000

/** A span with every field at the value the Agent gives a missing key. */
export function emptyDecodedSpan (): DecodedSpan {
  return {
    traceId: 0n,
    spanId: 0n,
    parentId: 0n,
    service: '',
    name: '',
    resource: '',
    type: '',
    start: 0n,
    duration: 0n,
    error: 0,
    meta: {},
    metrics: {},
    metaStruct: {},
  }
}

/** Decodes one meta_struct value (e.g. `_llmobs`) with the same strict, bounded reader. */
export function decodeMetaStructValue (bytes: Uint8Array, limits?: Partial<DecodeLimits>): DecodeResult<MsgpackValue> {
  return decodeMsgpack(bytes, limits)
}

/**
 * The chunk list both msgpack trace formats share: an array of chunks, each an array of spans,
 * with the span budget checked before any span is read. `readOne` returns undefined for an entry
 * to leave out (v0.4's nil spans).
 */
export function readChunkList (r: MsgpackReader, w: Where, maxSpans: number, readOne: () => DecodedSpan | undefined): DecodedSpan[][] {
  const nChunks = r.readArrayHeader()
  const chunks: DecodedSpan[][] = []
  let spanCount = 0
  for (let c = 0; c < nChunks; c++) {
    w.chunk = c
    if (r.peekKind() !== 'array') r.fail(`must be an array of spans, got ${r.describeNext()}`)
    const nSpans = r.readArrayHeader()
    spanCount += nSpans
    if (spanCount > maxSpans) r.fail(`more than ${maxSpans} spans in one payload`)
    const chunk: DecodedSpan[] = []
    for (let s = 0; s < nSpans; s++) {
      w.span = s
      const span = readOne()
      if (span !== undefined) chunk.push(span)
    }
    w.span = -1
    chunks.push(chunk)
  }
  w.chunk = -1
  return chunks
}
