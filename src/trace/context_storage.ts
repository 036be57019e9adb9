import { AsyncLocalStorage } from 'node:async_hooks'
import type { Span } from './span.js'

/**
 * The active span travels with async context. Only `run` is used (never `enterWith`), so a
 * span is active exactly inside the callback that activated it and cannot leak into callers.
 */
export const spanStorage = new AsyncLocalStorage<Span | undefined>()

/**
 * Set while the tracer does its own I/O so that instrumentation does not trace the exporter
 * (a trace payload producing a span producing a payload...).
 */
export const exporterStorage = new AsyncLocalStorage<boolean>()

export function isExporterContext (): boolean {
  return exporterStorage.getStore() === true
}
