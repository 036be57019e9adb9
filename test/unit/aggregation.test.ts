import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Tracer } from '../../src/root/tracer.js'
import { startSink, v04Chunks } from '../helpers/sink.js'

test('a chunk leaves only when every started span has finished, whatever the finish order', async () => {
  const sink = await startSink()
  const tracer = new Tracer({ url: sink.url, flushIntervalMs: 60_000 })
  const root = tracer.startSpan('root')
  const a = tracer.startSpan('a', { childOf: root })
  const b = tracer.startSpan('b', { childOf: a })
  root.finish() // out of order: parent before children
  a.finish()
  await tracer.flush()
  assert.equal(sink.to('/v0.4/traces').length, 0, 'nothing sent while b is open')
  b.finish()
  await tracer.flush()
  const chunks = v04Chunks(sink)
  assert.equal(chunks.length, 1)
  assert.deepEqual(chunks[0].map((s) => s.name).sort(), ['a', 'b', 'root'])
  assert.equal(chunks[0][0].name, 'root')
  await tracer.shutdown()
  await sink.close()
})

test('partial flush emits finished spans of an open trace, each chunk with the priority', async () => {
  const sink = await startSink()
  const tracer = new Tracer({ url: sink.url, flushIntervalMs: 60_000, partialFlushMinSpans: 3 })
  const root = tracer.startSpan('root')
  for (let i = 0; i < 7; i++) tracer.startSpan(`c${i}`, { childOf: root }).finish()
  await tracer.flush()
  let chunks = v04Chunks(sink)
  assert.equal(chunks.length, 2, 'two partial chunks of 3')
  assert.deepEqual(chunks.map((c) => c.length), [3, 3])
  root.finish()
  await tracer.flush()
  chunks = v04Chunks(sink)
  assert.equal(chunks.length, 3)
  assert.deepEqual(chunks[2].map((s) => s.name), ['root', 'c6'])
  for (const c of chunks) assert.equal((c[0].metrics as Record<string, number>)._sampling_priority_v1, 1)
  // the trace id high half is on every chunk's first span
  for (const c of chunks) assert.ok((c[0].meta as Record<string, string>)['_dd.p.tid'] !== undefined)
  await tracer.shutdown()
  await sink.close()
})

test('spans never finished: siblings are sent at shutdown, the open span is not', async () => {
  const sink = await startSink()
  const tracer = new Tracer({ url: sink.url, flushIntervalMs: 60_000 })
  const root = tracer.startSpan('root-never-finished')
  tracer.startSpan('done-child', { childOf: root }).finish()
  await tracer.flush()
  assert.equal(sink.to('/v0.4/traces').length, 0)
  await tracer.shutdown()
  const names = v04Chunks(sink).flat().map((s) => s.name)
  assert.deepEqual(names, ['done-child'])
  await sink.close()
})
