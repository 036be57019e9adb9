export { encodeTracesRequest, decodeTracesRequest, encodeTracesResponse, decodeTracesResponse, encodeStatus, decodeStatus } from './otlp_codec.js'
export { MAX_VALUE_DEPTH, OtlpEncodeError } from './otlp_limits.js'
export type {
  OtlpValue, OtlpKvList, OtlpAttribute, OtlpSpanKind, OtlpStatus, OtlpEvent, OtlpLink, OtlpSpan, OtlpScope, OtlpScopeSpans,
  OtlpResourceSpans, OtlpTracesRequest, OtlpPartialSuccess, OtlpTracesResponse, OtlpEncoding, OtlpDecoded,
} from './otlp_types.js'
