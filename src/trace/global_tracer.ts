import type { TracerOptions } from '../config/tracer_config.js'
import { log } from '../diag/logger.js'
import type { UserProcessor } from '../pipeline/processor_chain.js'
import type { Span } from './span.js'
import type { SpanContext } from './span_context.js'
import type { PropagationStats } from './propagation/propagator.js'
import { Tracer, type SpanOptions, type TracerStats } from './tracer.js'

let core: Tracer | undefined

/** The process-wide tracer core, created from the environment on first use if `init` was not called. */
export function getTracer (): Tracer {
  if (core === undefined) core = new Tracer()
  return core
}

/** True once the core exists (LLM Observability checks whether it must create it). */
export function hasTracer (): boolean { return core !== undefined }

/**
 * The `tracer` users import. Works before `init()` (configured from the environment then);
 * `init()` after the first span warns and keeps the existing configuration.
 */
export class GlobalTracer {
  /** @example tracer.init({ service: 'checkout', env: 'prod' }) */
  init (options: TracerOptions = {}): this {
    if (core !== undefined) {
      log.warnOnce('tracer.init.twice', 'tracer.init() called after the tracer was already in use; the new options are ignored')
      return this
    }
    core = new Tracer(options)
    return this
  }

  /**
   * Runs `fn` inside a new active span, finished when `fn` returns, throws or its promise settles.
   * @example await tracer.trace('db.query', { resource: 'SELECT 1' }, async (span) => db.query('SELECT 1'))
   */
  trace<T> (name: string, fn: (span: Span) => T): T
  trace<T> (name: string, options: SpanOptions, fn: (span: Span) => T): T
  trace<T> (name: string, options: SpanOptions | ((span: Span) => T), fn?: (span: Span) => T): T {
    // The core sorts out the two call shapes (and warns when fn is missing) at runtime.
    return getTracer().trace(name, options as SpanOptions, fn as (span: Span) => T)
  }

  startSpan (name: string, options?: SpanOptions): Span {
    return getTracer().startSpan(name, options)
  }

  activeSpan (): Span | undefined {
    return core?.activeSpan()
  }

  /** Runs `fn` with `span` active (or no span, for `undefined`). */
  activate<T> (span: Span | undefined, fn: () => T): T {
    return getTracer().activate(span, fn)
  }

  inject (spanOrContext: Span | SpanContext | undefined, carrier: unknown): void {
    getTracer().inject(spanOrContext, carrier)
  }

  extract (carrier: unknown): SpanContext | null {
    return getTracer().extract(carrier)
  }

  /** What `extract()` saw so far: contexts used, and headers rejected as invalid. */
  propagationStats (): PropagationStats {
    return getTracer().propagationStats()
  }

  /** Pipeline counters (open traces, traces sent early as partial chunks). */
  stats (): TracerStats {
    return getTracer().stats()
  }

  addProcessor (fn: UserProcessor): void {
    getTracer().addProcessor(fn)
  }

  flush (): Promise<void> {
    return core?.flush() ?? Promise.resolve()
  }

  shutdown (timeoutMs?: number): Promise<void> {
    return core?.shutdown(timeoutMs) ?? Promise.resolve()
  }
}

export const tracer = new GlobalTracer()
