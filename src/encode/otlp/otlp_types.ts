/**
 * OTLP trace data as plain values: the one shape the exporter builds, the codec writes and reads
 * (protobuf and OTLP/JSON), and the local agent's intake consumes. Ids are lowercase hex because
 * every consumer here (the Datadog mapping, the store, the UI) speaks hex; the codec converts at
 * the wire. 64-bit times are bigint so nanoseconds survive; an attribute's int64 is a bigint and a
 * double is a number, so a value keeps its OTLP type through a round trip.
 */

export type OtlpValue =
  | string
  | boolean
  | number
  | bigint
  | Uint8Array
  | OtlpValue[]
  | OtlpKvList
  | null

/** A kvlist value keeps its entries in order (and duplicate keys, which the wire allows). */
export interface OtlpKvList { kvlist: OtlpAttribute[] }

export interface OtlpAttribute { key: string, value: OtlpValue }

/** OTLP enum numbering: UNSPECIFIED=0, INTERNAL=1, SERVER=2, CLIENT=3, PRODUCER=4, CONSUMER=5. */
export type OtlpSpanKind = 0 | 1 | 2 | 3 | 4 | 5

/** UNSET=0, OK=1, ERROR=2. */
export interface OtlpStatus { code: 0 | 1 | 2, message: string }

export interface OtlpEvent {
  timeUnixNano: bigint
  name: string
  attributes: OtlpAttribute[]
  droppedAttributesCount: number
}

export interface OtlpLink {
  traceId: string
  spanId: string
  traceState: string
  attributes: OtlpAttribute[]
  droppedAttributesCount: number
  flags: number
}

export interface OtlpSpan {
  /** 32 lowercase hex. */
  traceId: string
  /** 16 lowercase hex. */
  spanId: string
  traceState: string
  /** 16 lowercase hex, or '' for a root span. */
  parentSpanId: string
  /** fixed32: low 8 bits are the W3C trace flags; 0x100 "has is-remote", 0x200 "is remote". */
  flags: number
  name: string
  kind: OtlpSpanKind
  startTimeUnixNano: bigint
  endTimeUnixNano: bigint
  attributes: OtlpAttribute[]
  droppedAttributesCount: number
  events: OtlpEvent[]
  droppedEventsCount: number
  links: OtlpLink[]
  droppedLinksCount: number
  status: OtlpStatus
}

export interface OtlpScope { name: string, version: string, attributes: OtlpAttribute[], droppedAttributesCount: number }

export interface OtlpScopeSpans { scope: OtlpScope, spans: OtlpSpan[], schemaUrl: string }

export interface OtlpResourceSpans {
  resource: { attributes: OtlpAttribute[], droppedAttributesCount: number }
  scopeSpans: OtlpScopeSpans[]
  schemaUrl: string
}

export interface OtlpTracesRequest { resourceSpans: OtlpResourceSpans[] }

export interface OtlpPartialSuccess { rejectedSpans: bigint, errorMessage: string }

/** `partialSuccess` is absent on a full success (0 bytes in protobuf, `{}` in JSON). */
export interface OtlpTracesResponse { partialSuccess?: OtlpPartialSuccess }

export type OtlpEncoding = 'protobuf' | 'json'

/** A decode never throws: bad input is a reason a server can send back in its 400. */
export type OtlpDecoded<T> = { ok: true, value: T } | { ok: false, reason: string }
