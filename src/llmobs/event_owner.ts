import type { EventRecord, Route } from '../export/ledger.js'
import type { Span } from '../trace/span.js'
import type { LlmobsSpanState } from './span_state.js'

/**
 * What the tracer-wide hooks need from whoever created an LLM span and its event (an LLMObs
 * core). Each span and each record names its owner, so a core that was disabled keeps following
 * its own events to their fate while a newer core handles new ones, and no event is settled in
 * the wrong ledger or shipped by two cores.
 */
export interface EventOwner {
  /** Whether a predicted drop (priority <= 0) re-ships the event (apm_agent mode only). */
  readonly rescues: boolean
  /** Builds the event of a finished span (even after `disable()`: it started while enabled). */
  onSpanFinish (span: Span, st: LlmobsSpanState): void
  ship (record: EventRecord, route: Route): void
  /** The trace payload carrying the event failed for `reason` (a TraceFailureReason). */
  payloadFailed (record: EventRecord, reason: string): void
  deliver (record: EventRecord): void
  noteRide (): void
}

export function ownerOf (record: EventRecord): EventOwner {
  return record.owner as EventOwner
}
