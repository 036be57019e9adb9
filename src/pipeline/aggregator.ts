import { log } from '../diag/logger.js'
import type { Span, SpanSink } from '../trace/span.js'
import type { SpanData } from '../model/span_data.js'
import type { Chunk, TraceState } from '../model/trace_state.js'

export interface OpenTraceLimits {
  partialFlushMinSpans: number
  /** Traces holding finished spans while others are open; past it the oldest is flushed early. */
  maxOpenTraces: number
  /** How long a trace may hold finished spans before they are flushed as a partial chunk. */
  maxOpenTraceAgeMs: number
}

/**
 * Buffers finished spans per trace and emits a chunk when every span started in this process
 * for the trace has finished, or earlier (partial flush) once `partialFlushMinSpans` finished
 * spans are waiting, so a long-running trace cannot grow without bound.
 *
 * A trace whose parent finishes late or never would otherwise hold its finished spans (and the
 * LLM events riding on them) for the life of the process: waiting traces are bounded in count
 * and age, and an evicted trace leaves as a partial chunk through the normal pipeline, so its
 * LLM events ride or are rescued like any other. The trace itself stays usable: spans of it
 * that finish later leave in later chunks.
 */
export class SpanAggregator implements SpanSink {
  /**
   * Traces holding finished spans while other spans of theirs are still open, with the sweep
   * tick at which each began waiting (a counter, not a clock read: this is the span finish path).
   * Insertion order is age order.
   */
  private readonly waiting = new Map<TraceState, number>()
  private sweepTimer: NodeJS.Timeout | undefined
  private tick = 0
  private readonly sweepEveryMs: number
  /** Ticks a trace may wait: its age is known to the sweep interval, never under the bound. */
  private readonly maxAgeTicks: number
  /** Traces flushed early because of the count or age bound. */
  evicted = 0

  constructor (
    private readonly limits: OpenTraceLimits,
    private readonly emit: (chunk: Chunk) => void,
  ) {
    this.sweepEveryMs = Math.max(10, Math.min(limits.maxOpenTraceAgeMs, 10_000))
    this.maxAgeTicks = Math.ceil(limits.maxOpenTraceAgeMs / this.sweepEveryMs)
  }

  onSpanFinish (span: Span): void {
    const trace = span.trace
    trace.open--
    trace.finished.push(span)
    if (trace.open <= 0) {
      this.waiting.delete(trace)
      this.emitFinished(trace, true)
    } else if (trace.finished.length >= this.limits.partialFlushMinSpans) {
      this.waiting.delete(trace)
      this.emitFinished(trace, false)
    } else if (!this.waiting.has(trace)) {
      this.startWaiting(trace)
    }
  }

  /**
   * At flush-before-exit, sends what finished in traces that still have open spans: better a
   * partial trace than losing the finished spans (and the LLM events riding on them).
   * Returns how many spans were still open.
   */
  drainIncomplete (): number {
    let open = 0
    const traces = [...this.waiting.keys()]
    this.waiting.clear()
    this.stopSweep()
    for (const trace of traces) {
      open += trace.open
      this.emitFinished(trace, false)
    }
    if (open > 0) log.warnOnce('aggregator.unfinished', `${open} span(s) never finished; their finished siblings were sent as partial traces`)
    return open
  }

  get waitingTraces (): number { return this.waiting.size }

  /** Finished spans still held because their trace is open (LLM Observability flushes their events). */
  * waitingSpans (): IterableIterator<SpanData> {
    for (const trace of this.waiting.keys()) yield * trace.finished
  }

  private startWaiting (trace: TraceState): void {
    if (this.waiting.size >= this.limits.maxOpenTraces) {
      const oldest = this.waiting.keys().next().value as TraceState
      this.evict(oldest, `more than ${this.limits.maxOpenTraces} traces with open spans`)
    }
    this.waiting.set(trace, this.tick)
    if (this.sweepTimer === undefined) {
      // A timer, not a check on finish: a quiet process must still let go of a stale trace.
      this.sweepTimer = setInterval(() => this.sweep(), this.sweepEveryMs)
      this.sweepTimer.unref()
    }
  }

  private sweep (): void {
    this.tick++
    for (const [trace, since] of this.waiting) {
      // A trace added at tick t has waited at least (tick - t - 1) full intervals.
      if (this.tick - since - 1 < this.maxAgeTicks) break
      this.evict(trace, `open longer than ${this.limits.maxOpenTraceAgeMs} ms`)
    }
    if (this.waiting.size === 0) this.stopSweep()
  }

  private evict (trace: TraceState, why: string): void {
    this.waiting.delete(trace)
    this.evicted++
    log.warnOnce('aggregator.evicted', `a trace was flushed before its spans finished (${why}); its finished spans were sent as a partial trace (further ones counted in tracer.stats().openTracesEvicted)`)
    this.emitFinished(trace, false)
  }

  private stopSweep (): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer)
    this.sweepTimer = undefined
  }

  private emitFinished (trace: TraceState, complete: boolean): void {
    const spans = trace.finished
    if (spans.length === 0) return
    trace.finished = []
    if (complete) moveLocalRootFirst(spans, trace.localRoot)
    try {
      this.emit({ trace, spans })
    } catch (err) {
      log.internalError('aggregator.emit', err)
    }
  }
}

/**
 * The Agent and the intake treat the first span of a chunk as its root for trace-level tags;
 * spans arrive in finish order, where the local root is usually last, so swap it to the front.
 */
function moveLocalRootFirst (spans: SpanData[], root: SpanData | undefined): void {
  if (root === undefined || spans[0] === root) return
  const i = spans.lastIndexOf(root)
  if (i > 0) {
    spans[i] = spans[0]
    spans[0] = root
  }
}
