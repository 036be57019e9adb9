import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { Tracer } from '../../src/root/tracer.js'
import { startSink, v04Chunks, type Sink } from '../helpers/sink.js'

async function setup (opts: Record<string, unknown> = {}): Promise<{ sink: Sink, tracer: Tracer }> {
  const sink = await startSink()
  const tracer = new Tracer({ url: sink.url, service: 'svc', env: 'test', flushIntervalMs: 60_000, ...opts })
  return { sink, tracer }
}

async function done (sink: Sink, tracer: Tracer): Promise<void> {
  await tracer.shutdown()
  await sink.close()
}

test('a root span goes out as a v0.4 chunk with wire types the agent expects', async () => {
  const { sink, tracer } = await setup({ version: '1.2.3' })
  const before = BigInt(Date.now()) * 1_000_000n
  tracer.trace('web.request', { resource: 'GET /', type: 'web', tags: { 'http.status_code': 200, component: 'test', ok: true } }, () => {})
  await tracer.flush()
  const after = BigInt(Date.now()) * 1_000_000n
  const chunks = v04Chunks(sink)
  assert.equal(chunks.length, 1)
  const [span] = chunks[0]
  assert.equal(span.name, 'web.request')
  assert.equal(span.resource, 'GET /')
  assert.equal(span.type, 'web')
  assert.equal(span.service, 'svc')
  assert.equal(typeof span.trace_id, 'bigint')
  assert.equal(typeof span.span_id, 'bigint')
  assert.notEqual(span.span_id, 0n)
  assert.equal(BigInt(span.parent_id as bigint), 0n)
  const meta = span.meta as Record<string, string>
  const metrics = span.metrics as Record<string, number>
  assert.equal(meta.env, 'test')
  assert.equal(meta.version, '1.2.3')
  assert.equal(meta.component, 'test')
  assert.equal(meta.ok, 'true')
  assert.equal(meta.language, 'javascript')
  assert.match(meta['_dd.p.tid'], /^[0-9a-f]{8}00000000$/)
  assert.equal(metrics['http.status_code'], 200)
  assert.equal(metrics._sampling_priority_v1, 1)
  const start = BigInt(span.start as bigint | number)
  assert.ok(start >= before - 2_000_000n && start <= after, `start ${start} within [${before}, ${after}]`)
  assert.ok(Number(span.duration) >= 0)
  const headers = sink.to('/v0.4/traces')[0].headers
  assert.equal(headers['content-type'], 'application/msgpack')
  assert.equal(headers['x-datadog-trace-count'], '1')
  assert.equal(headers['datadog-meta-lang'], 'nodejs')
  assert.equal(headers['datadog-meta-lang-version'], process.version)
  assert.equal(headers['datadog-meta-lang-interpreter'], 'v8')
  assert.match(String(headers['datadog-meta-tracer-version']), /^\d+\.\d+\.\d+/)
  assert.equal(headers['datadog-send-real-http-status'], 'true')
  await done(sink, tracer)
})

test('children share the trace id, point at their parent, and the local root leads the chunk', async () => {
  const { sink, tracer } = await setup()
  await tracer.trace('root', async (root) => {
    await tracer.trace('child', async (child) => {
      assert.equal(tracer.activeSpan(), child)
      tracer.trace('grandchild', () => {})
    })
    assert.equal(tracer.activeSpan(), root)
  })
  assert.equal(tracer.activeSpan(), undefined)
  await tracer.flush()
  const chunks = v04Chunks(sink)
  assert.equal(chunks.length, 1)
  const spans = chunks[0]
  assert.equal(spans.length, 3)
  assert.equal(spans[0].name, 'root', 'local root first even though it finished last')
  const byName = Object.fromEntries(spans.map((s) => [s.name, s]))
  assert.equal(byName.child.parent_id, byName.root.span_id)
  assert.equal(byName.grandchild.parent_id, byName.child.span_id)
  assert.ok(spans.every((s) => s.trace_id === spans[0].trace_id))
  assert.equal(new Set(spans.map((s) => s.span_id)).size, 3)
  // trace-level tags only on the chunk root
  assert.equal((byName.child.meta as Record<string, string>)['_dd.p.tid'], undefined)
  await done(sink, tracer)
})

test('trace() records errors from sync throws and rejected promises and re-throws them unchanged', async () => {
  const { sink, tracer } = await setup()
  class MyError extends Error { override name = 'MyError' }
  const syncErr = new MyError('sync boom')
  assert.throws(() => tracer.trace('sync', () => { throw syncErr }), (e) => e === syncErr)
  const asyncErr = new TypeError('async boom')
  await assert.rejects(tracer.trace('async', async () => { await sleep(1); throw asyncErr }), (e) => e === asyncErr)
  const value = await tracer.trace('ok', () => Promise.resolve(42))
  assert.equal(value, 42)
  await tracer.flush()
  const spans = v04Chunks(sink).flat()
  const byName = Object.fromEntries(spans.map((s) => [s.name, s]))
  assert.equal(byName.sync.error, 1)
  assert.equal((byName.sync.meta as Record<string, string>)['error.type'], 'MyError')
  assert.equal((byName.sync.meta as Record<string, string>)['error.message'], 'sync boom')
  assert.match((byName.sync.meta as Record<string, string>)['error.stack'], /sync boom/)
  assert.equal(byName.async.error, 1)
  assert.equal((byName.async.meta as Record<string, string>)['error.type'], 'TypeError')
  assert.equal(byName.ok.error, 0)
  await done(sink, tracer)
})

test('async duration is measured until the promise settles', async () => {
  const { sink, tracer } = await setup()
  let settle!: () => void
  const traced = tracer.trace('slow', () => new Promise<void>((resolve) => { settle = resolve }))
  // fn has returned its promise; the span must stay open until that promise settles.
  await tracer.flush()
  assert.equal(v04Chunks(sink).length, 0, 'not finished when fn returned')
  await sleep(30)
  settle()
  await traced
  await tracer.flush()
  const [span] = v04Chunks(sink).flat()
  // A lower bound only: it covers the 30 ms the promise was pending (a busy machine adds to it).
  assert.ok(Number(span.duration) >= 25_000_000, `duration ${span.duration} ns >= 25 ms`)
  await done(sink, tracer)
})

test('context survives await, timers, event emitters and async iterators', async () => {
  const { sink, tracer } = await setup()
  const seen: Record<string, string | undefined> = {}
  await tracer.trace('root', async (root) => {
    await sleep(1)
    seen.afterAwait = tracer.activeSpan()?.spanId
    await new Promise<void>((resolve) => setTimeout(() => { seen.timer = tracer.activeSpan()?.spanId; resolve() }, 1))
    await new Promise<void>((resolve) => setImmediate(() => { seen.immediate = tracer.activeSpan()?.spanId; resolve() }))
    const ee = new EventEmitter()
    const got = new Promise<void>((resolve) => ee.on('evt', () => { seen.emitter = tracer.activeSpan()?.spanId; resolve() }))
    setTimeout(() => ee.emit('evt'), 1)
    await got
    async function * gen (): AsyncGenerator<number> {
      for (let i = 0; i < 2; i++) {
        await sleep(1)
        seen[`iter${i}`] = tracer.activeSpan()?.spanId
        yield i
      }
    }
    for await (const _ of gen()) { /* consume */ }
    seen.expected = root.spanId
  })
  // Outside the callback nothing is active, even though work was scheduled inside.
  assert.equal(tracer.activeSpan(), undefined)
  for (const k of ['afterAwait', 'timer', 'immediate', 'emitter', 'iter0', 'iter1']) assert.equal(seen[k], seen.expected, k)
  await done(sink, tracer)
})

test('concurrent traces do not leak context into each other', async () => {
  const { sink, tracer } = await setup()
  const results = await Promise.all([1, 2, 3].map((i) => tracer.trace(`t${i}`, async (span) => {
    await sleep(5 * (4 - i))
    return tracer.activeSpan() === span
  })))
  assert.deepEqual(results, [true, true, true])
  await done(sink, tracer)
})

test('startSpan with childOf, explicit null root, startTime', async () => {
  const { sink, tracer } = await setup()
  const parent = tracer.startSpan('parent')
  const child = tracer.startSpan('child', { childOf: parent.context() })
  const t0 = Date.now() - 5000
  const other = tracer.activate(parent, () => tracer.startSpan('fresh', { childOf: null, startTime: t0 }))
  assert.equal(child.traceId, parent.traceId)
  assert.equal(child.parentId, parent.spanId)
  assert.notEqual(other.traceId, parent.traceId)
  other.finish(t0 + 1500)
  child.finish()
  parent.finish()
  await tracer.flush()
  const spans = v04Chunks(sink).flat()
  const fresh = spans.find((s) => s.name === 'fresh') as Record<string, unknown>
  assert.equal(BigInt(fresh.start as bigint) / 1_000_000n, BigInt(t0))
  assert.ok(Math.abs(Number(fresh.duration) - 1.5e9) < 1e6, `duration ${fresh.duration}`)
  await done(sink, tracer)
})

test('mutating a finished span or finishing twice warns and changes nothing', async () => {
  const { sink, tracer } = await setup()
  const span = tracer.startSpan('once')
  span.finish()
  const before = span.duration
  span.setTag('late', 'x')
  span.setError(new Error('late'))
  span.finish()
  assert.equal(span.meta.late, undefined)
  assert.equal(span.error, 0)
  assert.equal(span.duration, before)
  await tracer.flush()
  assert.equal(v04Chunks(sink).flat().length, 1)
  await done(sink, tracer)
})

test('misuse never throws: bad names, bad options, non-function callbacks, foreign childOf', async () => {
  const { sink, tracer } = await setup()
  assert.doesNotThrow(() => tracer.trace('x', {} as never))
  assert.doesNotThrow(() => tracer.startSpan('' as string, null as never).finish())
  assert.doesNotThrow(() => tracer.startSpan('y', { childOf: { foo: 1 } as never }).finish())
  assert.doesNotThrow(() => tracer.inject({} as never, {}))
  assert.equal(tracer.extract(null), null)
  assert.equal(tracer.extract({ 'x-datadog-trace-id': 'garbage' }), null)
  const s = tracer.startSpan('tags')
  assert.doesNotThrow(() => s.setTag('', 1).setTag('obj', { a: 1n, b: [1] }).setTag('sym', Symbol('s') as never).addTags(null as never))
  assert.equal(s.meta.obj, '{"a":"1","b":[1]}')
  s.finish()
  await done(sink, tracer)
})

test('user processors run first; null drops the chunk and is reported; a throwing one is skipped', async () => {
  const { sink, tracer } = await setup()
  const dropped: string[] = []
  tracer.chain.onChunkDropped((chunk, reason) => dropped.push(`${String(chunk.spans[0].name)}:${reason}`))
  tracer.addProcessor(() => { throw new Error('broken processor') })
  tracer.addProcessor((spans) => spans[0].name === 'health' ? null : spans)
  tracer.addProcessor((spans) => { for (const s of spans) s.meta.filtered = 'yes' })
  tracer.trace('health', () => {})
  tracer.trace('real', () => {})
  await tracer.flush()
  const spans = v04Chunks(sink).flat()
  assert.deepEqual(spans.map((s) => s.name), ['real'])
  assert.equal((spans[0].meta as Record<string, string>).filtered, 'yes')
  assert.deepEqual(dropped, ['health:user_processor'])
  await done(sink, tracer)
})

test('DD_TRACE_ENABLED=false sends nothing', async () => {
  const { sink, tracer } = await setup({ enabled: false })
  tracer.trace('x', () => {})
  await tracer.flush()
  // No writer exists, so nothing can be sent later either: no need to wait and see.
  assert.equal(tracer.writer, undefined)
  assert.equal(sink.all.length, 0)
  await done(sink, tracer)
})
