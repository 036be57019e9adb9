import { log } from '../diag/logger.js'
import type { StreamEnd } from './llm_call.js'

/** Receives a stream's chunks and, once, how it ended. */
export interface StreamObserver {
  chunk (value: unknown): void
  end (how: StreamEnd, err?: unknown): void
  /** The observed iterator exists: from now on it, not the stream object, is what consumers hold. */
  started? (iterator: object): void
}

/**
 * Observes an async-iterable stream object in place, so the caller keeps the provider's own
 * object (`controller`, `tee()`, `toReadableStream()`, the helpers built on it). Stainless
 * streams create their iterator through an own `iterator` function that every consumer path
 * goes through; other iterables get an own `Symbol.asyncIterator`. Only the first iterator is
 * observed: the SDK refuses a second one anyway, and that refusal must not end the span.
 *
 * `aborted()` tells an early end caused by an abort (the SDK ends quietly) from a completed one.
 */
export function observeIterable (stream: unknown, obs: StreamObserver, aborted: () => boolean): boolean {
  if (stream === null || typeof stream !== 'object') return false
  const s = stream as { iterator?: unknown, [Symbol.asyncIterator]?: unknown }
  const key: 'iterator' | typeof Symbol.asyncIterator | undefined = Object.prototype.hasOwnProperty.call(s, 'iterator') && typeof s.iterator === 'function'
    ? 'iterator'
    : typeof s[Symbol.asyncIterator] === 'function' ? Symbol.asyncIterator : undefined
  if (key === undefined) return false
  const make = s[key] as (...args: unknown[]) => AsyncIterator<unknown>
  let first = true
  Object.defineProperty(s, key, {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function (this: unknown, ...args: unknown[]): AsyncIterator<unknown> {
      const it = make.apply(this, args)
      if (!first) return it
      first = false
      const observed = observeIterator(it, obs, aborted)
      try { obs.started?.(observed) } catch (e) { log.internalError('integration stream start', e) }
      return observed
    },
  })
  return true
}

/** Wraps an async iterator: chunks pass through untouched, errors are rethrown unchanged. */
export function observeIterator (inner: AsyncIterator<unknown>, obs: StreamObserver, aborted: () => boolean): AsyncIterableIterator<unknown> {
  let ended = false
  const end = (how: StreamEnd, err?: unknown): void => {
    if (ended) return
    ended = true
    try { obs.end(how, err) } catch (e) { log.internalError('integration stream end', e) }
  }
  const wrapped: AsyncIterableIterator<unknown> = {
    async next (...args: [] | [unknown]): Promise<IteratorResult<unknown>> {
      let r: IteratorResult<unknown>
      try {
        r = await inner.next(...args)
      } catch (err) {
        end('error', err)
        throw err
      }
      if (r.done === true) {
        end(isAborted(aborted) ? 'aborted' : 'completed')
      } else if (!ended) {
        try { obs.chunk(r.value) } catch (e) { log.internalError('integration stream chunk', e) }
      }
      return r
    },
    async return (value?: unknown): Promise<IteratorResult<unknown>> {
      // The consumer stopped early (`break`, a cancelled ReadableStream).
      end(isAborted(aborted) ? 'aborted' : 'cancelled')
      return typeof inner.return === 'function' ? inner.return(value) : { done: true, value }
    },
    async throw (err?: unknown): Promise<IteratorResult<unknown>> {
      end('error', err)
      if (typeof inner.throw === 'function') return inner.throw(err)
      throw err
    },
    [Symbol.asyncIterator] () { return wrapped },
  }
  return wrapped
}

function isAborted (aborted: () => boolean): boolean {
  try { return aborted() } catch { return false }
}
