import { log } from '../diag/logger.js'
import type { SpanData } from '../model/span_data.js'
import type { Chunk } from '../model/trace_state.js'

/** One stage of the chain: returns the (possibly changed) chunk, or null to drop it. */
export interface ChunkProcessor {
  readonly name: string
  process (chunk: Chunk): Chunk | null
}

/**
 * An APM-level filter supplied by the user. Return the spans to keep (the same array, edited, is
 * fine), or null to drop the whole chunk from APM. LLM Observability events on a dropped chunk
 * are still delivered: the drop is reported and the LLMObs ledger rescues them.
 */
export type UserProcessor = (spans: SpanData[]) => SpanData[] | null | undefined | void

export type DropReason = 'user_processor'
export type ChunkDropListener = (chunk: Chunk, reason: DropReason) => void

/**
 * The fixed order matters and mirrors dd-trace-py: user filters first (they may drop), then the
 * sampling decision, then the LLMObs rescue (it needs the decision), then trace-level tags.
 */
export class ProcessorChain {
  private readonly user: UserProcessor[] = []
  private llmobs: ChunkProcessor | undefined
  private readonly dropListeners: ChunkDropListener[] = []

  constructor (
    private readonly sampling: ChunkProcessor,
    private readonly tags: ChunkProcessor,
    private readonly sink: (chunk: Chunk) => void,
  ) {}

  addUserProcessor (fn: UserProcessor): void {
    if (typeof fn !== 'function') {
      log.warnOnce('chain.user.type', 'tracer.addProcessor() needs a function; ignored')
      return
    }
    this.user.push(fn)
  }

  /** The LLMObs slot: empty unless LLM Observability is enabled. */
  setLlmobsProcessor (p: ChunkProcessor | undefined): void { this.llmobs = p }

  onChunkDropped (listener: ChunkDropListener): () => void {
    this.dropListeners.push(listener)
    return () => {
      const i = this.dropListeners.indexOf(listener)
      if (i >= 0) this.dropListeners.splice(i, 1)
    }
  }

  process (chunk: Chunk): void {
    for (let i = 0; i < this.user.length; i++) {
      // A copy, so spans the processor removes (in place or by returning fewer) can be reported:
      // they carry LLM events that must still be delivered.
      const before = chunk.spans.slice()
      let out: SpanData[] | null | undefined | void
      try {
        out = this.user[i](chunk.spans)
      } catch (err) {
        log.internalError('user processor (skipped)', err)
        chunk = { trace: chunk.trace, spans: before }
        continue
      }
      const kept = out === null ? [] : (Array.isArray(out) ? out : chunk.spans)
      if (kept.length === 0) {
        this.reportDrop({ trace: chunk.trace, spans: before }, 'user_processor')
        return
      }
      if (kept.length !== before.length || kept !== chunk.spans) {
        const removed = without(before, kept)
        if (removed.length > 0) this.reportDrop({ trace: chunk.trace, spans: removed }, 'user_processor')
      }
      chunk = { trace: chunk.trace, spans: kept }
    }
    chunk = this.run(this.sampling, chunk)
    if (this.llmobs !== undefined) chunk = this.run(this.llmobs, chunk)
    chunk = this.run(this.tags, chunk)
    try {
      this.sink(chunk)
    } catch (err) {
      log.internalError('chain.sink', err)
    }
  }

  /** Built-in stages cannot drop; one that throws is logged and skipped so the trace still ships. */
  private run (p: ChunkProcessor, chunk: Chunk): Chunk {
    try {
      return p.process(chunk) ?? chunk
    } catch (err) {
      log.internalError(`processor ${p.name} (skipped)`, err)
      return chunk
    }
  }

  private reportDrop (chunk: Chunk, reason: DropReason): void {
    for (const l of this.dropListeners) {
      try { l(chunk, reason) } catch (err) { log.internalError('chain.dropListener', err) }
    }
  }
}

/** Spans of `all` not in `kept` (by identity). */
function without (all: SpanData[], kept: SpanData[]): SpanData[] {
  if (kept.length === 0) return all
  const keep = new Set(kept)
  return all.filter((s) => !keep.has(s))
}
