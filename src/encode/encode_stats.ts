/**
 * What the encoders had to repair or leave out, so callers can count it instead of losing data
 * silently. Encoders only ever increment; the caller owns the object and decides when to read or
 * zero it.
 */
export interface EncodeStats {
  /** meta_struct values that could not be encoded and were replaced by a placeholder string. */
  placeholders: number
  /** meta_struct entries left out because the format has no slot for them (v0.5). */
  metaStructDropped: number
  /**
   * Span fields whose runtime type broke the SpanData contract (JS callers) and were repaired:
   * non-string meta values coerced with String(), missing meta values and non-numeric or
   * non-finite metrics skipped, malformed ids sent as 0, non-string names sent as strings.
   */
  fieldsRepaired: number
}

export function newEncodeStats (): EncodeStats {
  return { placeholders: 0, metaStructDropped: 0, fieldsRepaired: 0 }
}
