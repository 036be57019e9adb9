import type { PayloadFate } from '../export/payload_fate.js'
import type { EventRecord } from '../export/ledger.js'
import type { Span } from '../trace/span.js'
import type { Tracer } from '../root/tracer.js'
import { ownerOf } from './event_owner.js'
import { LlmobsRescueProcessor } from './rescue_processor.js'
import { getState } from './span_state.js'

/** A core as the hooks see it: something with writers to flush and events in flight. */
export interface HookedCore {
  hasPending (): boolean
  flushWriters (timeoutMs: number): Promise<void>
}

const byTracer = new WeakMap<Tracer, LlmobsHooks>()

/**
 * LLM Observability's hooks into one tracer (finish hook, the chain's llmobs slot, dropped
 * chunks, payload fates, the downstream stage of exits), installed once however many times
 * LLMObs is enabled and disabled. They dispatch each span and each record to the core that
 * owns it, so cores come and go without a second set of listeners settling events in the wrong
 * ledger or shipping them twice. Installed while any core is attached (enabled, or disabled with
 * events still in flight); removed with the last one.
 */
export class LlmobsHooks {
  static for (tracer: Tracer): LlmobsHooks {
    let hooks = byTracer.get(tracer)
    if (hooks === undefined) {
      hooks = new LlmobsHooks(tracer)
      byTracer.set(tracer, hooks)
    }
    return hooks
  }

  readonly rescue = new LlmobsRescueProcessor()
  private readonly cores = new Set<HookedCore>()
  private readonly removers: Array<() => void> = []

  private constructor (private readonly tracer: Tracer) {}

  attach (core: HookedCore): void {
    if (this.cores.size === 0) this.install()
    this.cores.add(core)
  }

  detach (core: HookedCore): void {
    if (!this.cores.delete(core) || this.cores.size > 0) return
    for (const remove of this.removers.splice(0)) remove()
    this.tracer.chain.setLlmobsProcessor(undefined)
  }

  /**
   * `llmobs.flush()` must deliver every finished LLM span, whatever the state of its trace: an
   * event whose span waits for an unfinished parent is taken out of the trace (tagged submitted,
   * scrubbed) and sent through the LLMObs writer. The APM trace itself keeps waiting.
   */
  takeOutOpenTraces (): void {
    // OTLP: an LLM span leaves with its trace (there is no LLMObs writer to take it out into).
    if (this.tracer.config.exporter === 'otlp') return
    for (const span of this.tracer.waitingSpans()) {
      if (getState(span)?.record !== undefined) this.rescue.takeOut(span as Span, 'rescuedOpenTrace')
    }
  }

  private install (): void {
    const tracer = this.tracer
    tracer.chain.setLlmobsProcessor(this.rescue)
    this.removers.push(tracer.addFinishHook(onFinish))
    // Filtering APM traces must not delete LLM data: a chunk a user processor dropped is a predicted drop.
    const sink = tracer.traceSink
    this.removers.push(tracer.chain.onChunkDropped((chunk) => {
      // OTLP: no LLMObs writer to rescue into; the filtered chunk's LLM spans leave over OTLP alone.
      if (tracer.config.exporter === 'otlp' && sink !== undefined) sink.discard(this.rescue.process(chunk))
      else for (const span of chunk.spans) this.rescue.takeOut(span as Span, 'rescuedPredictedDrop')
    }))
    if (sink !== undefined) this.removers.push(sink.onPayloadSettled((fate) => onPayloadSettled(fate)))
    this.removers.push(tracer.addDownstream({
      hasPending: () => { for (const c of this.cores) if (c.hasPending()) return true; return false },
      flush: async (timeoutMs) => { await Promise.all([...this.cores].map((c) => c.flushWriters(timeoutMs))) },
    }))
  }
}

function onFinish (span: Span): void {
  const st = getState(span)
  if (st !== undefined && st.record === undefined) st.owner.onSpanFinish(span, st)
}

function onPayloadSettled (fate: PayloadFate): void {
  for (const rider of fate.riders) {
    const record = rider as EventRecord
    if (record.settled) continue
    if (fate.acknowledged) ownerOf(record).deliver(record)
    else ownerOf(record).payloadFailed(record, fate.reason)
  }
}
