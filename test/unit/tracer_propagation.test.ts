import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Tracer } from '../../src/root/tracer.js'
import { startSink, v04Chunks } from '../helpers/sink.js'

test('an upstream priority is honoured: the local chunk carries it and rules do not override it', async () => {
  const sink = await startSink()
  const tracer = new Tracer({ url: sink.url, flushIntervalMs: 60_000, samplingRules: [{ sample_rate: 1 }] })
  const parent = tracer.extract({
    'x-datadog-trace-id': '12345',
    'x-datadog-parent-id': '678',
    'x-datadog-sampling-priority': '-1',
    'x-datadog-origin': 'synthetics',
    'x-datadog-tags': '_dd.p.dm=-4,_dd.p.tid=6565656500000000',
  })
  assert.ok(parent !== null)
  tracer.trace('downstream', { childOf: parent }, () => {})
  await tracer.flush()
  const [span] = v04Chunks(sink).flat()
  assert.equal(span.trace_id, 12345n)
  assert.equal(span.parent_id, 678n)
  const metrics = span.metrics as Record<string, number>
  const meta = span.meta as Record<string, string>
  assert.equal(metrics._sampling_priority_v1, -1)
  assert.equal(metrics['_dd.rule_psr'], undefined, 'no local decision was made')
  assert.equal(meta['_dd.origin'], 'synthetics')
  assert.equal(meta['_dd.p.tid'], '6565656500000000')
  assert.equal(meta['_dd.p.dm'], '-4')
  await tracer.shutdown()
  await sink.close()
})

test('inject decides sampling first, so downstream gets the final priority and the same trace', async () => {
  const sink = await startSink()
  const tracer = new Tracer({ url: sink.url, flushIntervalMs: 60_000, samplingRules: [{ sample_rate: 0 }] })
  const headers: Record<string, string> = {}
  tracer.trace('client', (span) => {
    tracer.inject(span, headers)
    assert.equal(span.trace.samplingPriority, -1)
  })
  assert.equal(headers['x-datadog-sampling-priority'], '-1')
  assert.match(headers.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/)
  const downstream = new Tracer({ url: sink.url, flushIntervalMs: 60_000 })
  const ctx = downstream.extract(headers)
  assert.ok(ctx !== null)
  downstream.trace('server', { childOf: ctx }, () => {})
  await tracer.flush()
  await downstream.flush()
  const spans = v04Chunks(sink).flat()
  assert.equal(spans.length, 2)
  assert.equal(spans[0].trace_id, spans[1].trace_id)
  for (const s of spans) assert.equal((s.metrics as Record<string, number>)._sampling_priority_v1, -1)
  await tracer.shutdown()
  await downstream.shutdown()
  await sink.close()
})

test('W3C only: other vendors survive a hop and _dd.parent_id is recorded on the local root', async () => {
  const sink = await startSink()
  const tracer = new Tracer({ url: sink.url, flushIntervalMs: 60_000 })
  const ctx = tracer.extract({
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    tracestate: 'dd=s:2;p:00000000000000aa;t.dm:-4,congo=t61rcWkgMzE',
  })
  assert.ok(ctx !== null)
  const out: Record<string, string> = {}
  tracer.trace('hop', { childOf: ctx }, (span) => tracer.inject(span, out))
  assert.match(out.tracestate, /^dd=s:2;.*,congo=t61rcWkgMzE$/)
  assert.match(out.traceparent, /^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/)
  await tracer.flush()
  const [span] = v04Chunks(sink).flat()
  assert.equal((span.meta as Record<string, string>)['_dd.parent_id'], '00000000000000aa')
  assert.equal((span.meta as Record<string, string>)['_dd.p.tid'], '0af7651916cd43dd')
  assert.equal((span.metrics as Record<string, number>)._sampling_priority_v1, 2)
  await tracer.shutdown()
  await sink.close()
})

test('a context the Agent would drop starts a new trace: every span leaves with non-zero ids, and it is counted', async (t) => {
  const sink = await startSink()
  const tracer = new Tracer({ url: sink.url, flushIntervalMs: 60_000, samplingRules: [{ sample_rate: 1 }] })
  const other = new Tracer({ url: sink.url, flushIntervalMs: 60_000 })
  // A failed assertion must not leave the sink holding the process open.
  t.after(async () => { await tracer.shutdown(); await other.shutdown(); await sink.close() })
  const lowZero = tracer.extract({ traceparent: '00-00000000000000010000000000000000-00f067aa0ba902b7-01' })
  assert.equal(lowZero, null)
  const ddZero = tracer.extract({ 'x-datadog-trace-id': '0', 'x-datadog-parent-id': '5' })
  assert.equal(ddZero, null)
  const good = tracer.extract({ traceparent: '00-0000000000000000000000000000002a-00f067aa0ba902b7-01' })
  assert.ok(good !== null)
  assert.deepEqual(tracer.propagationStats(), { extracted: 1, invalid: 2 })
  tracer.trace('from-low-zero', { childOf: lowZero }, () => { tracer.trace('child', () => {}) })
  tracer.trace('from-dd-zero', { childOf: ddZero }, () => {})
  tracer.trace('from-good', { childOf: good }, () => {})
  await tracer.flush()
  const spans = v04Chunks(sink).flat()
  assert.equal(spans.length, 4)
  for (const s of spans) {
    assert.notEqual(s.trace_id, 0n, `${String(s.name)}: trace id`)
    assert.notEqual(s.span_id, 0n, `${String(s.name)}: span id`)
  }
  const byName = Object.fromEntries(spans.map((s) => [s.name, s]))
  assert.equal(byName['from-low-zero'].parent_id, 0n, 'a new trace: a root')
  assert.equal(byName.child.trace_id, byName['from-low-zero'].trace_id)
  assert.equal(byName['from-good'].trace_id, 42n)
  assert.equal(byName['from-good'].parent_id, 0x00f067aa0ba902b7n)
  // A second tracer counts its own extractions.
  assert.deepEqual(other.propagationStats(), { extracted: 0, invalid: 0 })
})
