import { describeDecodeFailure } from './decode_error.js'
import { MsgpackReader } from './msgpack_reader.js'
import { setOwn } from './msgpack_value.js'
import { Where, fieldError, readInt32Field, readInt64Field, readMetricValue, readUint64Field } from './span_fields.js'
import { DEFAULT_MAX_SPANS, type DecodedSpan, type TraceDecodeOptions, type TraceDecodeResult, readChunkList } from './trace_span.js'

/**
 * Decodes a `/v0.5/traces` body: `[string_table, chunks]`, each span a fixed 12-element array
 * `[service, name, resource, trace_id, span_id, parent_id, start, duration, error, meta,
 * metrics, type]` whose strings (and meta keys/values, metric keys) are indices into the table.
 *
 * As in the Agent's v0.5 decoder: a span must have exactly 12 elements, an index is an
 * unsigned int below the table size, meta and metrics must be maps (nil is not accepted here),
 * and numeric fields take the same coercions as v0.4. v0.5 has no meta_struct slot, so
 * `metaStruct` is always empty. Never throws.
 */
export function decodeV05 (body: Uint8Array, options: TraceDecodeOptions = {}): TraceDecodeResult {
  const w = new Where()
  if (!(body instanceof Uint8Array)) return { ok: false, reason: 'body must be bytes (a Uint8Array)' }
  if (body.byteLength === 0) return { ok: false, reason: 'empty body: expected a msgpack array [string_table, chunks]' }
  const maxSpans = options.maxSpans ?? DEFAULT_MAX_SPANS
  try {
    const r = new MsgpackReader(body, options.limits)
    if (r.peekKind() !== 'array') r.fail(`body must be an array [string_table, chunks], got ${r.describeNext()}`)
    const at = r.offset
    const top = r.readArrayHeader()
    if (top !== 2) r.fail(`body must be an array of 2 elements [string_table, chunks], got ${top} elements`, at)
    const table = readStringTable(r)
    if (r.peekKind() !== 'array') r.fail(`chunks must be an array, got ${r.describeNext()}`)
    const chunks = readChunkList(r, w, maxSpans, () => readSpan(r, w, table))
    r.expectEnd()
    return { ok: true, chunks }
  } catch (err) {
    return { ok: false, reason: w.describe(describeDecodeFailure(err)) }
  }
}

function readStringTable (r: MsgpackReader): string[] {
  if (r.peekKind() !== 'array') r.fail(`string_table must be an array, got ${r.describeNext()}`)
  const n = r.readArrayHeader()
  const table: string[] = []
  for (let i = 0; i < n; i++) {
    const kind = r.peekKind()
    if (kind === 'str' || kind === 'bin') table.push(r.readStringOrBin())
    else if (r.tryNil()) table.push('')
    else r.fail(`string_table[${i}] must be a string, got ${r.describeNext()}`)
  }
  return table
}

function readSpan (r: MsgpackReader, w: Where, table: readonly string[]): DecodedSpan {
  const at = r.offset
  if (r.peekKind() !== 'array') r.fail(`span must be an array of 12 elements, got ${r.describeNext()}`)
  const n = r.readArrayHeader()
  if (n !== 12) r.fail(`span must be an array of 12 elements, got ${n}`, at)
  w.field = 'service'
  const service = readRef(r, w, table)
  w.field = 'name'
  const name = readRef(r, w, table)
  w.field = 'resource'
  const resource = readRef(r, w, table)
  w.field = 'trace_id'
  const traceId = readUint64Field(r, w)
  w.field = 'span_id'
  const spanId = readUint64Field(r, w)
  w.field = 'parent_id'
  const parentId = readUint64Field(r, w)
  w.field = 'start'
  const start = readInt64Field(r, w)
  w.field = 'duration'
  const duration = readInt64Field(r, w)
  w.field = 'error'
  const error = readInt32Field(r, w)
  w.field = 'meta'
  if (r.peekKind() !== 'map') fieldError(r, w, `must be a map, got ${r.describeNext()}`)
  const nMeta = r.readMapHeader()
  const meta: Record<string, string> = {}
  for (let i = 0; i < nMeta; i++) {
    const key = readRef(r, w, table)
    setOwn(meta, key, readRef(r, w, table))
  }
  w.field = 'metrics'
  if (r.peekKind() !== 'map') fieldError(r, w, `must be a map, got ${r.describeNext()}`)
  const nMetrics = r.readMapHeader()
  const metrics: Record<string, number> = {}
  for (let i = 0; i < nMetrics; i++) {
    const key = readRef(r, w, table)
    setOwn(metrics, key, readMetricValue(r, key))
  }
  w.field = 'type'
  const type = readRef(r, w, table)
  w.field = undefined
  return { traceId, spanId, parentId, service, name, resource, type, start, duration, error, meta, metrics, metaStruct: {} }
}

/** A string-table index (any unsigned int that fits uint32, as the Agent reads it). */
function readRef (r: MsgpackReader, w: Where, table: readonly string[]): string {
  const at = r.offset
  if (r.peekKind() !== 'int') fieldError(r, w, `must be a string table index, got ${r.describeNext()}`)
  const idx = r.readInteger()
  if (typeof idx !== 'number' || idx < 0 || idx >= table.length) {
    r.fail(`string table index ${idx} out of range (table has ${table.length} strings)`, at)
  }
  return table[idx]
}
