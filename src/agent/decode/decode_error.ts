/**
 * How the agent's decoders fail: `DecodeError` is thrown inside a decoder (with the byte offset
 * where the problem was found) and caught at its public entry point, which returns a result
 * union with a reason meant for an HTTP 400 body.
 */
export class DecodeError extends Error {
  readonly code = 'ERR_DECODE'
  /** Byte offset in the body where the problem was found. */
  readonly offset: number
  constructor (message: string, offset: number) {
    super(message)
    this.name = 'DecodeError'
    this.offset = offset
  }
}

export type DecodeResult<T> = { ok: true, value: T } | { ok: false, reason: string }

/** "<message> (at offset N)" for a DecodeError; any other throwable is a decoder bug, still reported. */
export function describeDecodeFailure (err: unknown): string {
  if (err instanceof DecodeError) return `${err.message} (at offset ${err.offset})`
  // Stack exhaustion cannot happen within the depth limit, but a reason beats a crash.
  if (err instanceof RangeError) return `body could not be decoded: ${err.message}`
  return `decoder failure: ${err instanceof Error ? err.message : String(err)}`
}
