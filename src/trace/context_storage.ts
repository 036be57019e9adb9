import { AsyncLocalStorage } from 'node:async_hooks'
import type { Span } from './span.js'
import type { SpanContext } from './span_context.js'

/**
 * A context entered through another API (the OpenTelemetry bridge): the span active in it (ours,
 * or none), a remote parent when the context carries only an extracted span context, and that
 * API's own context object, kept opaque here so its other values (baggage, suppression flags)
 * survive our spans nested inside it.
 */
export class ContextFrame {
  constructor (
    readonly span: Span | undefined,
    readonly remoteParent: SpanContext | undefined,
    readonly carried: unknown,
  ) {}
}

/** What the one async-context slot holds: a span activated by our API, a frame, or nothing. */
export type ContextStore = Span | ContextFrame | undefined

/**
 * The active span travels with async context. Only `run` is used (never `enterWith`), so a
 * span is active exactly inside the callback that activated it and cannot leak into callers.
 * Our own API stores the bare span (the hot path allocates nothing); the OTel bridge stores
 * frames in the same slot, so both APIs always agree on the active span.
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
 * The store that makes `span` active from inside `store`: a bare span unless a frame from the
 * other API is active, whose carried context must stay visible to code nested under `span`.
 */
export function storeWithSpan (store: ContextStore, span: Span | undefined): ContextStore {
  return store instanceof ContextFrame ? new ContextFrame(span, undefined, store.carried) : span
}

/**
 * Set while the tracer does its own I/O so that instrumentation does not trace the exporter
 * (a trace payload producing a span producing a payload...).
 */
export const exporterStorage = new AsyncLocalStorage<boolean>()

export function isExporterContext (): boolean {
  return exporterStorage.getStore() === true
}
