import { log } from '../diag/logger.js'

/** What the instrumentation learns from a provider SDK's request promise. */
export interface PromiseObserver {
  /** The parsed body (or stream object); returns the value the caller gets, the same object. */
  data (value: unknown): unknown
  /** The request failed (HTTP error after retries, network, abort): the caller sees this error. */
  error (err: unknown): void
  /** The caller took the raw `Response` (`asResponse()`) and never asked for the parsed body. */
  rawOnly (): void
  /** Parsing began: the SDK's chain, no longer the promise object, carries the outcome. */
  parsing? (): void
}

interface ApiPromiseLike {
  responsePromise: Promise<unknown>
  parseResponse: (...args: unknown[]) => unknown
  asResponse: (...args: unknown[]) => Promise<unknown>
}

/**
 * Observes an OpenAI / Anthropic `APIPromise` (both Stainless SDKs) without changing what the
 * caller holds: the same object with `withResponse()`, `asResponse()`, `_thenUnwrap()` and its
 * lazy parsing intact. Its `parseResponse` (called once by `then`/`withResponse`, and by every
 * `_thenUnwrap` derivative such as `chat.completions.parse()`) is wrapped to see the parsed
 * value; errors are read from the response promise, whose rejection the SDK itself propagates.
 *
 * Returns false when the object does not have that shape (an SDK version we do not know): the
 * caller then ends the span without output rather than risk changing behaviour.
 */
export function observeApiPromise (p: unknown, obs: PromiseObserver): boolean {
  if (!isApiPromise(p)) return false
  let parseStarted = false
  const parse = p.parseResponse
  p.parseResponse = function (this: unknown, ...args: unknown[]): unknown {
    parseStarted = true
    safe(() => obs.parsing?.())
    let out: unknown
    try {
      out = parse.apply(this, args)
    } catch (err) {
      safe(() => obs.error(err))
      throw err
    }
    return Promise.resolve(out).then((value) => {
      try { return obs.data(value) } catch (err) { log.internalError('integration response', err); return value }
    }, (err: unknown) => {
      safe(() => obs.error(err))
      throw err
    })
  }
  const asResponse = p.asResponse
  p.asResponse = function (this: unknown, ...args: unknown[]): Promise<unknown> {
    const r = asResponse.apply(this, args)
    // `withResponse()` calls parse first and asResponse second; a tick later tells the two apart.
    if (r !== null && typeof r === 'object' && typeof r.then === 'function') {
      r.then(() => setImmediate(() => { if (!parseStarted) safe(() => obs.rawOnly()) }), () => {})
    }
    return r
  }
  // Observing the rejection marks it handled; an SDK promise nobody awaits then fails silently
  // instead of crashing the process — the one visible difference, and only for ignored calls.
  p.responsePromise.then(undefined, (err: unknown) => safe(() => obs.error(err)))
  return true
}

function isApiPromise (p: unknown): p is ApiPromiseLike {
  if (p === null || typeof p !== 'object') return false
  const r = p as Partial<ApiPromiseLike>
  return typeof r.parseResponse === 'function' && typeof r.asResponse === 'function' &&
    r.responsePromise !== null && typeof r.responsePromise === 'object' && typeof (r.responsePromise as { then?: unknown }).then === 'function'
}

function safe (fn: () => void): void {
  try { fn() } catch (err) { log.internalError('integration observer', err) }
}
