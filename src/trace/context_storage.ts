import { AsyncLocalStorage } from 'node:async_hooks'
import type { Span } from './span.js'
import type { SpanContext } from './span_context.js'

/**
 * What a context carries besides the bare active span. A context entered through another API
 * (the OpenTelemetry bridge) has that API's own context object, kept opaque here so its other
 * values (baggage, suppression flags) survive our spans nested inside it, and a remote parent
 * when it carries only an extracted span context. The layers above keep their own values here
 * too (the active LLM Observability span, annotation context, the integration tracing the call,
 * the exporter's own I/O): one AsyncLocalStorage for all of them, because on Node 20 every
 * enabled AsyncLocalStorage copies its value onto every promise the application creates — with
 * five of them, that was about 160 µs of CPU per request of a service doing one LLM call.
 */
export class ContextFrame {
  constructor (
    readonly span: Span | undefined,
    readonly remoteParent: SpanContext | undefined,
    /** The other API's context object; `undefined` when none was entered. */
    readonly carried: unknown,
    /** The LLM Observability span active here (the nearest one; APM spans may nest inside it). */
    readonly llmobs: Span | undefined = undefined,
    /** Annotation context (tags and name for LLMObs spans started here), opaque to this layer. */
    readonly annotations: unknown = undefined,
    /** The integration already tracing the provider call in progress. */
    readonly tracing: string | undefined = undefined,
    /** Set while the tracer does its own I/O, which instrumentation must not trace. */
    readonly exporter: boolean = false,
  ) {}
}

/** What the one async-context slot holds: a span activated by our API, a frame, or nothing. */
export type ContextStore = Span | ContextFrame | undefined

/**
 * The active span travels with async context. Only `run` is used (never `enterWith`), so a
 * span is active exactly inside the callback that activated it and cannot leak into callers.
 * Our own API stores the bare span (the hot path allocates nothing) while nothing else is set;
 * the OTel bridge and the layers above store frames in the same slot, so all of them always
 * agree on the active span.
 */
export const spanStorage = new AsyncLocalStorage<ContextStore>()

export function activeSpanOf (store: ContextStore): Span | undefined {
  return store instanceof ContextFrame ? store.span : store
}

/** The parent a new span takes by default: the active span, else a frame's remote parent. */
export function defaultParentOf (store: ContextStore): Span | SpanContext | undefined {
  return store instanceof ContextFrame ? (store.span ?? store.remoteParent) : store
}

/**
 * The store that makes `span` active from inside `store`: a bare span unless a frame is active,
 * whose other values must stay visible to code nested under `span`.
 */
export function storeWithSpan (store: ContextStore, span: Span | undefined): ContextStore {
  return store instanceof ContextFrame
    ? new ContextFrame(span, undefined, store.carried, store.llmobs, store.annotations, store.tracing, store.exporter)
    : span
}

/** A frame for another API's context entered inside `store`, which keeps this layer's values. */
export function frameWithCarried (store: ContextStore, span: Span | undefined, remoteParent: SpanContext | undefined, carried: unknown): ContextFrame {
  return store instanceof ContextFrame
    ? new ContextFrame(span, remoteParent, carried, store.llmobs, store.annotations, store.tracing, store.exporter)
    : new ContextFrame(span, remoteParent, carried)
}

function frameOf (store: ContextStore): ContextFrame {
  return store instanceof ContextFrame ? store : new ContextFrame(store, undefined, undefined)
}

/** Runs `fn` with `span` as both the active span and the active LLM Observability span. */
export function runWithLlmobsSpan<T> (span: Span, fn: () => T): T {
  const f = frameOf(spanStorage.getStore())
  return spanStorage.run(new ContextFrame(span, undefined, f.carried, span, f.annotations, f.tracing, f.exporter), fn)
}

export function activeLlmobsSpan (): Span | undefined {
  const store = spanStorage.getStore()
  return store instanceof ContextFrame ? store.llmobs : undefined
}

export function runWithAnnotations<T> (annotations: unknown, fn: () => T): T {
  const f = frameOf(spanStorage.getStore())
  return spanStorage.run(new ContextFrame(f.span, f.remoteParent, f.carried, f.llmobs, annotations, f.tracing, f.exporter), fn)
}

export function activeAnnotations (): unknown {
  const store = spanStorage.getStore()
  return store instanceof ContextFrame ? store.annotations : undefined
}

export function runTracedBy<T> (integration: string, fn: () => T): T {
  const f = frameOf(spanStorage.getStore())
  return spanStorage.run(new ContextFrame(f.span, f.remoteParent, f.carried, f.llmobs, f.annotations, integration, f.exporter), fn)
}

export function tracingIntegration (): string | undefined {
  const store = spanStorage.getStore()
  return store instanceof ContextFrame ? store.tracing : undefined
}

/**
 * Runs the tracer's own I/O, so that instrumentation does not trace the exporter (a trace
 * payload producing a span producing a payload...).
 */
export function runAsExporter<T> (fn: () => T): T {
  const f = frameOf(spanStorage.getStore())
  return spanStorage.run(new ContextFrame(f.span, f.remoteParent, f.carried, f.llmobs, f.annotations, f.tracing, true), fn)
}

export function isExporterContext (): boolean {
  const store = spanStorage.getStore()
  return store instanceof ContextFrame && store.exporter
}
