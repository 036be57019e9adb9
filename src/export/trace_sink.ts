import type { Chunk, TraceState } from '../model/trace_state.js'
import type { FateListener } from './payload_fate.js'

/**
 * Where finished chunks go: the Datadog agent's trace writer, or the OTLP exporter. Either one
 * reports every chunk's fate (with its riders) to its listeners, which is all LLM Observability's
 * ledger relies on.
 */
export interface TraceSink {
  append (chunk: Chunk): void
  /** A chunk whose APM export is off: its riders' fate is still reported. */
  discard (chunk: Chunk): void
  flush (timeoutMs?: number): Promise<void>
  flushTrace (trace: TraceState, timeoutMs: number): Promise<void>
  shutdown (timeoutMs?: number): Promise<void>
  readonly hasPending: boolean
  onPayloadSettled (listener: FateListener): () => void
}
