import type { TraceState } from '../model/trace_state.js'

/**
 * The part of a span that crosses process boundaries and parents children: which trace, which
 * span. Extracted contexts (from headers) carry a TraceState built from the upstream values.
 */
export class SpanContext {
  /** @internal */
  readonly trace: TraceState
  readonly spanId: string
  /** True for contexts extracted from headers (the parent lives in another process). */
  readonly remote: boolean

  /** @internal Contexts come from `tracer.extract()` or `span.context()`. */
  constructor (trace: TraceState, spanId: string, remote: boolean) {
    this.trace = trace
    this.spanId = spanId
    this.remote = remote
  }

  /** Full trace id, 32 lowercase hex chars. */
  toTraceId (): string { return this.trace.traceIdHigh + this.trace.traceIdLow }

  /** Span id, 16 lowercase hex chars. */
  toSpanId (): string { return this.spanId }
}
