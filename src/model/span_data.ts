/**
 * What the pipeline and the encoders need from a finished span. Encoders depend on this shape,
 * not on the Span class, so the local agent and tests can encode plain objects too.
 *
 * Ids are 16-char lowercase hex strings (64 bits); a root's parentId is ZERO_ID. The high 64
 * bits of a 128-bit trace id travel as meta `_dd.p.tid` on the chunk root, not here.
 */
export interface SpanData {
  traceId: string
  spanId: string
  parentId: string
  name: string
  service: string
  resource: string
  type: string
  /**
   * Start in nanoseconds since the Unix epoch, split in two because that number does not fit a
   * double exactly (2^53 ns is ~104 days): whole seconds, and nanoseconds within the second.
   * model/clock.ts turns the pair into int64 halves for the wire.
   */
  startSec: number
  startNsec: number
  /** Duration in nanoseconds (exact below 2^53 ns, about 104 days). */
  duration: number
  error: 0 | 1
  meta: Record<string, string>
  metrics: Record<string, number>
  /** Values are arbitrary JSON-domain documents; each is encoded as its own msgpack bin. */
  metaStruct: Record<string, unknown> | undefined
}

export const ZERO_ID = '0000000000000000'
