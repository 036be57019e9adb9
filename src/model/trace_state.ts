import type { SpanData } from './span_data.js'

/** Sampling priorities as sent in `_sampling_priority_v1`. */
export const USER_REJECT = -1
export const AUTO_REJECT = 0
export const AUTO_KEEP = 1
export const USER_KEEP = 2

/** Sampling mechanisms, sent as `_dd.p.dm = -<mechanism>`. */
export const MECHANISM_DEFAULT = 0
export const MECHANISM_AGENT_RATE = 1
export const MECHANISM_RULE = 3
export const MECHANISM_MANUAL = 4

/**
 * What all spans of one trace share within this process: ids, the sampling decision, propagated
 * `_dd.p.*` tags and the bookkeeping the aggregator needs to know when a chunk is complete.
 */
export interface TraceState {
  /** High 64 bits of the trace id as 16 hex chars ('0000000000000000' for 64-bit ids). */
  traceIdHigh: string
  /** Low 64 bits, 16 hex chars; this is what goes in each span's `trace_id`. */
  traceIdLow: string
  /** Undefined until decided (at first outbound propagation or first chunk flush). */
  samplingPriority: number | undefined
  /** Set with the decision; undefined for upstream decisions (mechanism is then in tags). */
  mechanism: number | undefined
  origin: string | undefined
  /** Propagated trace tags, keys `_dd.p.*` (not including `_dd.p.tid`, derived from traceIdHigh). */
  tags: Record<string, string>
  /** Other vendors' W3C tracestate members from upstream, re-injected after ours. */
  tracestateOthers: string | undefined
  /** Meta for the local root that extraction produced (`_dd.parent_id`, `_dd.propagation_error`). */
  rootMeta: Record<string, string> | undefined
  /** The first span started in this process for this trace (the local root). */
  localRoot: SpanData | undefined
  /** Spans started and not yet finished. */
  open: number
  /** Finished spans waiting to leave as a chunk. */
  finished: SpanData[]
  /** Sampling metrics to put on the first span of the next chunk (`_dd.rule_psr`, ...). */
  pendingMetrics: Record<string, number> | undefined
  /**
   * Where a request-scoped flush finds this trace's work: the trace writer's payloads holding its
   * chunks and the LLMObs records of its events. Slots owned by those layers (opaque here) rather
   * than WeakMaps keyed by the trace: a WeakMap entry per trace cost a hash insert on the hot path
   * and an ephemeron for the GC to trace, and the slots leave with the trace all the same.
   */
  payloadSlot: unknown
  recordSlot: unknown
}

/** A unit of export: finished spans of one trace, sent together. */
export interface Chunk {
  trace: TraceState
  spans: SpanData[]
  /**
   * Things whose fate follows this chunk's delivery (LLMObs events riding on its spans). The
   * writer keeps only these after encoding, not the spans, so memory does not grow with traffic.
   */
  riders?: unknown[]
}

export function newTraceState (traceIdHigh: string, traceIdLow: string): TraceState {
  return {
    traceIdHigh,
    traceIdLow,
    samplingPriority: undefined,
    mechanism: undefined,
    origin: undefined,
    tags: {},
    tracestateOthers: undefined,
    rootMeta: undefined,
    localRoot: undefined,
    open: 0,
    finished: [],
    pendingMetrics: undefined,
    payloadSlot: undefined,
    recordSlot: undefined,
  }
}
