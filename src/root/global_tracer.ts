import { createRequire } from 'node:module'
import type { TracerOptions } from '../config/tracer_config.js'
import { log } from '../diag/logger.js'
import type { UserProcessor } from '../pipeline/processor_chain.js'
import type { Span } from '../trace/span.js'
import type { SpanContext } from '../trace/span_context.js'
import type { PropagationStats } from '../trace/propagation/propagator.js'
import { Tracer, type SpanOptions, type TracerStats } from './tracer.js'

let core: Tracer | undefined

/** The process-wide tracer core, created from the environment on first use if `init` was not called. */
export function getTracer (): Tracer {
  if (core === undefined) core = withOtel(new Tracer())
  return core
}

const requireHere = createRequire(import.meta.url)

/**
 * `otel: true` / DD_TRACE_OTEL_ENABLED: the bridge needs `@opentelemetry/api`, an optional peer,
 * so it is loaded only then — synchronously (require of our ES module, Node >= 20.19), because
 * the tracer must be the OTel implementation before the first line of user code runs.
 */
function withOtel (t: Tracer): Tracer {
  if (t.config.otel) enableGlobalOtel()
  return t
}

/**
 * Installs the OpenTelemetry bridge for the process-wide tracer (created from the environment at
 * the first OTel span if nothing created it before). False, with one warning, when
 * `@opentelemetry/api` is not installed. `llmobs-ts/register` calls it before any app code.
 */
export function enableGlobalOtel (options: { quietIfMissing?: boolean } = {}): boolean {
  try {
    const mod = requireHere('../otel/enable.js') as { enableProcessOtel: (tracerOf: () => Tracer) => unknown }
    mod.enableProcessOtel(getTracer)
    return true
  } catch (err) {
    const code = (err as { code?: string }).code
    if (options.quietIfMissing === true && (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND')) return false
    log.warnOnce('otel.load', code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND'
      ? 'OpenTelemetry support needs @opentelemetry/api (npm install @opentelemetry/api@^1.9); OpenTelemetry spans are not traced'
      : `the OpenTelemetry bridge could not start (${String(err)}); OpenTelemetry spans are not traced`)
    return false
  }
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
    core = withOtel(new Tracer(options))
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
