import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ReadableStream } from 'node:stream/web'
import { observeIterable, observeIterator, type StreamObserver } from '../../src/integrations/stream.js'
import { observeReadable } from '../../src/integrations/readable.js'
import type { StreamEnd } from '../../src/integrations/llm_call.js'
import { log } from '../../src/diag/logger.js'

function recorder (): StreamObserver & { chunks: unknown[], ends: Array<[StreamEnd, unknown]> } {
  const r = { chunks: [] as unknown[], ends: [] as Array<[StreamEnd, unknown]>, chunk: (c: unknown) => { r.chunks.push(c) }, end: (how: StreamEnd, err?: unknown) => { r.ends.push([how, err]) } }
  return r
}

async function * gen (items: unknown[], fail?: Error): AsyncGenerator<unknown> {
  for (const i of items) yield i
  if (fail !== undefined) throw fail
}

test('drained: every chunk seen in order, one completed end', async () => {
  const rec = recorder()
  const out: unknown[] = []
  for await (const c of observeIterator(gen([1, 2, 3]), rec, () => false)) out.push(c)
  assert.deepEqual(out, [1, 2, 3])
  assert.deepEqual(rec.chunks, [1, 2, 3])
  assert.deepEqual(rec.ends, [['completed', undefined]])
})

test('break: cancelled, and the inner iterator is closed (its finally runs)', async () => {
  const rec = recorder()
  let closed = false
  async function * inner (): AsyncGenerator<number> { try { yield 1; yield 2; yield 3 } finally { closed = true } }
  for await (const c of observeIterator(inner(), rec, () => false)) if (c === 2) break
  assert.equal(closed, true)
  assert.deepEqual(rec.ends, [['cancelled', undefined]])
  assert.deepEqual(rec.chunks, [1, 2])
})

test('error: the very same error object reaches the consumer; one error end', async () => {
  const rec = recorder()
  const boom = new TypeError('boom')
  const err = await (async () => { for await (const _ of observeIterator(gen([1], boom), rec, () => false)) { /* */ } })().then(() => undefined, (e: unknown) => e)
  assert.equal(err, boom)
  assert.deepEqual(rec.ends, [['error', boom]])
})

test('a quiet end after an abort is reported as aborted', async () => {
  const rec = recorder()
  for await (const _ of observeIterator(gen([1]), rec, () => true)) { /* */ }
  assert.deepEqual(rec.ends, [['aborted', undefined]])
})

test('an observer that throws changes nothing for the consumer; the bug is logged, not thrown', async () => {
  const logged: string[] = []
  log.configure({ sink: (_level, message) => { logged.push(message) } })
  const bad: StreamObserver = { chunk: () => { throw new Error('observer bug') }, end: () => { throw new Error('observer bug') } }
  const out: unknown[] = []
  for await (const c of observeIterator(gen(['a', 'b']), bad, () => false)) out.push(c)
  assert.deepEqual(out, ['a', 'b'])
  assert.equal(log.internalErrors.get('integration stream chunk'), 2)
  assert.equal(log.internalErrors.get('integration stream end'), 1)
  assert.ok(logged.some((m) => m.includes('observer bug')))
})

test('observeIterable keeps the object (and its methods), observes only the first iterator', async () => {
  const rec = recorder()
  class Stainless {
    constructor (private iterator: () => AsyncIterator<unknown>) {}
    [Symbol.asyncIterator] (): AsyncIterator<unknown> { return this.iterator() }
    helper (): string { return 'kept' }
  }
  let made = 0
  const s = new Stainless(() => { made++; return gen(['x']) })
  assert.equal(observeIterable(s, rec, () => false), true)
  assert.ok(s instanceof Stainless)
  assert.equal(s.helper(), 'kept')
  for await (const _ of s) { /* */ }
  for await (const _ of s) { /* a second iterator: not observed */ }
  assert.equal(made, 2)
  assert.deepEqual(rec.chunks, ['x'])
  assert.equal(rec.ends.length, 1)
  assert.equal(observeIterable({ not: 'iterable' }, rec, () => false), false)
})

test('observeIterable on a plain async iterable uses an own Symbol.asyncIterator', async () => {
  const rec = recorder()
  const iterable = { [Symbol.asyncIterator]: () => gen([1, 2]) }
  assert.equal(observeIterable(iterable, rec, () => false), true)
  for await (const _ of iterable) { /* */ }
  assert.deepEqual(rec.chunks, [1, 2])
  assert.deepEqual(rec.ends, [['completed', undefined]])
})

function source (items: unknown[], fail?: Error): ReadableStream<unknown> & { cancelled: unknown[] } {
  let i = 0
  const cancelled: unknown[] = []
  const s = new ReadableStream<unknown>({
    pull (c) {
      if (i < items.length) c.enqueue(items[i++])
      else if (fail !== undefined) c.error(fail)
      else c.close()
    },
    cancel (reason) { cancelled.push(reason ?? 'no reason') },
  }, { highWaterMark: 0 })
  return Object.assign(s, { cancelled })
}

test('observeReadable: drained, errored (same error), cancelled (propagated to the source)', async () => {
  let rec = recorder()
  const out: unknown[] = []
  for await (const c of observeReadable(source([1, 2]), rec, () => false)) out.push(c)
  assert.deepEqual(out, [1, 2])
  assert.deepEqual(rec.ends, [['completed', undefined]])

  rec = recorder()
  const boom = new Error('boom')
  const reader = observeReadable(source([1], boom), rec, () => false).getReader()
  await reader.read()
  assert.equal(await reader.read().then(() => undefined, (e: unknown) => e), boom)
  assert.deepEqual(rec.ends, [['error', boom]])

  rec = recorder()
  const src = source([1, 2, 3])
  const r2 = observeReadable(src, rec, () => false).getReader()
  await r2.read()
  await r2.cancel('stop')
  assert.deepEqual(src.cancelled, ['stop'])
  assert.deepEqual(rec.ends, [['cancelled', undefined]])
  assert.deepEqual(rec.chunks, [1])
})
