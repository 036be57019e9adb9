import { AUTO_KEEP } from '../model/trace_state.js'
import type { TraceState } from '../model/trace_state.js'

/** Propagated trace tag naming the mechanism that decided to keep the trace. */
export const DECISION_MAKER_TAG = '_dd.p.dm'

/**
 * Records a sampling decision on the trace and keeps `_dd.p.dm` consistent with it.
 *
 * Kept: `_dd.p.dm = -<mechanism>`, unless the trace already carries one. That mirrors
 * dd-trace-js: the tag names whoever first decided to keep the trace (possibly upstream), and a
 * later keep of an already-kept trace does not rewrite history.
 * Rejected: the tag is removed, since a dropped trace has no decision maker to propagate.
 */
export function recordDecision (trace: TraceState, priority: number, mechanism: number): void {
  trace.samplingPriority = priority
  trace.mechanism = mechanism
  if (priority >= AUTO_KEEP) {
    if (trace.tags[DECISION_MAKER_TAG] === undefined) trace.tags[DECISION_MAKER_TAG] = `-${mechanism}`
  } else {
    delete trace.tags[DECISION_MAKER_TAG]
  }
}
