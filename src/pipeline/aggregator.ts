import { log } from '../diag/logger.js'
import type { Span, SpanSink } from '../trace/span.js'
import type { SpanData } from '../trace/span_data.js'
import type { Chunk, TraceState } from '../trace/trace_state.js'

/**
 * Buffers finished spans per trace and emits a chunk when every span started in this process
 * for the trace has finished, or earlier (partial flush) once `partialFlushMinSpans` finished
 * spans are waiting, so a long-running trace cannot grow without bound.
 */
export class SpanAggregator implements SpanSink {
  /** Traces holding finished spans while other spans of theirs are still open. */
  private readonly waiting = new Set<TraceState>()

  constructor (
    private readonly partialFlushMinSpans: number,
    private readonly emit: (chunk: Chunk) => void,
  ) {}

  onSpanFinish (span: Span): void {
    const trace = span.trace
    trace.open--
    trace.finished.push(span)
    if (trace.open <= 0) {
      this.waiting.delete(trace)
      this.emitFinished(trace, true)
    } else if (trace.finished.length >= this.partialFlushMinSpans) {
      this.emitFinished(trace, false)
    } else {
      this.waiting.add(trace)
    }
  }

  /**
   * At flush-before-exit, sends what finished in traces that still have open spans: better a
   * partial trace than losing the finished spans (and the LLM events riding on them).
   * Returns how many spans were still open.
   */
  drainIncomplete (): number {
    let open = 0
    for (const trace of this.waiting) {
      open += trace.open
      if (trace.finished.length > 0) this.emitFinished(trace, false)
    }
    this.waiting.clear()
    if (open > 0) log.warnOnce('aggregator.unfinished', `${open} span(s) never finished; their finished siblings were sent as partial traces`)
    return open
  }

  get waitingTraces (): number { return this.waiting.size }

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
