import { describeValue, log } from '../diag/logger.js'
import type { EventRecord } from '../export/ledger.js'
import { Span } from '../trace/span.js'
import { SpanContext } from '../trace/span_context.js'
import type { TraceState } from '../model/trace_state.js'
import type { Tracer } from '../root/tracer.js'
import type { LlmobsCore } from './llmobs_core.js'
import { getState } from './span_state.js'
import { LlmobsHooks } from './tracer_hooks.js'

/**
 * Request-scoped flush (issue 15): deliver the events of one trace now, without waiting for
 * other traces. Each LLM event is noted against its APM trace when it is created; the flush then
 * takes out the finished LLM spans of the trace if it is still open, sends the trace payload
 * carrying its chunks, and sends and waits for the LLMObs posts carrying its events (rescued,
 * direct, or handed over by a refused trace payload).
 */

/** Prune settled records of a long trace (an agent loop) once its list reaches this length. */
const PRUNE_AT = 64

export function noteTraceRecord (trace: TraceState, record: EventRecord): void {
  // The trace's slot holds its events not known settled, and leaves with the trace.
  const list = trace.recordSlot as EventRecord[] | undefined
  if (list === undefined) { trace.recordSlot = [record]; return }
  if (list.length >= PRUNE_AT) {
    const live = list.filter((r) => !r.settled)
    live.push(record)
    trace.recordSlot = live
    return
  }
  list.push(record)
}

/**
 * The trace a flush target names: a span, a span context, or `span.trace`; the active span's
 * trace when none is given. Warns once and returns undefined for anything else.
 */
export function traceOf (target: unknown, active: () => Span | undefined): TraceState | undefined {
  try {
    if (target === undefined || target === null) {
      const span = active()
      if (span === undefined) {
        log.warnOnce('llmobs.flushTrace.none', 'llmobs.flushTrace(): no active span and none given, so there is no trace to flush; nothing flushed (pass the request\'s span)')
        return undefined
      }
      return span.trace
    }
    if (target instanceof Span || target instanceof SpanContext) {
      const trace = target.trace
      if (isTraceState(trace)) return trace
    } else if (isTraceState(target)) {
      return target
    }
  } catch {
    // A Proxy trap or getter threw: not a usable target, warned below.
  }
  log.warnOnce('llmobs.flushTrace.arg', () => `llmobs.flushTrace(): needs a span, a span context or span.trace, got ${describeValue(target)}; nothing flushed`)
  return undefined
}

function isTraceState (v: unknown): v is TraceState {
  if (v === null || typeof v !== 'object') return false
  const t = v as Partial<TraceState>
  return typeof t.traceIdLow === 'string' && typeof t.open === 'number' && Array.isArray(t.finished)
}

/** Resolves when the trace's events are settled or after `timeoutMs`; never rejects. */
export async function flushOneTrace (tracer: Tracer, trace: TraceState, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs
  const left = (): number => Math.max(0, end - Date.now())
  // OTLP: no LLMObs writer to take events out into; they leave with their trace.
  if (trace.open > 0 && trace.finished.length > 0 && tracer.config.exporter !== 'otlp') takeOutFinished(tracer, trace)
  // In parallel: events already with the LLMObs writer, and the trace payload, whose fate may
  // hand more events (riders of a refused payload) to that writer, flushed after it.
  const apm = (tracer.traceSink?.flushTrace(trace, left()) ?? Promise.resolve()).then(() => flushRecords(trace, left()))
  await Promise.all([apm, flushRecords(trace, left())])
}

/**
 * The trace is still open: its APM spans keep waiting for it, but the events of its finished LLM
 * spans leave now, taken out of the trace exactly as `llmobs.flush()` does (rescuedOpenTrace).
 */
function takeOutFinished (tracer: Tracer, trace: TraceState): void {
  const rescue = LlmobsHooks.for(tracer).rescue
  for (const span of trace.finished) {
    try {
      if (getState(span)?.record !== undefined) rescue.takeOut(span as Span, 'rescuedOpenTrace')
    } catch (err) {
      log.internalError('llmobs.flushTrace.takeOut', err)
    }
  }
}

async function flushRecords (trace: TraceState, timeoutMs: number): Promise<void> {
  const list = trace.recordSlot as EventRecord[] | undefined
  if (list === undefined) return
  const byCore = new Map<LlmobsCore, Set<EventRecord>>()
  for (const r of list) {
    // Riding records are the trace payload's to settle; only shipped ones sit in an LLMObs writer.
    if (r.settled || r.claim !== 'shipped') continue
    const core = r.owner as LlmobsCore
    let set = byCore.get(core)
    if (set === undefined) byCore.set(core, set = new Set())
    set.add(r)
  }
  await Promise.all([...byCore].map(([core, set]) => core.spans.flushItems(set, timeoutMs)))
}
