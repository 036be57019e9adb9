import { describeDecodeFailure } from './decode_error.js'
import { MsgpackReader } from './msgpack_reader.js'
import {
  Where, readInt32Field, readInt64Field, readMetaMap, readMetaStructMap, readMetricsMap,
  readStringField, readUint64Field,
} from './span_fields.js'
import { DEFAULT_MAX_SPANS, type DecodedSpan, type TraceDecodeOptions, type TraceDecodeResult, emptyDecodedSpan, readChunkList } from './trace_span.js'

/**
 * Decodes a `/v0.4/traces` body: an array of chunks, each an array of span maps. Types follow
 * the Agent (see span_fields.ts); unknown span keys (`span_links`, `span_events`, ...) are
 * skipped; a nil span entry, which the Agent also accepts, is left out of its chunk. Reasons
 * name the chunk, span and field, e.g. `chunk 0 span 3: field "meta" must be a map, got str
 * (at offset 812)`. Never throws.
 */
export function decodeV04 (body: Uint8Array, options: TraceDecodeOptions = {}): TraceDecodeResult {
  const w = new Where()
  if (!(body instanceof Uint8Array)) return { ok: false, reason: 'body must be bytes (a Uint8Array)' }
  if (body.byteLength === 0) return { ok: false, reason: 'empty body: expected a msgpack array of chunks' }
  const maxSpans = options.maxSpans ?? DEFAULT_MAX_SPANS
  try {
    const r = new MsgpackReader(body, options.limits)
    if (r.peekKind() !== 'array') r.fail(`body must be an array of chunks, got ${r.describeNext()}`)
    const chunks = readChunkList(r, w, maxSpans, () => r.tryNil() ? undefined : readSpan(r, w))
    r.expectEnd()
    return { ok: true, chunks }
  } catch (err) {
    return { ok: false, reason: w.describe(describeDecodeFailure(err)) }
  }
}

function readSpan (r: MsgpackReader, w: Where): DecodedSpan {
  if (r.peekKind() !== 'map') r.fail(`span must be a map, got ${r.describeNext()}`)
  const n = r.readMapHeader()
  const span = emptyDecodedSpan()
  for (let i = 0; i < n; i++) {
    const kind = r.peekKind()
    if (kind !== 'str' && kind !== 'bin') r.fail(`span map key must be a string, got ${r.describeNext()}`)
    const key = r.readStringOrBin()
    w.field = key
    switch (key) {
      case 'trace_id': span.traceId = readUint64Field(r, w); break
      case 'span_id': span.spanId = readUint64Field(r, w); break
      case 'parent_id': span.parentId = readUint64Field(r, w); break
      case 'service': span.service = readStringField(r, w); break
      case 'name': span.name = readStringField(r, w); break
      case 'resource': span.resource = readStringField(r, w); break
      case 'type': span.type = readStringField(r, w); break
      case 'start': span.start = readInt64Field(r, w); break
      case 'duration': span.duration = readInt64Field(r, w); break
      case 'error': span.error = readInt32Field(r, w); break
      case 'meta': span.meta = readMetaMap(r, w); break
      case 'metrics': span.metrics = readMetricsMap(r, w); break
      case 'meta_struct': span.metaStruct = readMetaStructMap(r, w); break
      default: r.skip()
    }
    w.field = undefined
  }
  return span
}
