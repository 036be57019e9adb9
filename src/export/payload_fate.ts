/** Why chunks did not reach the agent. */
export type TraceFailureReason =
  | 'buffer_full'      // buffered + in-flight bytes at the cap
  | 'encoding_error'   // the chunk could not be encoded (e.g. larger than the encoder cap)
  | 'too_large'        // 413 for a single chunk
  | 'refused'          // other 4xx
  | 'retries_exhausted' // network errors / 429 / 5xx past the retry budget
  | 'shutdown'         // the writer was shut down before the chunk could be sent
  | 'not_exported'     // APM export is off (LLM Observability without APM) and the chunk carried riders

/**
 * What happened to a set of chunks handed to the trace writer. Every chunk appended is reported
 * exactly once, acknowledged or failed, with the riders of those chunks (Chunk.riders): the
 * LLMObs ledger relies on that to release or rescue the events riding on them.
 */
export type PayloadFate =
  | { acknowledged: true, chunkCount: number, riders: unknown[], status: number }
  | { acknowledged: false, chunkCount: number, riders: unknown[], reason: TraceFailureReason, detail: string, status?: number }

export type FateListener = (fate: PayloadFate) => void
