import { trace, INVALID_SPAN_CONTEXT, type Context, type Span as OtelSpanApi, type SpanOptions as OtelSpanOptions, type Tracer as OtelTracerApi, type TracerProvider } from '@opentelemetry/api'
import { log } from '../diag/logger.js'
import { isExporterContext } from '../trace/context_storage.js'
import { Span } from '../trace/span.js'
import type { SpanContext } from '../trace/span_context.js'
import type { Tracer } from '../root/tracer.js'
import { BridgeSpan, toEpochMs, type BridgeHost } from './bridge_span.js'
import { BridgeContextManager } from './context_manager.js'
import type { OtelAttributes } from './dd_mapping.js'
import { BridgePropagator, SUPPRESS_TRACING_KEY } from './propagator.js'
import { fromOtelSpanContext } from './span_context.js'

/**
 * The OTel view of one of our spans (bridge span, or proxy once asked for), kept on the span: a
 * WeakMap entry per span cost a third of a span's time, most of it in the GC's ephemeron work.
 */

const NO_OPTIONS: OtelSpanOptions = Object.freeze({})

/** Called around bridge spans' lives (the GenAI → LLM Observability mapping). */
export interface SpanLifecycle {
  onStart (span: BridgeSpan, parent: Span | undefined): void
  beforeFinish (span: BridgeSpan): void
}

/**
 * The OpenTelemetry API implemented over one of our tracers: a TracerProvider whose spans are our
 * spans, the context manager on our async-context slot, and our propagation. Registered globally
 * by `enableOtel()`; usable directly (`bridge.provider.getTracer()`) without registering.
 */
export class OtelBridge implements BridgeHost {
  readonly provider: BridgeTracerProvider
  readonly contextManager: BridgeContextManager
  readonly propagator: BridgePropagator
  readonly resource: OtelAttributes = {}
  readonly lifecycles: SpanLifecycle[] = []
  /** The tracer whose OTLP exporter reads our spans' OTel views (set at the first span). */
  private viewsFor: Tracer | undefined

  /** `tracerOf` is read at each use: `llmobs-ts/register` installs the bridge before the tracer exists. */
  constructor (private readonly tracerOf: () => Tracer) {
    this.provider = new BridgeTracerProvider(this)
    this.contextManager = new BridgeContextManager((s) => this.viewOf(s), (s) => this.spanOf(s))
    this.propagator = new BridgePropagator({
      inject: (target, carrier) => { this.tracer.inject(target, carrier) },
      extract: (carrier) => this.tracer.extract(carrier),
      decide: (ctx) => this.decide(ctx),
      spanOf: (s) => this.spanOf(s),
    })
  }

  get tracer (): Tracer { return this.tracerOf() }

  decide (ctx: SpanContext): number | undefined {
    return this.tracer.samplingPriorityOf(ctx)
  }

  beforeFinish (span: BridgeSpan): void {
    for (const l of this.lifecycles) {
      try { l.beforeFinish(span) } catch (err) { log.internalError('otel span lifecycle', err) }
    }
  }

  /** Our span behind an OTel span, if it is one of ours (bridge span or proxy). */
  spanOf (otelSpan: unknown): Span | undefined {
    return otelSpan instanceof BridgeSpan && otelSpan.host === this ? otelSpan.dd : undefined
  }

  bridgeSpanOf (span: Span): BridgeSpan | undefined {
    const v = span.otelView as BridgeSpan | undefined
    return v !== undefined && v.host === this ? v : undefined
  }

  /** The OTel view of one of our spans; a span started by our own API gets a proxy. */
  viewOf (span: Span): BridgeSpan {
    let v = this.bridgeSpanOf(span)
    if (v === undefined) {
      v = new BridgeSpan(span, this, false, 0, span.name, { name: 'llmobs-ts', version: undefined })
      span.otelView = v
    }
    return v
  }

  startSpan (scope: { name: string, version: string | undefined }, name: string, options: OtelSpanOptions | undefined, context: Context | undefined): OtelSpanApi {
    try {
      const ctx = context ?? this.contextManager.active()
      // The exporter's own requests, and code under OTel's suppressTracing(), are never traced.
      if (isExporterContext() || ctx.getValue(SUPPRESS_TRACING_KEY) === true) return trace.wrapSpanContext(INVALID_SPAN_CONTEXT)
      const o = options ?? NO_OPTIONS
      let parent: Span | SpanContext | null = null
      if (o.root !== true) {
        const p = trace.getSpan(ctx)
        if (p !== undefined) parent = this.spanOf(p) ?? fromOtelSpanContext(p.spanContext()) ?? null
      }
      const spanName = typeof name === 'string' ? name : String(name)
      const kind = typeof o.kind === 'number' && o.kind >= 0 && o.kind <= 4 ? o.kind : 0
      const startTime = o.startTime === undefined ? undefined : toEpochMs(o.startTime)
      const tracer = this.tracer
      // OTLP export: spans we started go out as the OTel spans they were (name, kind, attributes).
      if (tracer.otlp !== undefined && this.viewsFor !== tracer) {
        this.viewsFor = tracer
        tracer.otlp.setViewLookup((s) => { const v = (s as Span).otelView as BridgeSpan | undefined; return v !== undefined && v.owned && v.host === this ? v : undefined })
      }
      const dd = tracer.startSpan(spanName === '' ? 'otel.span' : spanName, { childOf: parent, startTime })
      // A child of a bridge span shares its trace id string (see BridgeSpan.traceId).
      const above = parent instanceof Span ? this.bridgeSpanOf(parent) : undefined
      const span = new BridgeSpan(dd, this, true, kind, spanName, scope, above !== undefined && above.dd.trace === dd.trace ? above.traceId : undefined)
      dd.otelView = span
      if (o.attributes !== undefined) span.setAttributes(o.attributes)
      if (Array.isArray(o.links)) span.addLinks(o.links)
      const parentSpan = parent instanceof Span ? parent : undefined
      for (const l of this.lifecycles) {
        try { l.onStart(span, parentSpan) } catch (err) { log.internalError('otel span lifecycle', err) }
      }
      return span
    } catch (err) {
      log.internalError('otel tracer.startSpan', err)
      return trace.wrapSpanContext(INVALID_SPAN_CONTEXT)
    }
  }
}

class BridgeTracer implements OtelTracerApi {
  constructor (private readonly bridge: OtelBridge, private readonly scope: { name: string, version: string | undefined }) {}

  startSpan (name: string, options?: OtelSpanOptions, context?: Context): OtelSpanApi {
    return this.bridge.startSpan(this.scope, name, options, context)
  }

  startActiveSpan<F extends (span: OtelSpanApi) => unknown> (name: string, ...rest: unknown[]): ReturnType<F> {
    const fn = rest[rest.length - 1]
    if (typeof fn !== 'function') {
      log.warnOnce('otel.startActiveSpan.fn', 'startActiveSpan() needs a function as its last argument; nothing traced')
      return undefined as ReturnType<F>
    }
    const options = rest.length >= 2 ? rest[0] as OtelSpanOptions | undefined : undefined
    const context = rest.length >= 3 ? rest[1] as Context | undefined : undefined
    const parent = context ?? this.bridge.contextManager.active()
    const span = this.startSpan(name, options, parent)
    return this.bridge.contextManager.with(trace.setSpan(parent, span), fn as (s: OtelSpanApi) => ReturnType<F>, undefined, span)
  }
}

export class BridgeTracerProvider implements TracerProvider {
  private readonly tracers = new Map<string, BridgeTracer>()

  constructor (private readonly bridge: OtelBridge) {}

  getTracer (name: string, version?: string): OtelTracerApi {
    const scopeName = typeof name === 'string' && name !== '' ? name : 'unknown'
    const key = `${scopeName}@${version ?? ''}`
    let t = this.tracers.get(key)
    if (t === undefined) {
      t = new BridgeTracer(this.bridge, { name: scopeName, version: typeof version === 'string' ? version : undefined })
      this.tracers.set(key, t)
    }
    return t
  }

  /** As the OTel SDK's provider: sends what has finished. */
  forceFlush (): Promise<void> {
    return this.bridge.tracer.flush()
  }

  shutdown (): Promise<void> {
    return this.bridge.tracer.shutdown()
  }
}

