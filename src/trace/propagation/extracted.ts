import type { TraceState } from '../../model/trace_state.js'

/**
 * A trace context received from upstream. Ids are lowercase hex like everywhere else in the
 * tracer; the decimal forms of the Datadog headers never leave the propagation code.
 */
export interface ExtractedContext {
  /** High 64 bits of the trace id, 16 hex; '0000000000000000' for a 64-bit trace. */
  traceIdHigh: string
  /** Low 64 bits of the trace id, 16 hex; never all zeros. */
  traceIdLow: string
  /**
   * The upstream span, 16 hex: the parent of our first span. May be all zeros when a Datadog
   * header says `x-datadog-parent-id: 0` (both dd-trace-js and dd-trace-py accept it): our first
   * span is then a root inside a trace whose id was chosen upstream.
   */
  parentId: string
  /** Upstream sampling decision, if any; the caller honours it instead of sampling. */
  samplingPriority?: number
  origin?: string
  /** Propagated `_dd.p.*` tags, except `_dd.p.tid`, which became traceIdHigh. */
  tags: Record<string, string>
  /**
   * Other vendors' tracestate members (`k=v,k=v`, at most 31, wire order), kept so inject can
   * put them back after our `dd=` member.
   */
  tracestateOthers?: string
  /**
   * The last Datadog span id seen upstream (16 hex), from tracestate `dd=p:` or, when a W3C hop
   * changed the parent, the Datadog header's parent id. The caller puts it in the local root's
   * meta as `_dd.parent_id` so the backend can reconnect spans across non-Datadog hops.
   */
  w3cParentId?: string
  /**
   * Set when `x-datadog-tags` could not be used (`extract_max_size` or `decoding_error`); the
   * caller puts it in the local root's meta as `_dd.propagation_error`.
   */
  propagationError?: string
}

/**
 * Told about a trace-context header that was present but unusable (malformed, out of range, or
 * an id the Agent would drop): `header` is its name, `value` the raw value, `why` the reason.
 */
export type RejectContext = (header: string, value: string, why: string) => void

export const ignoreRejected: RejectContext = () => {}

/** What inject needs to write both header styles for one outgoing call. */
export interface InjectSource {
  trace: TraceState
  /** The span making the outgoing call: downstream spans become its children. */
  spanId: string
  /** That span's meta; receives `_dd.propagation_error` when `x-datadog-tags` cannot be sent. */
  spanMeta: Record<string, string>
  /**
   * Other vendors' tracestate members to carry on (ExtractedContext.tracestateOthers of the
   * trace's upstream context). TraceState has no slot for it, so the caller passes it here.
   */
  tracestateOthers?: string
}

export const ZERO_HIGH = '0000000000000000'
export const PROPAGATION_ERROR = '_dd.propagation_error'
export const PARENT_ID_TAG = '_dd.parent_id'
export const TID_TAG = '_dd.p.tid'
export const DM_TAG = '_dd.p.dm'
export const TAG_PREFIX = '_dd.p.'
