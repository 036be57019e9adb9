import { AsyncLocalStorage } from 'node:async_hooks'

/**
 * Which integration is already tracing the call in progress. Explicit wrapping and automatic
 * patching can both apply to one call (a wrapped client whose prototype is patched too, or an
 * AI SDK model wrapped by hand and again by the `ai` hook); the outer layer makes the span and
 * marks the call so the inner layer passes it through. Async context rather than a flag, because
 * the AI SDK reaches the inner layer after an `await`.
 *
 * Kept on globalThis: two copies of this package in one process (say, one loaded by
 * `--import llmobs-ts/register` and one bundled) must still agree.
 */
const KEY = Symbol.for('llmobs-ts.integrations.tracing')
const holder = globalThis as { [KEY]?: AsyncLocalStorage<string> }
const storage: AsyncLocalStorage<string> = holder[KEY] ??= new AsyncLocalStorage<string>()

/** Runs `fn` (the provider call) marked as traced by `integration`. */
export function runTraced<T> (integration: string, fn: () => T): T {
  return storage.run(integration, fn)
}

/** True inside a call that `integration` is already tracing further out. */
export function isTraced (integration: string): boolean {
  return storage.getStore() === integration
}
