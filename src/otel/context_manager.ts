import { ROOT_CONTEXT, trace, type Context, type ContextManager } from '@opentelemetry/api'
import { ContextFrame, frameWithCarried, spanStorage, type ContextStore } from '../trace/context_storage.js'
import type { Span } from '../trace/span.js'
import { fromOtelSpanContext } from './span_context.js'
import type { BridgeSpan } from './bridge_span.js'

/**
 * The OTel context manager over our tracer's one async-context slot, so there is one active span
 * whichever API started it: `context.with()` stores a frame (our span, or the remote parent of an
 * extracted context, plus the OTel context itself), and `active()` turns whatever is stored —
 * a frame or a span our API activated — back into an OTel context.
 */
export class BridgeContextManager implements ContextManager {
  constructor (
    /** The OTel view of one of our spans (a bridge span, or a proxy for a native one). */
    private readonly viewOf: (span: Span) => BridgeSpan,
    /** Our span behind an OTel span, when it is one of ours. */
    private readonly spanOf: (span: unknown) => Span | undefined,
  ) {}

  private readonly nativeContexts = new WeakMap<Span, Context>()

  active (): Context {
    const store: ContextStore = spanStorage.getStore()
    if (store === undefined) return ROOT_CONTEXT
    let span: Span | undefined
    if (store instanceof ContextFrame) {
      const base = store.carried as Context | undefined
      if (base !== undefined) {
        if (store.span === undefined || this.spanOf(trace.getSpan(base)) === store.span) return base
        // One of our spans activated inside an OTel context: that context's values stay visible.
        return trace.setSpan(base, this.viewOf(store.span))
      }
      // A frame our own layers made (LLMObs span, annotation context...): no OTel context in it.
      span = store.span
      if (span === undefined) return ROOT_CONTEXT
    } else {
      span = store
    }
    let ctx = this.nativeContexts.get(span)
    if (ctx === undefined) {
      ctx = trace.setSpan(ROOT_CONTEXT, this.viewOf(span))
      this.nativeContexts.set(span, ctx)
    }
    return ctx
  }

  with<A extends unknown[], F extends (...args: A) => ReturnType<F>> (context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F> {
    const frame = this.frameOf(context)
    return spanStorage.run(frame, () => fn.apply(thisArg, args))
  }

  bind<T> (context: Context, target: T): T {
    if (typeof target !== 'function') return target
    const run = this.with.bind(this)
    const fn = target as unknown as (...a: unknown[]) => unknown
    const bound = function (this: unknown, ...args: unknown[]): unknown {
      return run(context, () => fn.apply(this, args))
    }
    Object.defineProperty(bound, 'length', { value: fn.length })
    return bound as unknown as T
  }

  enable (): this { return this }
  disable (): this { return this }

  /**
   * The frame for entering `context`. What our other layers keep in the slot (the active LLMObs
   * span, annotation context, the exporter mark) is not part of an OTel context and stays as
   * it is here, as it did when each had its own AsyncLocalStorage.
   */
  private frameOf (context: Context): ContextFrame {
    const here = spanStorage.getStore()
    if (context === undefined || context === null || typeof (context as Partial<Context>).getValue !== 'function') return frameWithCarried(here, undefined, undefined, ROOT_CONTEXT)
    const otelSpan = trace.getSpan(context)
    const ours = this.spanOf(otelSpan)
    if (ours !== undefined) return frameWithCarried(here, ours, undefined, context)
    // An extracted (remote) or foreign span context: our spans started here continue its trace.
    const remote = otelSpan === undefined ? undefined : fromOtelSpanContext(otelSpan.spanContext())
    return frameWithCarried(here, undefined, remote, context)
  }
}
