import type { OtlpDecoded, OtlpEncoding, OtlpTracesRequest, OtlpTracesResponse } from './otlp_types.js'
import { decodeStatusProtobuf, decodeTracesRequestProtobuf, decodeTracesResponseProtobuf } from './otlp_protobuf_decode.js'
import { encodeStatusProtobuf, encodeTracesRequestProtobuf, encodeTracesResponseProtobuf } from './otlp_protobuf_encode.js'
import { decodeStatusJson, decodeTracesRequestJson, decodeTracesResponseJson } from './otlp_json_decode.js'
import { encodeStatusJson, encodeTracesRequestJson, encodeTracesResponseJson } from './otlp_json_encode.js'

/**
 * The OTLP trace codec: one entry point per message and direction, the encoding chosen by the
 * caller (from a Content-Type or the `_PROTOCOL` setting). Decoders never throw: a body is a value
 * or a reason. Encoders throw `OtlpEncodeError` only for values outside the OTLP types (an id
 * that is not hex of the right length, a value nested deeper than MAX_VALUE_DEPTH): a bug in the
 * caller, which catches it as an internal error.
 */

export function encodeTracesRequest (req: OtlpTracesRequest, enc: OtlpEncoding): Uint8Array {
  return enc === 'json' ? encodeTracesRequestJson(req) : encodeTracesRequestProtobuf(req)
}

export function decodeTracesRequest (body: Uint8Array, enc: OtlpEncoding): OtlpDecoded<OtlpTracesRequest> {
  return enc === 'json' ? decodeTracesRequestJson(body) : decodeTracesRequestProtobuf(body)
}

export function encodeTracesResponse (res: OtlpTracesResponse, enc: OtlpEncoding): Uint8Array {
  return enc === 'json' ? encodeTracesResponseJson(res) : encodeTracesResponseProtobuf(res)
}

export function decodeTracesResponse (body: Uint8Array, enc: OtlpEncoding): OtlpDecoded<OtlpTracesResponse> {
  return enc === 'json' ? decodeTracesResponseJson(body) : decodeTracesResponseProtobuf(body)
}

/**
 * The body of an error response (400 and the like): google.rpc.Status in protobuf, `{code,
 * message}` in JSON. `code` is a google.rpc.Code (3 = INVALID_ARGUMENT for a bad request).
 */
export function encodeStatus (code: number, message: string, enc: OtlpEncoding): Uint8Array {
  return enc === 'json' ? encodeStatusJson(code, message) : encodeStatusProtobuf(code, message)
}

/** Reads an error body back (what an exporter logs from a 400). */
export function decodeStatus (body: Uint8Array, enc: OtlpEncoding): OtlpDecoded<{ code: number, message: string }> {
  return enc === 'json' ? decodeStatusJson(body) : decodeStatusProtobuf(body)
}
