import { ReadableStream } from 'node:stream/web'
import { log } from '../diag/logger.js'
import type { StreamObserver } from './stream.js'

/**
 * A ReadableStream that passes `source`'s chunks through unchanged while `obs` sees them and
 * learns, once, how the stream ended: drained, errored, or cancelled by the consumer.
 * highWaterMark 0 keeps the source's pace: nothing is read before the consumer asks.
 */
export function observeReadable<T> (source: ReadableStream<T>, obs: StreamObserver, aborted: () => boolean): ReadableStream<T> {
  const reader = source.getReader()
  let ended = false
  const end = (how: 'completed' | 'cancelled' | 'aborted' | 'error', err?: unknown): void => {
    if (ended) return
    ended = true
    try { obs.end(how, err) } catch (e) { log.internalError('integration stream end', e) }
  }
  return new ReadableStream<T>({
    async pull (controller) {
      let r: { done: boolean, value?: T }
      try {
        r = await reader.read()
      } catch (err) {
        end(safeAborted(aborted) ? 'aborted' : 'error', err)
        controller.error(err)
        return
      }
      if (r.done) {
        end(safeAborted(aborted) ? 'aborted' : 'completed')
        controller.close()
        return
      }
      try { obs.chunk(r.value) } catch (e) { log.internalError('integration stream chunk', e) }
      controller.enqueue(r.value as T)
    },
    async cancel (reason) {
      end(safeAborted(aborted) ? 'aborted' : 'cancelled')
      await reader.cancel(reason)
    },
  }, { highWaterMark: 0 })
}

function safeAborted (aborted: () => boolean): boolean {
  try { return aborted() } catch { return false }
}
