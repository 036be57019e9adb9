import { inspect } from 'node:util'
import { DEFAULTS } from '../config/defaults.js'
import { defaultMlApp, resolveLlmobsConfig, type LlmobsOptions, type SpoolConfig } from '../config/llmobs_config.js'
import { describeError, describeValue, log } from '../diag/logger.js'
import { DeliveryLedger, type LlmobsStats } from '../export/ledger.js'
import { getTracer } from '../root/global_tracer.js'
import { hexToDecimal, randomId64, traceIdHigh } from '../model/ids.js'
import { Span } from '../trace/span.js'
import type { SpanContext } from '../trace/span_context.js'
import { activeAnnotations, activeLlmobsSpan as llmobsSpanHere, runWithAnnotations, runWithLlmobsSpan } from '../trace/context_storage.js'
import type { TraceState } from '../model/trace_state.js'
import type { Tracer } from '../root/tracer.js'
import { writeBridgeTags } from './apm_tags.js'
import type { Annotation, LlmobsSpan } from './annotation_types.js'
import { normalizeIO, normalizeMetrics, normalizeObject, normalizeTags } from './annotations.js'
import { chooseMode, isSafeIntakeUrl, type ExportMode } from './export_mode.js'
import { isSpan, isThenable, nameOf, readAnnotation, readContextOptions, readTraceOptions } from './read_options.js'
import { LlmobsCore, type EventProcessor, type Ledgers } from './llmobs_core.js'
import { isModelKind, isSpanKind, type SpanKind } from './span_kinds.js'
import { flushOneTrace, traceOf } from './trace_flush.js'
import { getState, setState, type LlmobsSpanState } from './span_state.js'
import { Spool, type SpoolRef } from '../spool/spool.js'

/** `K`: the kind, known to the type checker when given as a literal (it types `annotate()` on the span). */
export interface LlmobsTraceOptions<K extends SpanKind = SpanKind> {
  kind: K
  name?: string
  modelName?: string
  modelProvider?: string
  sessionId?: string
  mlApp?: string
}

export interface ExportedSpan { spanId: string, traceId: string }

/** @internal Where an adopted span sits in its LLMObs trace (see `adoptSpan`). */
export interface LlmobsLink { traceId: string, parentId: string, mlApp: string | undefined }

/** `llmobs.flush({ trace })`: one trace only (see `flushTrace`). */
export interface FlushOptions {
  /** A span, a span context, or `span.trace`; the key present means "this trace only". */
  trace?: Span | SpanContext | TraceState
  timeoutMs?: number
}

/** An evaluation's value has the type its `metricType` names (the intake refuses any other). */
export type EvaluationOptions = { label: string, tags?: Record<string, string>, mlApp?: string, timestampMs?: number } & (
  | { metricType: 'categorical', value: string }
  | { metricType: 'score', value: number }
  | { metricType: 'boolean', value: boolean })

/** Tags (and a span name) `llmobs.annotationContext()` applies to the LLMObs spans started inside it. */
export interface AnnotationContext { tags?: Record<string, unknown>, name?: string }

const PARENT_TAG = '_dd.p.llmobs_parent_id'
const TRACE_TAG = '_dd.p.llmobs_trace_id'
const ML_APP_TAG = '_dd.p.llmobs_ml_app'
const LIMITS = { maxDepth: DEFAULTS.llmobs.maxAnnotationDepth }

/**
 * The LLM Observability API. Safe to call in any state: before `enable()` spans are plain APM
 * spans; misuse warns once and does nothing.
 */
export class LLMObs {
  /** `tracerOf` picks the tracer to ride on: the process-wide one, unless a test or embedder gives its own. */
  constructor (private readonly tracerOf: () => Tracer = getTracer) {}

  /** The enabled core; undefined while disabled. */
  private core: LlmobsCore | undefined
  /** Every core not yet retired: the enabled one and disabled ones still delivering. */
  private readonly cores = new Set<LlmobsCore>()
  /** One account across enable/disable cycles (DESIGN §4's invariant holds over all of them). */
  private readonly ledgers: Ledgers = { spans: new DeliveryLedger(), evals: new DeliveryLedger('LLM Observability evaluation') }
  private retiredRetries = { spans: 0, evals: 0 }
  private spoolDir: string | undefined
  private readonly processors: EventProcessor[] = []
  private autoChecked = false
  private removeInjectHook: (() => void) | undefined

  get enabled (): boolean { return this.core !== undefined }

  // The core holds the API key (agentless): printing or serialising the SDK must never show it.
  [inspect.custom] (): string { return `LLMObs { enabled: ${String(this.enabled)}, exportMode: ${String(this.exportMode)} }` }
  toJSON (): Record<string, unknown> { return { enabled: this.enabled, exportMode: this.exportMode } }
  get exportMode (): ExportMode | undefined { return this.core?.mode }

  /**
   * Turns LLM Observability on (synchronously; agent discovery continues in the background).
   * @example llmobs.enable({ mlApp: 'support-bot' })
   */
  enable (options: LlmobsOptions = {}): boolean {
    if (this.core !== undefined) {
      log.warnOnce('llmobs.enable.twice', 'llmobs.enable() called while already enabled; ignored')
      return true
    }
    try {
      const config = resolveLlmobsConfig(options)
      const tracer = this.tracerOf()
      const mode = chooseMode(config, tracer.config.enabled, tracer.config.exporter === 'otlp')
      if (mode === 'apm_agentless' || mode === 'llmobs_agentless') {
        if (config.apiKey === undefined) {
          log.warn('LLM Observability agentless mode needs an API key (DD_API_KEY or the apiKey option); LLM Observability is NOT enabled')
          return false
        }
        if (!isSafeIntakeUrl(config.intakeUrl) || !isSafeIntakeUrl(config.evalIntakeUrl) || !isSafeIntakeUrl(config.traceIntakeUrl)) {
          log.warn('LLM Observability agentless mode sends the API key, so it only uses https:// (or http:// to loopback); LLM Observability is NOT enabled')
          return false
        }
      }
      this.openSpool(config.spool)
      const core = new LlmobsCore(tracer, config, mode, this.ledgers, this.processors, (c) => this.onRetired(c))
      this.core = core
      this.cores.add(core)
      this.replaySpool(core)
      this.autoChecked = true
      this.removeInjectHook = tracer.addInjectHook((target, trace) => this.onInject(target, trace))
      return true
    } catch (err) {
      log.internalError('llmobs.enable', err)
      return false
    }
  }

  /**
   * Stops LLM Observability: new spans are plain APM spans. Spans already started still become
   * events, and every event created while enabled is still delivered (and counted in `stats()`)
   * after this resolves, if its trace is still open; the promise waits for what can be
   * delivered now, at most the shutdown deadline.
   */
  async disable (): Promise<void> {
    const core = this.core
    this.core = undefined
    this.removeInjectHook?.()
    this.removeInjectHook = undefined
    if (core === undefined) return
    try {
      core.disable()
      if (!core.retired) await core.flush(DEFAULTS.shutdownTimeoutMs)
    } catch (err) {
      log.internalError('llmobs.disable', err)
    }
  }

  /**
   * The spool is opened at the first enable that asks for one and kept, like the ledgers: its
   * records are theirs. A later enable naming another directory keeps the first (warned).
   */
  private openSpool (config: SpoolConfig | undefined): void {
    if (config === undefined) return
    if (this.spoolDir !== undefined) {
      if (this.spoolDir !== config.dir) log.warnOnce('llmobs.spool.dir', `llmobs.enable(): the spool stays in ${this.spoolDir}; a process keeps one spool`)
      return
    }
    this.spoolDir = config.dir
    const spool = Spool.open(config)
    if (spool === undefined) return
    this.ledgers.spool = spool
    this.ledgers.spans.onRelease = this.ledgers.evals.onRelease = (ref) => spool.release(ref as SpoolRef)
  }

  /** Replays what dead processes left, once per enable, through the core enabled now. */
  private replaySpool (core: LlmobsCore): void {
    const spool = this.ledgers.spool
    if (spool === undefined) return
    spool.replay((kind, json, ref) => core.replayEvent(kind, json, ref))
      .catch((err: unknown) => log.internalError('llmobs.spool.replay', err))
  }

  private onRetired (core: LlmobsCore): void {
    this.retiredRetries.spans += core.spanRetries
    this.retiredRetries.evals += core.evalRetries
    this.cores.delete(core)
  }

  /**
   * Runs `fn` inside a new LLM Observability span of `kind`, finished when `fn` returns, throws
   * or its promise settles.
   * @example await llmobs.trace({ kind: 'workflow', name: 'answer' }, async (span) => { ... })
   */
  trace<K extends SpanKind, T> (options: LlmobsTraceOptions<K>, fn: (span: LlmobsSpan<K>) => T): T {
    if (typeof fn !== 'function') {
      log.warnOnce('llmobs.trace.fn', 'llmobs.trace() needs a function; nothing traced')
      return undefined as T
    }
    this.autoEnable()
    const tracer = this.tracerOf()
    // A plain copy: user options may be Proxies or have getters that throw (or change) on each read.
    const opts = readTraceOptions(options, 'llmobs.trace')
    if (!isSpanKind(opts.kind)) {
      const kind = opts.kind
      log.warnOnce('llmobs.trace.kind', () => `llmobs.trace(): invalid kind ${describeValue(kind)}; expected one of llm, embedding, retrieval, tool, task, workflow, agent. Traced as a plain APM span`)
      return tracer.trace(typeof opts.name === 'string' && opts.name !== '' ? opts.name : (nameOf(fn) || 'llmobs.unknown'), fn)
    }
    const name = typeof opts.name === 'string' && opts.name !== '' ? opts.name : (nameOf(fn) || opts.kind)
    return tracer.trace(name, { type: 'llm' }, (span) => {
      try {
        this.startLlmobsSpan(span, opts, name)
      } catch (err) {
        // fn must run exactly once whatever happens here: the span stays a plain APM span.
        log.internalError('llmobs.trace', err)
      }
      return runWithLlmobsSpan(span, () => fn(span))
    })
  }

  /**
   * Wraps `fn` so every call is traced. For non-model kinds the arguments and the return value
   * (awaited, for promises) are recorded as input and output.
   */
  wrap<A extends unknown[], R> (options: LlmobsTraceOptions, fn: (...args: A) => R): (...args: A) => R {
    if (typeof fn !== 'function') {
      log.warnOnce('llmobs.wrap.fn', 'llmobs.wrap() needs a function; returned unchanged')
      return fn
    }
    const trace = this.trace.bind(this)
    const annotate = this.annotate.bind(this)
    const opts = readTraceOptions(options, 'llmobs.wrap')
    if (opts.name === undefined || opts.name === null) {
      const fnName = nameOf(fn)
      opts.name = fnName !== '' ? fnName : undefined
    }
    const record = isSpanKind(opts.kind) && !isModelKind(opts.kind)
    return function (this: unknown, ...args: A): R {
      return trace(opts, (span) => {
        if (record) annotate(span, { inputData: args.length === 1 ? args[0] : args })
        // Reflect.apply: reading fn.apply would run a Proxy's get trap, which may throw.
        const out = Reflect.apply(fn, this, args)
        if (record) {
          if (isThenable(out)) {
            try {
              return out.then((v) => { annotate(span, { outputData: v }); return v }) as R
            } catch {
              // then() threw: hand the value back untouched; the output stays unrecorded.
              return out
            }
          }
          annotate(span, { outputData: out })
        }
        return out
      })
    } as (...args: A) => R
  }

  /**
   * Adds inputs, outputs, metadata, metrics, tags or tool definitions to an LLMObs span (default:
   * the active one). On the span `llmobs.trace()` gives, inputs and outputs are typed by its kind.
   * @example llmobs.annotate(span, { inputData: [{ role: 'user', content: 'Hi' }], outputData: 'Hello!' })
   */
  annotate<K extends SpanKind = SpanKind> (span: LlmobsSpan<K>, annotation: Annotation<K>): void
  annotate (annotation: Annotation): void
  annotate (spanOrAnnotation?: Span | Annotation, maybe?: Annotation): void {
    try {
      let span: Span | undefined
      let a: Annotation | undefined
      if (isSpan(spanOrAnnotation)) { span = spanOrAnnotation; a = maybe } else if (maybe === undefined) { a = spanOrAnnotation as Annotation } else {
        log.warnOnce('llmobs.annotate.span', 'llmobs.annotate(): the first argument is not a span; nothing annotated')
        return
      }
      span ??= llmobsSpanHere()
      const st = span === undefined ? undefined : getState(span)
      if (span === undefined || st === undefined) {
        log.warnOnce('llmobs.annotate.none', 'llmobs.annotate(): no LLM Observability span to annotate (pass one, or call it inside llmobs.trace()); nothing annotated')
        return
      }
      if (span.isFinished || st.record !== undefined) {
        log.warnOnce('llmobs.annotate.finished', 'llmobs.annotate(): the span has already finished; nothing annotated')
        return
      }
      if (a === null || typeof a !== 'object') {
        log.warnOnce('llmobs.annotate.arg', 'llmobs.annotate(): the annotation must be an object; nothing annotated')
        return
      }
      a = readAnnotation(a)
      const stats = { replaced: 0 }
      // Sizes are measured on the normalised values: user objects may have throwing getters, or
      // hold their bulk where a key walk does not see it (Map, Set, toJSON).
      if (a.inputData !== undefined) {
        st.input = normalizeIO(st.kind, 'input', a.inputData, LIMITS, stats)
        st.annotatedUnits += roughUnits(st.input)
      }
      if (a.outputData !== undefined) {
        st.output = normalizeIO(st.kind, 'output', a.outputData, LIMITS, stats)
        st.annotatedUnits += roughUnits(st.output)
      }
      const md = normalizeObject(a.metadata, 'metadata', LIMITS, stats)
      if (md !== undefined) {
        st.metadata = { ...st.metadata, ...md }
        st.annotatedUnits += roughUnits(md)
      }
      if (a.metrics !== undefined) {
        const metrics = normalizeMetrics(a.metrics)
        Object.assign(st.metrics, metrics)
        st.annotatedUnits += roughUnits(metrics)
      }
      if (a.tags !== undefined) {
        const tags = normalizeTags(a.tags)
        Object.assign(st.tags, tags)
        st.annotatedUnits += roughUnits(tags)
      }
      if (a.toolDefinitions !== undefined) {
        if (Array.isArray(a.toolDefinitions)) {
          st.toolDefinitions = normalizeObject({ d: a.toolDefinitions }, 'toolDefinitions', LIMITS, stats)?.d as unknown[]
          st.annotatedUnits += roughUnits(st.toolDefinitions)
        } else {
          log.warnOnce('llmobs.annotate.tools', 'llmobs.annotate(): toolDefinitions must be an array; ignored')
        }
      }
      if (stats.replaced > 0) log.warnOnce('llmobs.annotate.replaced', 'llmobs.annotate(): some values could not be represented in JSON and were replaced by a description')
    } catch (err) {
      log.internalError('llmobs.annotate', err)
    }
  }

  /** Applies tags (and a name) to every LLMObs span started inside `fn`. */
  annotationContext<T> (options: AnnotationContext, fn: () => T): T {
    if (typeof fn !== 'function') {
      log.warnOnce('llmobs.annotationContext.fn', 'llmobs.annotationContext() needs a function')
      return undefined as T
    }
    let merged: AnnotationContext | undefined
    try {
      const outer = (activeAnnotations() as AnnotationContext | undefined)
      const o = readContextOptions(options)
      merged = { tags: { ...outer?.tags, ...o.tags }, name: o.name ?? outer?.name }
    } catch (err) {
      log.internalError('llmobs.annotationContext', err)
    }
    return merged === undefined ? fn() : runWithAnnotations(merged, fn)
  }

  /** The identity evaluations join on: `{ spanId, traceId }` of an LLMObs span (default: the active one). */
  exportSpan (span?: Span): ExportedSpan | undefined {
    try {
      const target = span === undefined || span === null ? llmobsSpanHere() : (isSpan(span) ? span : undefined)
      const st = target === undefined ? undefined : getState(target)
      if (target === undefined || st === undefined) {
        log.warnOnce('llmobs.exportSpan', 'llmobs.exportSpan(): not an LLM Observability span')
        return undefined
      }
      return { spanId: hexToDecimal(target.spanId), traceId: st.traceId }
    } catch (err) {
      // A Proxy around a span whose traps throw.
      log.warnOnce('llmobs.exportSpan.unreadable', () => `llmobs.exportSpan(): the span could not be read (${describeError(err)})`)
      return undefined
    }
  }

  submitEvaluation (exported: ExportedSpan | undefined, options: EvaluationOptions): void {
    try {
      const core = this.core
      if (core === undefined) { log.warnOnce('llmobs.eval.disabled', 'llmobs.submitEvaluation(): LLM Observability is not enabled; ignored'); return }
      if (exported === undefined || exported === null || typeof exported.spanId !== 'string' || typeof exported.traceId !== 'string') {
        log.warnOnce('llmobs.eval.span', 'llmobs.submitEvaluation(): needs the { spanId, traceId } of llmobs.exportSpan(); ignored')
        return
      }
      const o = options ?? ({} as EvaluationOptions)
      const expected = { categorical: 'string', score: 'number', boolean: 'boolean' }[o.metricType]
      if (typeof o.label !== 'string' || o.label === '' || expected === undefined || typeof o.value !== expected) {
        log.warnOnce('llmobs.eval.value', 'llmobs.submitEvaluation(): needs a label, metricType categorical|score|boolean and a value of the matching type; ignored')
        return
      }
      const mlApp = o.mlApp ?? defaultMlApp(core.config, undefined)
      const tags = [`ml_app:${mlApp}`, ...Object.entries(normalizeTags(o.tags)).map(([k, v]) => `${k}:${v}`)]
      const metric = {
        join_on: { span: { span_id: exported.spanId, trace_id: exported.traceId } },
        label: o.label,
        metric_type: o.metricType,
        [`${o.metricType}_value`]: o.value,
        ml_app: mlApp,
        timestamp_ms: typeof o.timestampMs === 'number' ? Math.round(o.timestampMs) : Date.now(),
        tags,
      }
      core.submitEvaluationJson(JSON.stringify(metric))
    } catch (err) {
      log.internalError('llmobs.submitEvaluation', err)
    }
  }

  /** Runs on every event before it is attached or buffered: edit it, or return null to drop it. */
  registerProcessor (fn: EventProcessor): void {
    if (typeof fn !== 'function') { log.warnOnce('llmobs.processor', 'llmobs.registerProcessor() needs a function'); return }
    this.processors.push(fn)
  }

  /** The delivery ledger (DESIGN §4), over every enable/disable cycle of this instance. */
  stats (): LlmobsStats {
    let spanRetries = this.retiredRetries.spans
    let evalRetries = this.retiredRetries.evals
    for (const c of this.cores) { spanRetries += c.spanRetries; evalRetries += c.evalRetries }
    const spans = this.ledgers.spans.totals(spanRetries)
    return {
      created: spans.created,
      ...this.ledgers.spans.routeCounts(),
      delivered: spans.delivered,
      pending: spans.pending,
      retried: spans.retried,
      truncated: this.ledgers.spans.truncatedCount,
      dropped: spans.dropped,
      spooled: this.ledgers.spool?.stats().spooled ?? 0,
      evaluations: this.ledgers.evals.totals(evalRetries),
      ...(this.ledgers.spool !== undefined ? { spool: this.ledgers.spool.stats() } : {}),
    }
  }

  /**
   * Delivers everything finished so far, also LLM spans whose trace is still open and events of
   * a disabled instance still in flight; resolves when the destinations answered or after
   * `timeoutMs` (default 5 s; discovery of the agent counts against it). What is left stays
   * pending, owned by the ledger.
   */
  async flush (timeoutMs: number | FlushOptions = DEFAULTS.flushTimeoutMs): Promise<void> {
    if (typeof timeoutMs === 'object' && timeoutMs !== null) return this.flushScoped(timeoutMs)
    // Exporter sockets do not hold the process open (http_transport.ts); a caller awaiting the
    // flush does want it held while agent discovery finishes, so hold it here.
    const hold = setInterval(() => {}, 1 << 30)
    try {
      const t = typeof timeoutMs === 'number' && timeoutMs >= 0 ? timeoutMs : DEFAULTS.flushTimeoutMs
      await Promise.all([...this.cores].map((c) => c.flush(t)))
    } catch (err) {
      log.internalError('llmobs.flush', err)
    } finally {
      clearInterval(hold)
    }
  }

  /**
   * @internal The OTel bridge: makes `span`, about to finish, an LLMObs span from what a GenAI
   * mapping found on it. `link` names its LLMObs trace and parent when the bridge knows them (OTel
   * parents are mapped only at their own end); otherwise they are found as for `llmobs.trace()`.
   * False when LLM Observability is off: the span stays a plain APM span.
   */
  adoptSpan (span: Span, opts: LlmobsTraceOptions, annotation: Annotation, link?: LlmobsLink): boolean {
    try {
      this.autoEnable()
      if (this.core === undefined || getState(span) !== undefined || !isSpanKind(opts.kind)) return false
      this.startLlmobsSpan(span, opts, typeof opts.name === 'string' && opts.name !== '' ? opts.name : opts.kind, link)
      if (getState(span) === undefined) return false
      this.annotate(span, annotation)
      return true
    } catch (err) {
      log.internalError('llmobs.adoptSpan', err)
      return false
    }
  }

  /** @internal The LLMObs span active here (the bridge parents OTel GenAI spans under it). */
  activeLlmobsSpan (): Span | undefined {
    return llmobsSpanHere()
  }

  /** @internal Told about every LLMObs span started (the bridge's "one call, one span" rule). */
  onSpanStart (listener: (span: Span, state: LlmobsSpanState) => void): () => void {
    this.startListeners.push(listener)
    return () => {
      const i = this.startListeners.indexOf(listener)
      if (i >= 0) this.startListeners.splice(i, 1)
    }
  }

  private readonly startListeners: Array<(span: Span, state: LlmobsSpanState) => void> = []

  /**
   * Request-scoped flush, for serverless: resolves when the events of one trace (default: the
   * active span's) are delivered, or after `timeoutMs` (default 2 s). Its APM payload is sent
   * now, and so are its events held by the LLMObs writer; other traces are not waited for. In a
   * trace still open, finished LLM spans' events are taken out and sent (as `flush()` does);
   * spans still running are not waited for. Never throws.
   * @example await llmobs.flushTrace(span)
   */
  async flushTrace (target?: Span | SpanContext | TraceState, options?: { timeoutMs?: number }): Promise<void> {
    try {
      const tracer = this.tracerOf()
      const trace = traceOf(target, () => tracer.activeSpan())
      if (trace === undefined) return
      if (this.core === undefined) log.warnOnce('llmobs.flushTrace.disabled', 'llmobs.flushTrace(): LLM Observability is not enabled; only the APM trace and events created before disable() are flushed')
      const t = options?.timeoutMs
      await flushOneTrace(tracer, trace, typeof t === 'number' && t >= 0 ? t : DEFAULTS.traceFlushTimeoutMs)
    } catch (err) {
      log.internalError('llmobs.flushTrace', err)
    }
  }

  private flushScoped (options: FlushOptions): Promise<void> {
    let trace: unknown, timeoutMs: unknown, scoped: boolean
    try {
      ({ trace, timeoutMs } = options)
      scoped = 'trace' in options
    } catch {
      log.warnOnce('llmobs.flush.options', 'llmobs.flush(): its options could not be read; nothing flushed')
      return Promise.resolve()
    }
    const t = typeof timeoutMs === 'number' ? timeoutMs : undefined
    if (!scoped) return this.flush(t)
    if (trace === undefined || trace === null) {
      // A trace that was not found, not a request for the active one (nor for all of them).
      log.warnOnce('llmobs.flushTrace.arg', 'llmobs.flush({ trace }): trace is undefined (no span was found?); nothing flushed')
      return Promise.resolve()
    }
    return this.flushTrace(trace as Span, { timeoutMs: t })
  }

  private autoEnable (): void {
    if (this.autoChecked) return
    this.autoChecked = true
    if (this.core === undefined && resolveLlmobsConfig({}).enabled) this.enable()
  }

  private startLlmobsSpan (span: Span, opts: LlmobsTraceOptions, name: string, link?: LlmobsLink): void {
    const core = this.core
    if (core === undefined) return
    const parentSpan = llmobsSpanHere()
    const parent = parentSpan !== undefined && parentSpan.traceId === span.traceId ? getState(parentSpan) : undefined
    const ctx = (activeAnnotations() as AnnotationContext | undefined)
    const tags = span.trace.tags
    let traceId: string
    let parentId: string
    let mlApp: string | undefined = typeof opts.mlApp === 'string' && opts.mlApp !== '' ? opts.mlApp : undefined
    if (link !== undefined) {
      traceId = link.traceId
      parentId = link.parentId
      mlApp ??= link.mlApp
    } else if (parent !== undefined && parentSpan !== undefined) {
      traceId = parent.traceId
      parentId = parent.spanIdDec ??= hexToDecimal(parentSpan.spanId)
      mlApp ??= parent.mlApp
    } else {
      const root = rootLlmobsLink(tags)
      traceId = root.traceId
      parentId = root.parentId
      mlApp ??= root.mlApp
    }
    const st: LlmobsSpanState = {
      owner: core,
      kind: opts.kind,
      name: ctx?.name ?? name,
      mlApp: mlApp ?? defaultMlApp(core.config, undefined),
      sessionId: typeof opts.sessionId === 'string' ? opts.sessionId : parent?.sessionId,
      modelName: typeof opts.modelName === 'string' ? opts.modelName : undefined,
      modelProvider: typeof opts.modelProvider === 'string' ? opts.modelProvider : undefined,
      traceId,
      parentId,
      input: undefined,
      output: undefined,
      metadata: undefined,
      metrics: {},
      tags: ctx?.tags !== undefined ? normalizeTags(ctx.tags) : {},
      toolDefinitions: undefined,
      record: undefined,
      spanIdDec: undefined,
      annotatedUnits: 0,
    }
    // annotationContext() tags; the state's scalars are bounded at finish (size_gate.ts).
    st.annotatedUnits = roughUnits(st.tags)
    setState(span, st)
    writeBridgeTags(span, st, st.spanIdDec = hexToDecimal(span.spanId))
    core.noteSpanStarted()
    for (const l of this.startListeners) {
      try { l(span, st) } catch (err) { log.internalError('llmobs span start listener', err) }
    }
  }

  /** Downstream services continue this LLMObs trace under the span that made the call. */
  private onInject (target: Span | SpanContext, trace: TraceState): Record<string, string> | undefined {
    const own = target instanceof Span ? getState(target) : undefined
    const active = llmobsSpanHere()
    const span = own !== undefined ? target as Span : (active !== undefined && active.traceId === trace.traceIdLow ? active : undefined)
    const st = span === undefined ? undefined : getState(span)
    if (span === undefined || st === undefined) return undefined
    return {
      [PARENT_TAG]: hexToDecimal(span.spanId),
      [TRACE_TAG]: BigInt('0x' + st.traceId).toString(10),
      [ML_APP_TAG]: st.mlApp,
    }
  }
}

/**
 * An upper bound on the UTF-16 units a value adds to an event, cheap for the usual shapes
 * (strings, arrays of messages); anything unusual returns Infinity and gets measured exactly.
 */
function roughUnits (v: unknown, depth = 0): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'string') return v.length + 8
  if (typeof v !== 'object') return 32
  if (depth > 3) return Infinity
  let n = 16
  if (Array.isArray(v)) {
    for (const x of v) n += roughUnits(x, depth + 1)
    return n
  }
  for (const k in v) n += k.length + roughUnits((v as Record<string, unknown>)[k], depth + 1)
  return n
}

/**
 * @internal Where the first LLMObs span of this process in a trace sits: under the upstream
 * service's LLMObs span when the trace came with `_dd.p.llmobs_*` tags, else at a new LLMObs trace.
 */
export function rootLlmobsLink (tags: Record<string, string>): LlmobsLink {
  if (tags[TRACE_TAG] !== undefined && tags[PARENT_TAG] !== undefined) {
    return {
      traceId: decimalToHex128(tags[TRACE_TAG]) ?? newLlmobsTraceId(),
      // From a header anyone can send: a parent id the intake refuses would take the span with it.
      parentId: /^[1-9][0-9]{0,19}$/.test(tags[PARENT_TAG]) ? tags[PARENT_TAG] : 'undefined',
      mlApp: tags[ML_APP_TAG],
    }
  }
  return { traceId: newLlmobsTraceId(), parentId: 'undefined', mlApp: undefined }
}

function newLlmobsTraceId (): string {
  return traceIdHigh(Math.floor(Date.now() / 1000)) + randomId64()
}

function decimalToHex128 (dec: string): string | undefined {
  if (!/^[0-9]{1,39}$/.test(dec)) return undefined
  const n = BigInt(dec)
  if (n === 0n || n >= 1n << 128n) return undefined
  return n.toString(16).padStart(32, '0')
}

export const llmobs = new LLMObs()
