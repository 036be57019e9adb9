import { runTracedBy, tracingIntegration } from '../trace/context_storage.js'

/**
 * Which integration is already tracing the call in progress. Explicit wrapping and automatic
 * patching can both apply to one call (a wrapped client whose prototype is patched too, or an
 * AI SDK model wrapped by hand and again by the `ai` hook); the outer layer makes the span and
 * marks the call so the inner layer passes it through. Async context rather than a flag, because
 * the AI SDK reaches the inner layer after an `await`.
 *
 * The mark lives in the tracer's one async-context slot (its own AsyncLocalStorage would cost a
 * property on every promise). The first copy of this package in the process publishes its pair
 * of functions on globalThis and every later copy uses them, so two copies (say, one loaded by
 * `--import llmobs-ts/register` and one bundled) still agree.
 */
interface TracingMark {
  run: <T>(integration: string, fn: () => T) => T
  current: () => string | undefined
}
const KEY = Symbol.for('llmobs-ts.integrations.tracing.v2')
const holder = globalThis as { [KEY]?: TracingMark }
const mark: TracingMark = holder[KEY] ??= { run: runTracedBy, current: tracingIntegration }

/** Runs `fn` (the provider call) marked as traced by `integration`. */
export function runTraced<T> (integration: string, fn: () => T): T {
  return mark.run(integration, fn)
}

/** True inside a call that `integration` is already tracing further out. */
export function isTraced (integration: string): boolean {
  return mark.current() === integration
}
