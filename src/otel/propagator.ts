import { trace, type Context, type TextMapGetter, type TextMapPropagator, type TextMapSetter } from '@opentelemetry/api'
import type { SpanContext } from '../trace/span_context.js'
import type { Span } from '../trace/span.js'
import { fromOtelSpanContext, toOtelSpanContext } from './span_context.js'

/** What the propagator needs from our tracer: its Datadog + W3C inject and extract. */
export interface PropagationHost {
  inject (target: Span | SpanContext, carrier: Record<string, string>): void
  extract (carrier: Record<string, string>): SpanContext | null
  decide (ctx: SpanContext): number | undefined
  spanOf (otelSpan: unknown): Span | undefined
}

/** @opentelemetry/core's suppression key (created with Symbol.for, so no dependency on core). */
export const SUPPRESS_TRACING_KEY = Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING')

const FIELDS = ['x-datadog-trace-id', 'x-datadog-parent-id', 'x-datadog-sampling-priority', 'x-datadog-origin', 'x-datadog-tags', 'traceparent', 'tracestate']

/**
 * The OTel TextMapPropagator over our propagation (Datadog and W3C headers, `_dd.p.*` tags, the
 * LLMObs parent tags), so OTel instrumentations propagate exactly what our own API would. An
 * extracted context keeps our full span context behind the OTel one, priority and tags included.
 */
export class BridgePropagator implements TextMapPropagator {
  constructor (private readonly host: PropagationHost) {}

  inject (context: Context, carrier: unknown, setter: TextMapSetter): void {
    if (context.getValue(SUPPRESS_TRACING_KEY) === true) return
    const otelSpan = trace.getSpan(context)
    if (otelSpan === undefined) return
    const target = this.host.spanOf(otelSpan) ?? fromOtelSpanContext(otelSpan.spanContext())
    if (target === undefined) return
    const headers: Record<string, string> = {}
    this.host.inject(target, headers)
    for (const [k, v] of Object.entries(headers)) setter.set(carrier, k, v)
  }

  extract (context: Context, carrier: unknown, getter: TextMapGetter): Context {
    const headers: Record<string, string> = {}
    for (const key of getter.keys(carrier)) {
      const v = getter.get(carrier, key)
      if (v === undefined) continue
      headers[key.toLowerCase()] = Array.isArray(v) ? v.join(',') : v
    }
    const sc = this.host.extract(headers)
    if (sc === null) return context
    return trace.setSpan(context, trace.wrapSpanContext(toOtelSpanContext(sc, (c) => this.host.decide(c))))
  }

  fields (): string[] {
    return [...FIELDS]
  }
}
