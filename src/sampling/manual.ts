import { MECHANISM_MANUAL, USER_KEEP, USER_REJECT } from '../model/trace_state.js'
import type { TraceState } from '../model/trace_state.js'
import { recordDecision } from './decision.js'

/**
 * A user's explicit `keep()` / `drop()`: USER_KEEP or USER_REJECT with the manual mechanism. It
 * overrides any earlier decision, including an automatic one or one received from upstream.
 * `_dd.p.dm` becomes `-4` on a keep unless the trace already names a decision maker, and is
 * removed on a drop (see recordDecision).
 */
export function applyManualDecision (trace: TraceState, keep: boolean): void {
  recordDecision(trace, keep ? USER_KEEP : USER_REJECT, MECHANISM_MANUAL)
}
