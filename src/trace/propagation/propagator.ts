import { log } from '../../diag/logger.js'
import { isHexId } from '../ids.js'
import { isWritableCarrier } from './carrier.js'
import { DEFAULT_TAGS_MAX_LENGTH, extractDatadog, injectDatadog } from './datadog.js'
import { ZERO_HIGH } from './extracted.js'
import type { ExtractedContext, InjectSource } from './extracted.js'
import { extractW3c, writeW3c } from './w3c.js'

export interface PropagationOptions {
  /** DD_TRACE_X_DATADOG_TAGS_MAX_LENGTH; 0 turns `x-datadog-tags` off. Default 512. */
  maxTagsLength?: number
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
 * Undefined when neither gives a valid context. Never throws.
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
    const dd = extractDatadog(carrier, options?.maxTagsLength ?? DEFAULT_TAGS_MAX_LENGTH)
    if (dd === undefined) return extractW3c(carrier)
    const w3c = extractW3c(carrier)
    if (w3c === undefined || w3c.traceIdLow !== dd.traceIdLow) return dd
    if (dd.traceIdHigh !== w3c.traceIdHigh) {
      if (dd.traceIdHigh !== ZERO_HIGH) return dd
      dd.traceIdHigh = w3c.traceIdHigh
    }
    if (w3c.tracestateOthers !== undefined) dd.tracestateOthers = w3c.tracestateOthers
    if (w3c.parentId !== dd.parentId) {
      dd.w3cParentId = w3c.w3cParentId ?? dd.parentId
      dd.parentId = w3c.parentId
    }
    return dd
  } catch (err) {
    log.internalError('propagation.extract', err)
    return undefined
  }
}
