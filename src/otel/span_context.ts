import type { SpanContext as OtelSpanContext } from '@opentelemetry/api'
import { isValidSpanId, isValidTraceId } from '@opentelemetry/api'
import { SpanContext } from '../trace/span_context.js'
import { newTraceState, AUTO_KEEP, AUTO_REJECT } from '../model/trace_state.js'

/**
 * Carried on OTel span contexts this bridge makes, so one that comes back (as a parent, from our
 * propagator, in a link) keeps everything ours holds: priority, origin, `_dd.p.*` tags.
 */
const OURS = Symbol('llmobs-ts.spanContext')

type Carrying = OtelSpanContext & { [OURS]?: SpanContext }

/**
 * Our span context seen through the OTel API. Reading `traceFlags` is a sampling decision point,
 * like an outbound injection: code that reads it (to propagate, or to log "sampled") must see the
 * final priority, so the decision is made then.
 */
export function toOtelSpanContext (ctx: SpanContext, decide: (ctx: SpanContext) => number | undefined, traceId?: string): OtelSpanContext {
  const sc: Carrying = {
    traceId: traceId ?? ctx.trace.traceIdHigh + ctx.trace.traceIdLow,
    spanId: ctx.spanId,
    isRemote: ctx.remote,
    get traceFlags (): number {
      const p = ctx.trace.samplingPriority ?? decide(ctx)
      return p !== undefined && p > 0 ? 1 : 0
    },
  }
  Object.defineProperty(sc, OURS, { value: ctx, enumerable: false })
  return sc
}

/**
 * An OTel span context as ours: the original when this bridge made it, else one built from its
 * hex ids (a foreign parent: its sampled flag becomes the priority). Undefined when invalid.
 */
export function fromOtelSpanContext (sc: OtelSpanContext | undefined): SpanContext | undefined {
  if (sc === undefined || sc === null || typeof sc !== 'object') return undefined
  const own = (sc as Carrying)[OURS]
  if (own instanceof SpanContext) return own
  const { traceId, spanId, traceFlags } = sc
  if (typeof traceId !== 'string' || typeof spanId !== 'string' || !isValidTraceId(traceId) || !isValidSpanId(spanId)) return undefined
  const trace = newTraceState(traceId.slice(0, 16).toLowerCase(), traceId.slice(16).toLowerCase())
  trace.samplingPriority = (traceFlags & 1) === 1 ? AUTO_KEEP : AUTO_REJECT
  const state = sc.traceState?.serialize()
  // Our own `dd=` member is rebuilt from the trace state on injection; the others travel on.
  const others = typeof state === 'string' ? state.split(',').filter((m) => m.trim() !== '' && !m.trim().startsWith('dd=')).join(',') : ''
  if (others !== '') trace.tracestateOthers = others
  return new SpanContext(trace, spanId.toLowerCase(), sc.isRemote === true)
}
