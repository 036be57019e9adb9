import { DEFAULTS } from '../config/defaults.js'
import { resolveTracerConfig, type TracerConfig, type TracerOptions } from '../config/tracer_config.js'
import { log } from '../diag/logger.js'
import { registerExitFlush, registerSigtermFlush } from '../diag/exit_flush.js'
import { TraceWriter } from '../export/trace_writer.js'
import { SpanAggregator } from '../pipeline/aggregator.js'
import { ProcessorChain, type UserProcessor } from '../pipeline/processor_chain.js'
import { SamplingProcessor } from '../pipeline/sampling_processor.js'
import { TagsProcessor } from '../pipeline/tags_processor.js'
import { PrioritySampler } from '../sampling/priority_sampler.js'
import { HttpTransport } from '../transport/http_transport.js'
import { RetryingTransport } from '../transport/retrying_transport.js'
import { epochSecOf, monotonicFromEpochMs, monotonicNs } from './clock.js'
import { spanStorage } from './context_storage.js'
import { randomId64, traceIdHigh } from './ids.js'
import { extract as extractHeaders, inject as injectHeaders } from './propagation/propagator.js'
import { Span, type SpanSink, type TagValue } from './span.js'
import { SpanContext } from './span_context.js'
import { ZERO_ID, type SpanData } from './span_data.js'
import { newTraceState, type Chunk, type TraceState } from './trace_state.js'

export interface SpanOptions {
  resource?: string
  type?: string
  service?: string
  tags?: Record<string, TagValue>
  /** Parent span or context; `null` starts a new trace even inside an active span. */
  childOf?: Span | SpanContext | null
  /** Start time in epoch milliseconds (defaults to now). */
  startTime?: number
}

/** Called for every span at finish, before it is aggregated (LLM Observability builds events here). */
export type FinishHook = (span: Span) => void

/**
 * Called before headers are injected; returns `_dd.p.*` tags for this injection only (LLM
 * Observability's `_dd.p.llmobs_*` name the injecting span, so they must not stick to the trace).
 */
export type InjectHook = (target: Span | SpanContext, trace: TraceState) => Record<string, string> | undefined

/**
 * The tracer core: creates spans, keeps the active one in async context, and runs finished
 * traces through aggregation → processors → writer. One instance per configuration; the
 * package's `tracer` export is a lazily initialised singleton of it.
 */
export class Tracer implements SpanSink {
  readonly config: TracerConfig
  readonly sampler: PrioritySampler
  readonly chain: ProcessorChain
  /** Undefined when tracing export is disabled (`DD_TRACE_ENABLED=false`). */
  readonly writer: TraceWriter | undefined
  private readonly aggregator: SpanAggregator
  private readonly transport: HttpTransport | undefined
  private readonly finishHooks: FinishHook[] = []
  private readonly injectHooks: InjectHook[] = []
  private shutdownPromise: Promise<void> | undefined
  /** False when LLM Observability runs with APM tracing disabled: traces are built, not sent. */
  private apmExport = true
  private readonly removeExitFlush: () => void
  private readonly downstream = new Set<DownstreamStage>()

  constructor (options: TracerOptions = {}) {
    this.config = resolveTracerConfig(options)
    if (this.config.debug) log.configure({ debug: true })
    this.sampler = new PrioritySampler({ rules: this.config.samplingRules, rateLimit: this.config.rateLimit })
    if (this.config.enabled) {
      this.transport = new HttpTransport(this.config.agent)
      this.writer = new TraceWriter({
        transport: new RetryingTransport(this.transport, DEFAULTS.retry),
        apiVersion: this.config.apiVersion,
        flushIntervalMs: this.config.flushIntervalMs,
        bufferCapBytes: DEFAULTS.traceBufferCapBytes,
        payloadMaxBytes: DEFAULTS.tracePayloadMaxBytes,
        flushAtBytes: DEFAULTS.traceFlushAtBytes,
        requestTimeoutMs: DEFAULTS.traceRequestTimeoutMs,
        onRates: (rates) => this.sampler.updateAgentRates(rates),
      })
    }
    const writer = this.writer
    this.chain = new ProcessorChain(
      new SamplingProcessor(this.sampler, this.config.env),
      new TagsProcessor(),
      writer !== undefined ? (chunk) => { if (this.apmExport) writer.append(chunk) } : () => {},
    )
    this.aggregator = new SpanAggregator({
      partialFlushMinSpans: this.config.partialFlushMinSpans,
      maxOpenTraces: this.config.maxOpenTraces,
      maxOpenTraceAgeMs: this.config.maxOpenTraceAgeMs,
    }, (chunk: Chunk) => this.chain.process(chunk))
    // SIGTERM and natural exit run the same ordered drain as shutdown(), under one deadline.
    if (this.config.flushOnSigterm) registerSigtermFlush(() => this.shutdown(DEFAULTS.shutdownTimeoutMs))
    // Natural exit: the loop emptied with data still held. Flushing re-arms the loop once; once
    // nothing is pending the handler does nothing, so it cannot keep the process alive.
    this.removeExitFlush = registerExitFlush(() => {
      if (this.shutdownPromise === undefined && this.holdsData()) void this.drain(DEFAULTS.exitFlushTimeoutMs, true)
    })
  }

  /**
   * Runs `fn` inside a new active span and finishes it when `fn` returns, throws, or its promise
   * settles. Errors are recorded on the span and re-thrown unchanged.
   *
   * @example tracer.trace('db.query', { resource: 'SELECT 1' }, async (span) => db.query('SELECT 1'))
   */
  trace<T> (name: string, options: SpanOptions | ((span: Span) => T), fn?: (span: Span) => T): T {
    if (typeof options === 'function') { fn = options; options = {} }
    if (typeof fn !== 'function') {
      log.warnOnce('tracer.trace.fn', 'tracer.trace() needs a function as its last argument; nothing traced')
      return undefined as T
    }
    const span = this.startSpan(name, options)
    const run = fn
    return spanStorage.run(span, () => {
      let result: T
      try {
        result = run(span)
      } catch (err) {
        span.setError(err)
        span.finish()
        throw err
      }
      if (isThenable(result)) {
        return result.then((value) => {
          span.finish()
          return value
        }, (err: unknown) => {
          span.setError(err)
          span.finish()
          throw err
        }) as T
      }
      span.finish()
      return result
    })
  }

  /** Starts a span (not activated); finish it yourself. */
  startSpan (name: string, options: SpanOptions = {}): Span {
    if (typeof name !== 'string' || name === '') {
      log.warnOnce('tracer.startSpan.name', 'span name must be a non-empty string; using "unnamed"')
      name = 'unnamed'
    }
    if (options === null || typeof options !== 'object') options = {}
    const parent = this.resolveParent(options.childOf)
    const startMono = typeof options.startTime === 'number' && Number.isFinite(options.startTime)
      ? monotonicFromEpochMs(options.startTime)
      : monotonicNs()
    let trace: TraceState
    let parentId: string
    if (parent === undefined) {
      trace = newTraceState(traceIdHigh(epochSecOf(startMono)), randomId64())
      parentId = ZERO_ID
    } else {
      trace = parent.trace
      parentId = parent.spanId
    }
    const span = new Span(this, trace, randomId64(), parentId, name,
      options.service ?? this.config.service, options.resource ?? name, options.type ?? '', startMono)
    if (trace.localRoot === undefined) {
      trace.localRoot = span
      if (trace.rootMeta !== undefined) Object.assign(span.meta, trace.rootMeta)
    }
    if (this.config.env !== undefined) span.meta.env = this.config.env
    if (this.config.version !== undefined) span.meta.version = this.config.version
    if (options.tags !== undefined) span.addTags(options.tags)
    return span
  }

  private resolveParent (childOf: Span | SpanContext | null | undefined): { trace: TraceState, spanId: string } | undefined {
    if (childOf === null) return undefined
    if (childOf instanceof Span || childOf instanceof SpanContext) return childOf
    if (childOf !== undefined) log.warnOnce('tracer.childOf', 'childOf must be a span or a span context; using the active span')
    return spanStorage.getStore()
  }

  activeSpan (): Span | undefined {
    return spanStorage.getStore()
  }

  /** Runs `fn` with `span` active (or no span, for `undefined`). */
  activate<T> (span: Span | undefined, fn: () => T): T {
    return spanStorage.run(span, fn)
  }

  /**
   * Writes propagation headers (Datadog and W3C) for `spanOrContext` into `carrier`. Outbound
   * propagation is a sampling decision point: downstream services must get the final priority.
   */
  inject (spanOrContext: Span | SpanContext | undefined, carrier: unknown): void {
    try {
      const target = spanOrContext ?? this.activeSpan()
      if (!(target instanceof Span) && !(target instanceof SpanContext)) {
        log.warnOnce('tracer.inject.target', 'tracer.inject() needs a span or span context; nothing injected')
        return
      }
      const trace = target.trace
      this.sampler.decide(trace, trace.localRoot ?? (target instanceof Span ? target : undefined) ?? stubRoot(trace, this.config.service), this.config.env)
      let injected = trace
      for (const hook of this.injectHooks) {
        try {
          const extra = hook(target, trace)
          if (extra !== undefined) injected = { ...injected, tags: { ...injected.tags, ...extra } }
        } catch (err) { log.internalError('inject hook', err) }
      }
      injectHeaders({ trace: injected, spanId: target.spanId, spanMeta: target instanceof Span ? target.meta : {}, tracestateOthers: trace.tracestateOthers }, carrier)
    } catch (err) {
      log.internalError('tracer.inject', err)
    }
  }

  /** Reads propagation headers; the result can be used as `childOf`. Null when absent or invalid. */
  extract (carrier: unknown): SpanContext | null {
    try {
      const ex = extractHeaders(carrier)
      if (ex === undefined) return null
      const trace = newTraceState(ex.traceIdHigh, ex.traceIdLow)
      trace.samplingPriority = ex.samplingPriority
      trace.origin = ex.origin
      trace.tags = { ...ex.tags }
      trace.tracestateOthers = ex.tracestateOthers
      if (ex.w3cParentId !== undefined || ex.propagationError !== undefined) {
        trace.rootMeta = {}
        if (ex.w3cParentId !== undefined) trace.rootMeta['_dd.parent_id'] = ex.w3cParentId
        if (ex.propagationError !== undefined) trace.rootMeta['_dd.propagation_error'] = ex.propagationError
      }
      return new SpanContext(trace, ex.parentId, true)
    } catch (err) {
      log.internalError('tracer.extract', err)
      return null
    }
  }

  /** Adds an APM-level filter (see UserProcessor). */
  addProcessor (fn: UserProcessor): void {
    this.chain.addUserProcessor(fn)
  }

  /**
   * Registers a stage downstream of the trace writer (LLM Observability's writers): flushes and
   * exits deliver traces first, whose payload fates may hand it events, then flush it.
   */
  addDownstream (stage: DownstreamStage): () => void {
    this.downstream.add(stage)
    return () => { this.downstream.delete(stage) }
  }

  /** Finished spans still held because their trace has open spans (see SpanAggregator). */
  waitingSpans (): IterableIterator<SpanData> {
    return this.aggregator.waitingSpans()
  }

  /** Pipeline counters users can read. */
  stats (): TracerStats {
    return { openTraces: this.aggregator.waitingTraces, openTracesEvicted: this.aggregator.evicted }
  }

  /** LLM Observability with `DD_APM_TRACING_ENABLED=false`: spans still exist, APM payloads do not. */
  setApmExport (enabled: boolean): void {
    this.apmExport = enabled
  }

  /** Internal hook for LLM Observability: runs at every span finish before aggregation. */
  addFinishHook (hook: FinishHook): () => void {
    this.finishHooks.push(hook)
    return () => {
      const i = this.finishHooks.indexOf(hook)
      if (i >= 0) this.finishHooks.splice(i, 1)
    }
  }

  /** Internal hook for LLM Observability: runs before every inject. */
  addInjectHook (hook: InjectHook): () => void {
    this.injectHooks.push(hook)
    return () => {
      const i = this.injectHooks.indexOf(hook)
      if (i >= 0) this.injectHooks.splice(i, 1)
    }
  }

  onSpanFinish (span: Span): void {
    for (let i = 0; i < this.finishHooks.length; i++) {
      try { this.finishHooks[i](span) } catch (err) { log.internalError('finish hook', err) }
    }
    this.aggregator.onSpanFinish(span)
  }

  /**
   * Sends everything finished so far; resolves when the agent has answered, retries ended, or
   * `timeoutMs` (default 5 s) passed. Traces with open spans keep their finished spans.
   */
  async flush (timeoutMs: number = DEFAULTS.flushTimeoutMs): Promise<void> {
    try {
      await this.writer?.flush(timeoutMs)
    } catch (err) {
      log.internalError('tracer.flush', err)
    }
  }

  /**
   * Sends finished spans (also those of traces with spans still open), waits for the agent and
   * the downstream stages at most `timeoutMs` in all, then stops. Idempotent.
   */
  shutdown (timeoutMs: number = DEFAULTS.shutdownTimeoutMs): Promise<void> {
    if (this.shutdownPromise !== undefined) return this.shutdownPromise
    this.removeExitFlush()
    this.shutdownPromise = (async () => {
      try {
        await this.drain(timeoutMs, true, true)
        if (this.holdsData()) log.warnOnce('tracer.shutdown.deadline', `shutdown deadline of ${timeoutMs} ms reached with data still pending`)
      } catch (err) {
        log.internalError('tracer.shutdown', err)
      } finally {
        this.transport?.close()
      }
    })()
    return this.shutdownPromise
  }

  private holdsData (): boolean {
    if (this.aggregator.waitingTraces > 0 || this.writer?.hasPending === true) return true
    for (const d of this.downstream) if (d.hasPending()) return true
    return false
  }

  /**
   * The one ordered drain behind shutdown, SIGTERM and natural exit, under one deadline: open
   * traces leave as partial chunks (their LLM events ride or are rescued), then trace payloads
   * settle (a refused one hands its events downstream), then the downstream stages flush. In
   * any other order an event rescued late lands in a writer that has already been flushed.
   */
  private async drain (timeoutMs: number, drainOpen: boolean, close = false): Promise<void> {
    const end = Date.now() + timeoutMs
    const left = (): number => Math.max(0, end - Date.now())
    if (drainOpen) this.aggregator.drainIncomplete()
    try {
      if (close) await this.writer?.shutdown(left())
      else await this.writer?.flush(left())
    } catch (err) {
      log.internalError('tracer.drain', err)
    }
    await Promise.allSettled([...this.downstream].map((d) => d.flush(left())))
  }
}

/** A stage fed by the trace writer's payload fates (LLM Observability). */
export interface DownstreamStage {
  hasPending (): boolean
  flush (timeoutMs: number): Promise<void>
}

export interface TracerStats {
  /** Traces holding finished spans while some of their spans are open. */
  openTraces: number
  /** Traces sent as partial chunks early because of the open-trace count or age bound. */
  openTracesEvicted: number
}

function isThenable (v: unknown): v is PromiseLike<unknown> {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function'
}

/** Rules match on a root span; an extracted context injected without a local span has none. */
function stubRoot (trace: TraceState, service: string): Span {
  return { service, name: '', resource: '', meta: {}, metrics: {}, traceId: trace.traceIdLow } as unknown as Span
}
