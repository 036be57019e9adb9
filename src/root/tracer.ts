import { DEFAULTS } from '../config/defaults.js'
import { resolveTracerConfig, type TracerConfig, type TracerOptions } from '../config/tracer_config.js'
import { describeError, describeValue, log } from '../diag/logger.js'
import { registerExitFlush, registerSigtermFlush } from './exit_flush.js'
import { startupBlock } from './startup.js'
import { TraceWriter } from '../export/trace_writer.js'
import type { OtlpExporter } from '../export/otlp_exporter.js'
import type { TraceSink } from '../export/trace_sink.js'
import { createOtlpExporter } from './otlp_sink.js'
import { SpanAggregator } from '../pipeline/aggregator.js'
import { ProcessorChain, type UserProcessor } from '../pipeline/processor_chain.js'
import { SamplingProcessor } from '../pipeline/sampling_processor.js'
import { TagsProcessor } from '../pipeline/tags_processor.js'
import { PrioritySampler } from '../sampling/priority_sampler.js'
import { HttpTransport } from '../transport/http_transport.js'
import { RetryingTransport } from '../transport/retrying_transport.js'
import { epochSecOf, monotonicFromEpochMs, monotonicNs } from '../model/clock.js'
import { activeSpanOf, defaultParentOf, spanStorage, storeWithSpan } from '../trace/context_storage.js'
import { randomId64, traceIdHigh } from '../model/ids.js'
import { extract as extractHeaders, inject as injectHeaders, newPropagationStats, type PropagationStats } from '../trace/propagation/propagator.js'
import { readTags, Span, type TagValue } from '../trace/span.js'
import { SpanContext } from '../trace/span_context.js'
import { ZERO_ID, type SpanData } from '../model/span_data.js'
import { newTraceState, type Chunk, type TraceState } from '../model/trace_state.js'

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
// Not `implements SpanSink`: onSpanFinish is internal, stripped from the published declarations.
export class Tracer {
  /** @internal */
  readonly config: TracerConfig
  /** @internal */
  readonly sampler: PrioritySampler
  /** @internal */
  readonly chain: ProcessorChain
  /** @internal Undefined when tracing export is disabled (`DD_TRACE_ENABLED=false`). */
  readonly writer: TraceWriter | undefined
  /** @internal The OTLP export mode's sink (`exporter: 'otlp'`); then there is no agent writer. */
  readonly otlp: OtlpExporter | undefined
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
    log.debug(() => startupBlock(this.config))
    this.sampler = new PrioritySampler({ rules: this.config.samplingRules, rateLimit: this.config.rateLimit })
    // OTLP mode: no Agent traffic at all. With DD_TRACE_ENABLED=false only LLM spans leave (discard).
    this.otlp = createOtlpExporter(this.config)
    if (this.otlp === undefined && this.config.enabled) {
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
    const sink = this.traceSink
    const enabled = this.config.enabled
    this.chain = new ProcessorChain(
      new SamplingProcessor(this.sampler, this.config.env),
      new TagsProcessor(),
      sink !== undefined ? (chunk) => { if (this.apmExport && enabled) sink.append(chunk); else sink.discard(chunk) } : () => {},
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
    // Also after shutdown(): spans finishing later still hand events to LLM Observability (the
    // closed trace writer refuses their chunks and the events are rescued), which must flush.
    this.removeExitFlush = registerExitFlush(() => {
      if (this.holdsData()) void this.drain(DEFAULTS.exitFlushTimeoutMs, true)
    })
  }

  /**
   * Runs `fn` inside a new active span and finishes it when `fn` returns, throws, or its promise
   * settles. Errors are recorded on the span and re-thrown unchanged.
   *
   * @example tracer.trace('db.query', { resource: 'SELECT 1' }, async (span) => db.query('SELECT 1'))
   */
  trace<T> (name: string, fn: (span: Span) => T): T
  trace<T> (name: string, options: SpanOptions, fn: (span: Span) => T): T
  trace<T> (name: string, options: SpanOptions | ((span: Span) => T), fn?: (span: Span) => T): T {
    if (typeof options === 'function') { fn = options; options = {} }
    if (typeof fn !== 'function') {
      log.warnOnce('tracer.trace.fn', 'tracer.trace() needs a function as its last argument; nothing traced')
      return undefined as T
    }
    const span = this.startSpan(name, options)
    // As dd-trace: a span the application chose to trace gets trace metrics (a tag may say otherwise).
    span.metrics['_dd.measured'] ??= 1
    const run = fn
    return spanStorage.run(storeWithSpan(spanStorage.getStore(), span), () => {
      let result: T
      try {
        result = run(span)
      } catch (err) {
        span.setError(err)
        span.finish()
        throw err
      }
      if (isThenable(result)) {
        try {
          return result.then((value) => {
            span.finish()
            return value
          }, (err: unknown) => {
            span.setError(err)
            span.finish()
            throw err
          }) as T
        } catch {
          // A thenable whose then() throws: the caller gets its value back as without tracing.
          if (!span.isFinished) span.finish()
          return result
        }
      }
      span.finish()
      return result
    })
  }

  /**
   * Starts a span (not activated); finish it yourself. Never throws: options that cannot be
   * read (throwing getters, Proxies) or have the wrong type are ignored with one warning.
   */
  startSpan (name: string, options: SpanOptions = {}): Span {
    if (typeof name !== 'string' || name === '') {
      log.warnOnce('tracer.startSpan.name', 'span name must be a non-empty string; using "unnamed"')
      name = 'unnamed'
    }
    // Everything user-supplied is read before the Span exists: its constructor opens the trace,
    // so a throw after it would leave the trace open forever.
    const o = readSpanOptions(options)
    const tags = o.tags === undefined ? undefined : readTags(o.tags, 'tracer.startSpan')
    let span: Span | undefined
    try {
      const parent = this.resolveParent(o.childOf)
      const startMono = o.startTime !== undefined ? monotonicFromEpochMs(o.startTime) : monotonicNs()
      let trace: TraceState
      let parentId: string
      if (parent === undefined) {
        trace = newTraceState(traceIdHigh(epochSecOf(startMono)), randomId64())
        parentId = ZERO_ID
      } else {
        trace = parent.trace
        parentId = parent.spanId
      }
      span = new Span(this, trace, randomId64(), parentId, name,
        o.service ?? this.config.service, o.resource ?? name, o.type ?? '', startMono)
      if (trace.localRoot === undefined) {
        trace.localRoot = span
        if (trace.rootMeta !== undefined) Object.assign(span.meta, trace.rootMeta)
      }
      // DD_TAGS first, so env/version and the span's own tags win; `service` is the span's field.
      const globalTags = this.config.tags
      for (const k in globalTags) if (k !== 'service') span.meta[k] = globalTags[k]
      if (this.config.env !== undefined) span.meta.env = this.config.env
      if (this.config.version !== undefined) span.meta.version = this.config.version
      if (tags !== undefined) for (const [k, v] of tags) span.setTag(k, v)
      return span
    } catch (err) {
      log.internalError('tracer.startSpan', err)
      // A constructed span is consistent (its trace counts it open until it finishes): return it.
      return span ?? new Span(this, newTraceState(traceIdHigh(epochSecOf(monotonicNs())), randomId64()), randomId64(), ZERO_ID, name, this.config.service, name, '', undefined)
    }
  }

  private resolveParent (childOf: unknown): { trace: TraceState, spanId: string } | undefined {
    if (childOf === null) return undefined
    if (childOf === undefined) return defaultParentOf(spanStorage.getStore())
    try {
      if (childOf instanceof Span || childOf instanceof SpanContext) {
        // Read once: a Proxy around a span may answer differently (or throw) on each access.
        const trace = childOf.trace
        const spanId = childOf.spanId
        if (typeof trace === 'object' && trace !== null && typeof spanId === 'string') return { trace, spanId }
      }
    } catch {
      // A Proxy trap threw: not a usable parent, warned below.
    }
    log.warnOnce('tracer.childOf', 'childOf must be a span or a span context; using the active span')
    return defaultParentOf(spanStorage.getStore())
  }

  activeSpan (): Span | undefined {
    return activeSpanOf(spanStorage.getStore())
  }

  /** Runs `fn` with `span` active (or no span, for `undefined`). */
  activate<T> (span: Span | undefined, fn: () => T): T {
    return spanStorage.run(storeWithSpan(spanStorage.getStore(), span), fn)
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
      this.decideFor(target)
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

  /**
   * @internal The trace's sampling priority, decided now if it was not yet: for callers that must expose
   * the final decision before the trace ends (the OTel bridge's `traceFlags`).
   */
  samplingPriorityOf (target: Span | SpanContext): number | undefined {
    try {
      this.decideFor(target)
      return target.trace.samplingPriority
    } catch (err) {
      log.internalError('tracer.samplingPriorityOf', err)
      return undefined
    }
  }

  private decideFor (target: Span | SpanContext): void {
    const trace = target.trace
    this.sampler.decide(trace, trace.localRoot ?? (target instanceof Span ? target : undefined) ?? stubRoot(trace, this.config.service), this.config.env)
  }

  private readonly propagation: PropagationStats = newPropagationStats()

  /** What `extract()` saw so far: contexts used, and headers rejected as invalid (see PropagationStats). */
  propagationStats (): PropagationStats {
    return { ...this.propagation }
  }

  /**
   * Reads propagation headers; the result can be used as `childOf`. Null when absent or invalid
   * (an invalid one warns once and counts in `propagationStats().invalid`): a new trace starts.
   */
  extract (carrier: unknown): SpanContext | null {
    try {
      const ex = extractHeaders(carrier, { stats: this.propagation })
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
   * @internal
   * Registers a stage downstream of the trace writer (LLM Observability's writers): flushes and
   * exits deliver traces first, whose payload fates may hand it events, then flush it.
   */
  addDownstream (stage: DownstreamStage): () => void {
    this.downstream.add(stage)
    return () => {
      this.downstream.delete(stage)
      this.releaseExitFlushIfDone()
    }
  }

  /** @internal Finished spans still held because their trace has open spans (see SpanAggregator). */
  waitingSpans (): IterableIterator<SpanData> {
    return this.aggregator.waitingSpans()
  }

  /** @internal Where chunks go: the agent's trace writer, or the OTLP exporter. */
  get traceSink (): TraceSink | undefined {
    return this.writer ?? this.otlp
  }

  /** Pipeline counters users can read. */
  stats (): TracerStats {
    const out: TracerStats = { openTraces: this.aggregator.waitingTraces, openTracesEvicted: this.aggregator.evicted }
    if (this.otlp !== undefined) out.otlp = { ...this.otlp.stats, spansDropped: { ...this.otlp.stats.spansDropped } }
    return out
  }

  /** @internal LLM Observability with `DD_APM_TRACING_ENABLED=false`: spans still exist, APM payloads do not. */
  setApmExport (enabled: boolean): void {
    this.apmExport = enabled
  }

  /** @internal Hook for LLM Observability: runs at every span finish before aggregation. */
  addFinishHook (hook: FinishHook): () => void {
    this.finishHooks.push(hook)
    return () => {
      const i = this.finishHooks.indexOf(hook)
      if (i >= 0) this.finishHooks.splice(i, 1)
    }
  }

  /** @internal Hook for LLM Observability: runs before every inject. */
  addInjectHook (hook: InjectHook): () => void {
    this.injectHooks.push(hook)
    return () => {
      const i = this.injectHooks.indexOf(hook)
      if (i >= 0) this.injectHooks.splice(i, 1)
    }
  }

  /** @internal The spans' sink (SpanSink). */
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
      await this.traceSink?.flush(timeoutMs)
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
    this.shutdownPromise = (async () => {
      try {
        await this.drain(timeoutMs, true, true)
        if (this.holdsData()) log.warnOnce('tracer.shutdown.deadline', `shutdown deadline of ${timeoutMs} ms reached with data still pending`)
      } catch (err) {
        log.internalError('tracer.shutdown', err)
      } finally {
        this.transport?.close()
        this.releaseExitFlushIfDone()
      }
    })()
    return this.shutdownPromise
  }

  /** After shutdown, the exit flush stays only while a downstream stage may still receive events. */
  private releaseExitFlushIfDone (): void {
    if (this.shutdownPromise !== undefined && this.downstream.size === 0) this.removeExitFlush()
  }

  private holdsData (): boolean {
    if (this.aggregator.waitingTraces > 0 || this.traceSink?.hasPending === true) return true
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
      if (close) await this.traceSink?.shutdown(left())
      else await this.traceSink?.flush(left())
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
  /** OTLP export mode only: spans exported, sampled out, dropped by reason, rejected by the backend (partial success), requests, retries. */
  otlp?: {
    spansExported: number
    spansSampledOut: number
    spansDropped: Partial<Record<string, number>>
    spansRejected: number
    requestsSent: number
    requestsFailed: number
    retries: number
    bytesSent: number
  }
}

/** Never throws: a value whose `then` getter throws is simply not a thenable. */
function isThenable (v: unknown): v is PromiseLike<unknown> {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return false
  try { return typeof (v as { then?: unknown }).then === 'function' } catch { return false }
}

const NO_OPTIONS: ReadOptions = Object.freeze({ resource: undefined, type: undefined, service: undefined, tags: undefined, childOf: undefined, startTime: undefined })

interface ReadOptions {
  resource: string | undefined
  type: string | undefined
  service: string | undefined
  tags: unknown
  childOf: unknown
  startTime: number | undefined
}

/**
 * Copies the span options into plain locals, each read guarded; one that throws or has the
 * wrong type is left out with one warning. `childOf` is kept as given (`null` means "new trace").
 */
function readSpanOptions (options: unknown): ReadOptions {
  if (options === null || options === undefined) return NO_OPTIONS
  if (typeof options !== 'object' && typeof options !== 'function') {
    warnOption(() => `span options must be an object, got ${describeValue(options)}`)
    return NO_OPTIONS
  }
  let resource: unknown, type: unknown, service: unknown, tags: unknown, childOf: unknown, startTime: unknown
  try {
    // One guarded read of every field: the span start path, so no per-key try and no loop.
    ({ resource, type, service, tags, childOf, startTime } = options as Record<string, unknown>)
  } catch {
    return readSpanOptionsGuarded(options as Record<string, unknown>)
  }
  if (resource === undefined && type === undefined && service === undefined && tags === undefined && childOf === undefined && startTime === undefined) return NO_OPTIONS
  return checkedOptions(resource, type, service, tags, childOf, startTime)
}

/** A getter or Proxy trap threw: read key by key, so one bad option does not lose the others. */
function readSpanOptionsGuarded (source: Record<string, unknown>): ReadOptions {
  return checkedOptions(readOption(source, 'resource'), readOption(source, 'type'), readOption(source, 'service'),
    readOption(source, 'tags'), readOption(source, 'childOf'), readOption(source, 'startTime'))
}

function checkedOptions (resource: unknown, type: unknown, service: unknown, tags: unknown, childOf: unknown, startTime: unknown): ReadOptions {
  const o: ReadOptions = { resource: stringOption('resource', resource), type: stringOption('type', type), service: stringOption('service', service), tags, childOf, startTime: undefined }
  if (typeof startTime === 'number' && Number.isFinite(startTime)) o.startTime = startTime
  else if (startTime !== undefined) warnOption(() => `span option startTime must be a finite number of epoch milliseconds, got ${describeValue(startTime)}`)
  return o
}

function stringOption (key: string, v: unknown): string | undefined {
  if (typeof v === 'string' || v === undefined) return v
  warnOption(() => `span option ${key} must be a string, got ${describeValue(v)}`)
  return undefined
}

function readOption (source: Record<string, unknown>, key: string): unknown {
  try {
    return source[key]
  } catch (err) {
    warnOption(() => `span option ${key} could not be read (${describeError(err)})`)
    return undefined
  }
}

function warnOption (what: () => string): void {
  log.warnOnce('tracer.startSpan.options', () => `${what()}; ignored (further bad options are ignored silently)`)
}

/** Rules match on a root span; an extracted context injected without a local span has none. */
function stubRoot (trace: TraceState, service: string): Span {
  return { service, name: '', resource: '', meta: {}, metrics: {}, traceId: trace.traceIdLow } as unknown as Span
}
