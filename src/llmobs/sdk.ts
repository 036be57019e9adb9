import { AsyncLocalStorage } from 'node:async_hooks'
import { inspect } from 'node:util'
import { DEFAULTS } from '../config/defaults.js'
import { defaultMlApp, resolveLlmobsConfig, type LlmobsOptions } from '../config/llmobs_config.js'
import { log } from '../diag/logger.js'
import type { LlmobsStats } from '../export/ledger.js'
import { getTracer } from '../trace/global_tracer.js'
import { hexToDecimal, randomId64, traceIdHigh } from '../trace/ids.js'
import { Span } from '../trace/span.js'
import type { SpanContext } from '../trace/span_context.js'
import type { TraceState } from '../trace/trace_state.js'
import type { Tracer } from '../trace/tracer.js'
import { normalizeIO, normalizeMetrics, normalizeObject, normalizeTags, type Annotation } from './annotations.js'
import { chooseMode, isSafeIntakeUrl, type ExportMode } from './export_mode.js'
import { LlmobsCore, type EventProcessor } from './llmobs_core.js'
import { isModelKind, isSpanKind, type SpanKind } from './span_kinds.js'
import { getState, setState, type LlmobsSpanState } from './span_state.js'

export interface LlmobsTraceOptions {
  kind: SpanKind
  name?: string
  modelName?: string
  modelProvider?: string
  sessionId?: string
  mlApp?: string
}

export interface ExportedSpan { spanId: string, traceId: string }

export interface EvaluationOptions {
  label: string
  metricType: 'categorical' | 'score' | 'boolean'
  value: string | number | boolean
  tags?: Record<string, string>
  mlApp?: string
  timestampMs?: number
}

interface AnnotationContext { tags?: Record<string, unknown>, name?: string }

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

  private core: LlmobsCore | undefined
  private readonly active = new AsyncLocalStorage<Span>()
  private readonly annotations = new AsyncLocalStorage<AnnotationContext>()
  private readonly pendingProcessors: EventProcessor[] = []
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
      const mode = chooseMode(config, tracer.config.enabled)
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
      this.core = new LlmobsCore(tracer, config, mode)
      this.core.processors.push(...this.pendingProcessors)
      this.autoChecked = true
      this.removeInjectHook = tracer.addInjectHook((target, trace) => this.onInject(target, trace))
      return true
    } catch (err) {
      log.internalError('llmobs.enable', err)
      return false
    }
  }

  /** Stops LLM Observability after delivering what it holds. Spans become plain APM spans. */
  async disable (): Promise<void> {
    const core = this.core
    this.core = undefined
    this.removeInjectHook?.()
    this.removeInjectHook = undefined
    if (core !== undefined) await core.shutdown()
  }

  /**
   * Runs `fn` inside a new LLM Observability span of `kind`, finished when `fn` returns, throws
   * or its promise settles.
   * @example await llmobs.trace({ kind: 'workflow', name: 'answer' }, async (span) => { ... })
   */
  trace<T> (options: LlmobsTraceOptions, fn: (span: Span) => T): T {
    if (typeof fn !== 'function') {
      log.warnOnce('llmobs.trace.fn', 'llmobs.trace() needs a function; nothing traced')
      return undefined as T
    }
    this.autoEnable()
    const tracer = this.tracerOf()
    const opts = (options !== null && typeof options === 'object' ? options : {}) as LlmobsTraceOptions
    if (!isSpanKind(opts.kind)) {
      log.warnOnce('llmobs.trace.kind', `llmobs.trace(): invalid kind ${JSON.stringify(opts.kind)}; expected one of llm, embedding, retrieval, tool, task, workflow, agent. Traced as a plain APM span`)
      return tracer.trace(typeof opts.name === 'string' ? opts.name : 'llmobs.unknown', fn)
    }
    const name = typeof opts.name === 'string' && opts.name !== '' ? opts.name : (fn.name !== '' ? fn.name : opts.kind)
    return tracer.trace(name, { type: 'llm', resource: opts.kind }, (span) => {
      this.startLlmobsSpan(span, opts, name)
      return this.active.run(span, () => fn(span))
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
    const opts = { ...options, name: options?.name ?? (fn.name !== '' ? fn.name : undefined) } as LlmobsTraceOptions
    const record = isSpanKind(opts.kind) && !isModelKind(opts.kind)
    return function (this: unknown, ...args: A): R {
      return trace(opts, (span) => {
        if (record) annotate(span, { inputData: args.length === 1 ? args[0] : args })
        const out = fn.apply(this, args)
        if (record) {
          if (out !== null && typeof out === 'object' && typeof (out as { then?: unknown }).then === 'function') {
            return (out as unknown as Promise<unknown>).then((v) => { annotate(span, { outputData: v }); return v }) as R
          }
          annotate(span, { outputData: out })
        }
        return out
      })
    } as (...args: A) => R
  }

  /** Adds inputs, outputs, metadata, metrics, tags or tool definitions to an LLMObs span (default: the active one). */
  annotate (spanOrAnnotation?: Span | Annotation, maybe?: Annotation): void {
    try {
      let span: Span | undefined
      let a: Annotation | undefined
      if (spanOrAnnotation instanceof Span) { span = spanOrAnnotation; a = maybe } else if (maybe === undefined) { a = spanOrAnnotation as Annotation } else {
        log.warnOnce('llmobs.annotate.span', 'llmobs.annotate(): the first argument is not a span; nothing annotated')
        return
      }
      span ??= this.active.getStore()
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
    const outer = this.annotations.getStore()
    const merged: AnnotationContext = { tags: { ...outer?.tags, ...(options?.tags ?? {}) }, name: options?.name ?? outer?.name }
    return this.annotations.run(merged, fn)
  }

  /** The identity evaluations join on: `{ spanId, traceId }` of an LLMObs span (default: the active one). */
  exportSpan (span?: Span): ExportedSpan | undefined {
    const target = span ?? this.active.getStore()
    const st = target === undefined ? undefined : getState(target)
    if (target === undefined || st === undefined) {
      log.warnOnce('llmobs.exportSpan', 'llmobs.exportSpan(): not an LLM Observability span')
      return undefined
    }
    return { spanId: hexToDecimal(target.spanId), traceId: st.traceId }
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
    if (this.core !== undefined) this.core.processors.push(fn)
    else this.pendingProcessors.push(fn)
  }

  stats (): LlmobsStats {
    return this.core?.ledger.stats() ?? { created: 0, rodeTrace: 0, rescuedPredictedDrop: 0, rescuedPayloadFailed: 0, direct: 0, delivered: 0, pending: 0, retried: 0, truncated: 0, dropped: {} }
  }

  /** Delivers everything buffered; resolves when the destinations answered (or `timeoutMs`). */
  async flush (timeoutMs?: number): Promise<void> {
    // Exporter sockets do not hold the process open (http_transport.ts); a caller awaiting the
    // flush does want it held while agent discovery finishes, so hold it here.
    const hold = setInterval(() => {}, 1 << 30)
    try {
      const core = this.core
      if (core === undefined) return
      const started = Date.now()
      // Discovery counts against the caller's deadline too.
      if (timeoutMs !== undefined && Number.isFinite(timeoutMs)) await Promise.race([core.ready, new Promise((resolve) => setTimeout(resolve, timeoutMs).unref())])
      else await core.ready
      await core.flush(timeoutMs === undefined ? undefined : Math.max(0, timeoutMs - (Date.now() - started)))
    } catch (err) {
      log.internalError('llmobs.flush', err)
    } finally {
      clearInterval(hold)
    }
  }

  private autoEnable (): void {
    if (this.autoChecked) return
    this.autoChecked = true
    if (this.core === undefined && resolveLlmobsConfig({}).enabled) this.enable()
  }

  private startLlmobsSpan (span: Span, opts: LlmobsTraceOptions, name: string): void {
    const core = this.core
    if (core === undefined) return
    const parentSpan = this.active.getStore()
    const parent = parentSpan !== undefined && parentSpan.traceId === span.traceId ? getState(parentSpan) : undefined
    const ctx = this.annotations.getStore()
    const tags = span.trace.tags
    let traceId: string
    let parentId: string
    let mlApp: string | undefined = typeof opts.mlApp === 'string' && opts.mlApp !== '' ? opts.mlApp : undefined
    if (parent !== undefined && parentSpan !== undefined) {
      traceId = parent.traceId
      parentId = parent.spanIdDec ??= hexToDecimal(parentSpan.spanId)
      mlApp ??= parent.mlApp
    } else if (tags[TRACE_TAG] !== undefined && tags[PARENT_TAG] !== undefined) {
      // First LLMObs span of this process in a distributed LLMObs trace.
      traceId = decimalToHex128(tags[TRACE_TAG]) ?? newLlmobsTraceId()
      parentId = tags[PARENT_TAG]
      mlApp ??= tags[ML_APP_TAG]
    } else {
      traceId = newLlmobsTraceId()
      parentId = 'undefined'
    }
    const st: LlmobsSpanState = {
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
    if (st.modelName !== undefined) span.meta['llmobs.model_name'] = st.modelName
    setState(span, st)
  }

  /** Downstream services continue this LLMObs trace under the span that made the call. */
  private onInject (target: Span | SpanContext, trace: TraceState): Record<string, string> | undefined {
    const own = target instanceof Span ? getState(target) : undefined
    const active = this.active.getStore()
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
