import { createRequire } from 'node:module'
import type { OtlpAttribute, OtlpSpan, OtlpTracesRequest, OtlpTracesResponse, OtlpValue } from './otlp_types.js'
import { otlpProtoTypes } from './otlp_proto_root.js'
import { hexToBytes } from './otlp_ids.js'
import { toLongBits, type LongLike } from './otlp_long.js'
import { MAX_VALUE_DEPTH, OtlpEncodeError } from './otlp_limits.js'

function id (hex: string, bytes: number, what: string): Uint8Array {
  const b = hexToBytes(hex, bytes)
  if (b === undefined) throw new OtlpEncodeError(`${what} ${JSON.stringify(String(hex).slice(0, 40))} is not ${bytes * 2} hex digits`)
  return b
}

/**
 * The request is the exporter's hot path, so it is written field by field with protobufjs's
 * Writer (fork/ldelim for the nested lengths) instead of building message objects for its
 * reflection encoder: that object graph and the { low, high } per timestamp made our encoding
 * cost 1.2× the official serializer's instructions. Field numbers and wire types are those of the
 * official definitions (the round-trip tests decode these bytes with protobufjs loaded from the
 * .proto text). Defaults are skipped as proto3 does, except inside AnyValue's oneof, where the set
 * member is written even when it holds its default ('' / false / 0) so the receiver knows which.
 */
export function encodeTracesRequestProtobuf (req: OtlpTracesRequest): Uint8Array {
  const w = otlpWriter()
  for (const rs of req.resourceSpans) {
    w.uint32(0x0a).fork()
    w.uint32(0x0a).fork()
    writeAttributes(w, rs.resource.attributes, 0x0a, 0)
    if (rs.resource.droppedAttributesCount !== 0) w.uint32(0x10).uint32(rs.resource.droppedAttributesCount)
    w.ldelim()
    for (const ss of rs.scopeSpans) {
      w.uint32(0x12).fork()
      const sc = ss.scope
      w.uint32(0x0a).fork()
      if (sc.name !== '') w.uint32(0x0a).string(sc.name)
      if (sc.version !== '') w.uint32(0x12).string(sc.version)
      writeAttributes(w, sc.attributes, 0x1a, 0)
      if (sc.droppedAttributesCount !== 0) w.uint32(0x20).uint32(sc.droppedAttributesCount)
      w.ldelim()
      for (const sp of ss.spans) writeSpan(w, sp)
      if (ss.schemaUrl !== '') w.uint32(0x1a).string(ss.schemaUrl)
      w.ldelim()
    }
    if (rs.schemaUrl !== '') w.uint32(0x1a).string(rs.schemaUrl)
    w.ldelim()
  }
  return w.finish()
}

interface ProtoWriter {
  uint32 (v: number): ProtoWriter
  int64 (v: LongLike): ProtoWriter
  fixed32 (v: number): ProtoWriter
  double (v: number): ProtoWriter
  bool (v: boolean): ProtoWriter
  string (v: string): ProtoWriter
  bytes (v: Uint8Array): ProtoWriter
  fork (): ProtoWriter
  ldelim (): ProtoWriter
  finish (): Uint8Array
}

let writerClass: { create (): ProtoWriter } | undefined

function otlpWriter (): ProtoWriter {
  if (writerClass === undefined) {
    const require = createRequire(import.meta.url)
    writerClass = (require('protobufjs/light.js') as { Writer: { create (): ProtoWriter } }).Writer
  }
  return writerClass.create()
}

function writeSpan (w: ProtoWriter, s: OtlpSpan): void {
  w.uint32(0x12).fork()
  w.uint32(0x0a).bytes(id(s.traceId, 16, 'traceId'))
  w.uint32(0x12).bytes(id(s.spanId, 8, 'spanId'))
  if (s.traceState !== '') w.uint32(0x1a).string(s.traceState)
  if (s.parentSpanId !== '') w.uint32(0x22).bytes(id(s.parentSpanId, 8, 'parentSpanId'))
  if (s.name !== '') w.uint32(0x2a).string(s.name)
  if (s.kind !== 0) w.uint32(0x30).uint32(s.kind)
  fixed64(w.uint32(0x39), s.startTimeUnixNano)
  fixed64(w.uint32(0x41), s.endTimeUnixNano)
  writeAttributes(w, s.attributes, 0x4a, 0)
  if (s.droppedAttributesCount !== 0) w.uint32(0x50).uint32(s.droppedAttributesCount)
  for (const e of s.events) {
    w.uint32(0x5a).fork()
    fixed64(w.uint32(0x09), e.timeUnixNano)
    if (e.name !== '') w.uint32(0x12).string(e.name)
    writeAttributes(w, e.attributes, 0x1a, 0)
    if (e.droppedAttributesCount !== 0) w.uint32(0x20).uint32(e.droppedAttributesCount)
    w.ldelim()
  }
  if (s.droppedEventsCount !== 0) w.uint32(0x60).uint32(s.droppedEventsCount)
  for (const l of s.links) {
    w.uint32(0x6a).fork()
    w.uint32(0x0a).bytes(id(l.traceId, 16, 'link traceId'))
    w.uint32(0x12).bytes(id(l.spanId, 8, 'link spanId'))
    if (l.traceState !== '') w.uint32(0x1a).string(l.traceState)
    writeAttributes(w, l.attributes, 0x22, 0)
    if (l.droppedAttributesCount !== 0) w.uint32(0x28).uint32(l.droppedAttributesCount)
    if (l.flags !== 0) w.uint32(0x35).fixed32(l.flags)
    w.ldelim()
  }
  if (s.droppedLinksCount !== 0) w.uint32(0x70).uint32(s.droppedLinksCount)
  if (s.status.code !== 0 || s.status.message !== '') {
    w.uint32(0x7a).fork()
    if (s.status.message !== '') w.uint32(0x12).string(s.status.message)
    if (s.status.code !== 0) w.uint32(0x18).uint32(s.status.code)
    w.ldelim()
  }
  // Field 16, wire type 5: tag 133, a two-byte varint.
  if (s.flags !== 0) w.uint32(133).fixed32(s.flags)
  w.ldelim()
}

/** fixed64 is little-endian: the low word, then the high one. */
function fixed64 (w: ProtoWriter, v: bigint): void {
  const u = BigInt.asUintN(64, v)
  w.fixed32(Number(u & 0xffffffffn)).fixed32(Number(u >> 32n))
}

function writeAttributes (w: ProtoWriter, attrs: OtlpAttribute[], tag: number, depth: number): void {
  for (let i = 0; i < attrs.length; i++) {
    const a = attrs[i]
    w.uint32(tag).fork()
    if (a.key !== '') w.uint32(0x0a).string(a.key)
    w.uint32(0x12).fork()
    writeAnyValue(w, a.value, depth)
    w.ldelim()
    w.ldelim()
  }
}

/** The AnyValue's fields (its own length is the caller's). */
function writeAnyValue (w: ProtoWriter, v: OtlpValue, depth: number): void {
  switch (typeof v) {
    case 'string': w.uint32(0x0a).string(v); return
    case 'boolean': w.uint32(0x10).bool(v); return
    case 'number': w.uint32(0x21).double(v); return
    case 'bigint': w.uint32(0x18).int64(toLongBits(v)); return
  }
  if (v === null || v === undefined) return
  if (depth >= MAX_VALUE_DEPTH - 1) throw new OtlpEncodeError(`an attribute value nests deeper than ${MAX_VALUE_DEPTH} levels`)
  if (v instanceof Uint8Array) { w.uint32(0x3a).bytes(v); return }
  if (Array.isArray(v)) {
    w.uint32(0x2a).fork()
    for (let i = 0; i < v.length; i++) {
      w.uint32(0x0a).fork()
      writeAnyValue(w, v[i], depth + 1)
      w.ldelim()
    }
    w.ldelim()
    return
  }
  if (typeof v === 'object' && Array.isArray(v.kvlist)) {
    w.uint32(0x32).fork()
    writeAttributes(w, v.kvlist, 0x0a, depth + 1)
    w.ldelim()
    return
  }
  throw new OtlpEncodeError(`an attribute value of type ${typeof v} is not an OTLP value`)
}

export function encodeTracesResponseProtobuf (res: OtlpTracesResponse): Uint8Array {
  const ps = res.partialSuccess
  const msg = ps === undefined ? {} : { partialSuccess: { rejectedSpans: toLongBits(ps.rejectedSpans), errorMessage: ps.errorMessage } }
  return otlpProtoTypes().response.encode(msg).finish()
}

export function encodeStatusProtobuf (code: number, message: string): Uint8Array {
  return otlpProtoTypes().status.encode({ code, message }).finish()
}
