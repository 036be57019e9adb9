import { describeValue, log } from '../../diag/logger.js'
import { isHexId } from '../../model/ids.js'
import { isWritableCarrier } from './carrier.js'
import { DEFAULT_TAGS_MAX_LENGTH, extractDatadog, injectDatadog } from './datadog.js'
import { ZERO_HIGH } from './extracted.js'
import type { ExtractedContext, InjectSource, RejectContext } from './extracted.js'
import { extractW3c, writeW3c } from './w3c.js'

export interface PropagationOptions {
  /** DD_TRACE_X_DATADOG_TAGS_MAX_LENGTH; 0 turns `x-datadog-tags` off. Default 512. */
  maxTagsLength?: number
  /** Counters extract() adds to (the tracer's, read with `tracer.propagationStats()`). */
  stats?: PropagationStats
}

/** What extraction saw, for users who need to know why traces did not join up. */
export interface PropagationStats {
  /** extract() calls that returned a context. */
  extracted: number
  /**
   * Trace-context headers that were present but unusable: malformed or out-of-range ids, and ids
   * the Datadog Agent would drop (trace id 0, or a traceparent whose low 64 bits are zero).
   * Datadog and W3C headers count separately, so one request can add 2. A new trace starts.
   */
  invalid: number
}

export function newPropagationStats (): PropagationStats {
  return { extracted: 0, invalid: 0 }
}

/**
 * Writes the trace context of `source` into `carrier` in both styles: Datadog headers and W3C
 * `traceparent`/`tracestate`. The caller makes the sampling decision first; an undecided trace
 * is sent without a priority (and `traceparent` flags `00`).
 *
 * Never throws: a carrier that cannot be written warns once and is left as it is.
 *
 * @example
 *   const headers: Record<string, string> = {}
 *   inject({ trace, spanId: span.spanId, spanMeta: span.meta }, headers)
 */
export function inject (source: InjectSource, carrier: unknown, options?: PropagationOptions): void {
  try {
    if (!isWritableCarrier(carrier)) return
    const trace = source.trace
    if (!isHexId(trace.traceIdHigh, 16) || !isHexId(trace.traceIdLow, 16) || !isHexId(source.spanId, 16)) {
      log.warnOnce('propagation:inject-ids', 'cannot inject trace context: trace or span id is not 16 lowercase hex')
      return
    }
    injectDatadog(source, carrier, options?.maxTagsLength ?? DEFAULT_TAGS_MAX_LENGTH)
    writeW3c(source, carrier)
  } catch (err) {
    log.internalError('propagation.inject', err)
  }
}

/**
 * Reads an upstream trace context: Datadog headers first, W3C `traceparent` as the fallback.
 * Undefined when neither gives a valid context. Never throws. A header that is present but
 * unusable warns once and counts in `options.stats.invalid`; the other style may still be used.
 *
 * When both are present and name the same trace (same low 64 bits, and the same high 64 bits
 * unless the Datadog side has none), the Datadog context is used and W3C adds to it:
 * - the other vendors' tracestate members, to send on;
 * - the high 64 bits, when `x-datadog-tags` did not carry `_dd.p.tid` (e.g. dropped for size);
 * - if traceparent names a different parent (a non-Datadog hop in between, such as an
 *   OpenTelemetry proxy), that span becomes our parent and the last Datadog span id goes to
 *   `w3cParentId`: tracestate's `p:` when present, else the Datadog header's parent id. This is
 *   dd-trace-js's rule.
 * Priority, origin and tags stay those of the Datadog headers.
 */
export function extract (carrier: unknown, options?: PropagationOptions): ExtractedContext | undefined {
  try {
    const stats = options?.stats
    const reject: RejectContext = (header, value, why) => {
      if (stats !== undefined) stats.invalid++
      log.debug(() => `ignoring ${header} ${describeValue(value)}: it ${why}`)
      log.warnOnce('propagation:invalid-context', () => `ignoring an invalid trace context: ${header} ${describeValue(value)} ${why}; a new trace starts (further ones are counted in tracer.propagationStats().invalid)`)
    }
    const ctx = combine(extractDatadog(carrier, options?.maxTagsLength ?? DEFAULT_TAGS_MAX_LENGTH, reject), carrier, reject)
    if (ctx !== undefined && stats !== undefined) stats.extracted++
    return ctx
  } catch (err) {
    log.internalError('propagation.extract', err)
    return undefined
  }
}

function combine (dd: ExtractedContext | undefined, carrier: unknown, reject: RejectContext): ExtractedContext | undefined {
  const w3c = extractW3c(carrier, reject)
  if (dd === undefined) return w3c
  if (w3c === undefined || w3c.traceIdLow !== dd.traceIdLow) return dd
  if (dd.traceIdHigh !== w3c.traceIdHigh) {
    if (dd.traceIdHigh !== ZERO_HIGH) return dd
    dd.traceIdHigh = w3c.traceIdHigh
  }
  if (w3c.tracestateOthers !== undefined) dd.tracestateOthers = w3c.tracestateOthers
  if (w3c.parentId !== dd.parentId) {
    // `x-datadog-parent-id: 0` names no span; then only tracestate's p: can name the last one.
    const lastDatadog = w3c.w3cParentId ?? (dd.parentId !== ZERO_HIGH ? dd.parentId : undefined)
    if (lastDatadog !== undefined) dd.w3cParentId = lastDatadog
    dd.parentId = w3c.parentId
  }
  return dd
}
