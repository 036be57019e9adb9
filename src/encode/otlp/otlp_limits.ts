/**
 * How deep AnyValue arrays and kvlists may nest (1 = a scalar attribute). Real attributes nest
 * two or three levels (a list of message objects); the bound keeps a hostile body from costing
 * stack or time, and leaves room under protobufjs's own message-depth limit (100), which counts
 * two levels (AnyValue and ArrayValue) per nesting plus the five levels above an attribute.
 */
export const MAX_VALUE_DEPTH = 32

/** A decode failure inside the codec; the entry points turn it into `{ ok: false, reason }`. */
export class OtlpReject extends Error {
  constructor (reason: string) {
    super(reason)
    this.name = 'OtlpReject'
  }
}

/** Thrown by an encoder given a value outside the OTLP types (a bad id, a cycle): a bug upstream. */
export class OtlpEncodeError extends Error {
  readonly code = 'ERR_LLMOBS_OTLP_ENCODE'
  constructor (message: string) {
    super(message)
    this.name = 'OtlpEncodeError'
  }
}
