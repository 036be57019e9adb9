import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { context, propagation, trace, SpanKind, SpanStatusCode, ROOT_CONTEXT, createContextKey } from '@opentelemetry/api'
import { Tracer } from '../../src/root/tracer.js'
import { enableOtel } from '../../src/otel/enable.js'
import { startSink, v04Chunks } from '../helpers/sink.js'

// One process per test file: the OTel globals are registered once, for this file's tracer.
const sink = await startSink()
const tracer = new Tracer({ url: sink.url, service: 'svc', flushIntervalMs: 60_000 })
const bridge = enableOtel(tracer)
const otel = trace.getTracer('@opentelemetry/instrumentation-test', '1.2.3')
after(async () => { await tracer.shutdown(); await sink.close() })

async function sentSpans (): Promise<Array<Record<string, any>>> {
  await tracer.flush()
  const spans = v04Chunks(sink).flat()
  sink.requests.length = 0
  sink.all.length = 0
  return spans
}

test('enableOtel registers the globals: the API hands out our tracer and propagator', () => {
  assert.equal(enableOtel(tracer), bridge, 'once per tracer')
  const s = otel.startSpan('x')
  assert.equal(bridge.spanOf(s) !== undefined, true)
  s.end()
  assert.deepEqual(propagation.fields().includes('x-datadog-trace-id'), true)
})

test('one active span whichever API started it; parentage both ways, one trace', async () => {
  const inner: { otelTrace?: string, ddActive?: string, otelParentOfNative?: string } = {}
  tracer.trace('native.root', (root) => {
    const active = trace.getActiveSpan()
    assert.ok(active !== undefined, 'the OTel API sees our active span')
    assert.equal(active.spanContext().spanId, root.spanId)
    assert.equal(active.spanContext().traceId, root.trace.traceIdHigh + root.trace.traceIdLow)
    otel.startActiveSpan('otel.child', (child) => {
      inner.otelTrace = child.spanContext().traceId
      const dd = tracer.activeSpan()
      inner.ddActive = dd?.spanId
      tracer.trace('native.grandchild', (g) => { inner.otelParentOfNative = g.parentId })
      child.end()
    })
  })
  const spans = await sentSpans()
  const byName = new Map(spans.map((s) => [s.resource === 'otel.child' ? 'otel.child' : s.name, s]))
  const root = byName.get('native.root')!
  const child = byName.get('otel.child')!
  const grand = byName.get('native.grandchild')!
  assert.ok(root && child && grand, `all three sent: ${spans.map((s) => s.name).join(',')}`)
  assert.equal(child.parent_id, root.span_id, 'OTel span under our span')
  assert.equal(grand.parent_id, child.span_id, 'our span under the OTel span')
  assert.equal(new Set([root, child, grand].map((s) => s.trace_id)).size, 1, 'one trace')
  assert.equal(inner.ddActive, child.span_id.toString(16).padStart(16, '0'), 'tracer.activeSpan() is the OTel span inside startActiveSpan')
  assert.equal(inner.otelParentOfNative, inner.ddActive)
})

test('an OTel span looks as the Agent would map it (operation, resource, type, attribute types, status, events, links, scope)', async () => {
  const link = otel.startSpan('linked')
  link.end()
  const span = otel.startSpan('GET /users/:id', {
    kind: SpanKind.SERVER,
    attributes: { 'http.request.method': 'GET', 'http.route': '/users/:id', 'http.response.status_code': 503, arr: ['a', 'b'], nums: [1, 2], flag: true, f: 1.5, 'url.full': 'http://h/users/1' },
    links: [{ context: link.spanContext(), attributes: { n: 3 } }],
  })
  assert.equal(span.isRecording(), true)
  span.addEvent('cache.miss', { key: 'u1' })
  span.recordException(new TypeError('bad'))
  span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream down' })
  span.end()
  assert.equal(span.isRecording(), false, 'not recording once ended')
  const client = otel.startSpan('query', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.statement': 'SELECT 1' } })
  client.end()
  const internal = otel.startSpan('work')
  internal.setAttribute('resource.name', 'custom-resource')
  internal.setAttribute('service.name', 'other-svc')
  internal.end()
  const spans = await sentSpans()
  const server = spans.find((s) => s.name === 'http.server.request')!
  assert.ok(server, spans.map((s) => s.name).join(','))
  assert.equal(server.resource, 'GET /users/:id')
  assert.equal(server.type, 'web')
  assert.equal(server.error, 1)
  assert.equal(server.meta['span.kind'], 'server')
  assert.equal(server.meta['http.method'], 'GET', 'semconv key remapped')
  assert.equal(server.meta['http.request.method'], undefined, 'the original key is dropped')
  assert.equal(server.metrics['http.status_code'], 503)
  assert.equal(server.meta['http.url'], 'http://h/users/1')
  assert.equal(server.meta.arr, '["a","b"]', 'arrays as JSON text')
  assert.equal(server.meta.nums, '[1,2]')
  assert.equal(server.meta.flag, 'true', 'booleans as strings')
  assert.equal(server.metrics.f, 1.5)
  assert.equal(server.meta['otel.status_code'], 'Error')
  assert.equal(server.meta['otel.status_description'], 'upstream down')
  assert.equal(server.meta['error.msg'], 'upstream down')
  assert.equal(server.meta['otel.scope.name'], '@opentelemetry/instrumentation-test')
  assert.equal(server.meta['otel.scope.version'], '1.2.3')
  assert.equal(server.meta['_dd.span_events.has_exception'], 'true')
  const events = JSON.parse(server.meta.events)
  assert.deepEqual(events.map((e: { name: string }) => e.name), ['cache.miss', 'exception'])
  assert.equal(events[1].attributes['exception.type'], 'TypeError')
  assert.equal(typeof events[0].time_unix_nano, 'number')
  const links = JSON.parse(server.meta['_dd.span_links'])
  assert.equal(links[0].span_id, link.spanContext().spanId)
  assert.equal(links[0].trace_id, link.spanContext().traceId)
  assert.deepEqual(links[0].attributes, { n: '3' })
  assert.equal(server.meta['otel.trace_id'].length, 32)
  const db = spans.find((s) => s.name === 'postgresql.query')!
  assert.equal(db.resource, 'SELECT 1')
  assert.equal(db.type, 'sql')
  const work = spans.find((s) => s.resource === 'custom-resource')!
  assert.equal(work.name, 'internal')
  assert.equal(work.type, 'custom')
  assert.equal(work.service, 'other-svc')
  assert.equal(work.meta['resource.name'], undefined, 'Datadog convention keys are not copied to meta')
})

test('propagation through the OTel API is ours: Datadog and W3C headers, and extract continues the trace', async () => {
  const carrier: Record<string, string> = {}
  let sent: { trace: string, span: string } | undefined
  otel.startActiveSpan('client', { kind: SpanKind.CLIENT }, (s) => {
    propagation.inject(context.active(), carrier)
    sent = { trace: s.spanContext().traceId, span: s.spanContext().spanId }
    s.end()
  })
  assert.ok(sent !== undefined)
  assert.equal(carrier.traceparent.split('-')[1], sent.trace)
  assert.equal(carrier.traceparent.split('-')[2], sent.span)
  assert.equal(BigInt(carrier['x-datadog-parent-id']).toString(16).padStart(16, '0'), sent.span)
  assert.ok(carrier['x-datadog-sampling-priority'] !== undefined, 'the priority is decided at injection')
  const extracted = propagation.extract(ROOT_CONTEXT, carrier)
  const child = otel.startSpan('server', { kind: SpanKind.SERVER }, extracted)
  assert.equal(child.spanContext().traceId, sent.trace)
  child.end()
  // Our own API inside the extracted OTel context continues the remote trace too.
  context.with(extracted, () => tracer.trace('native.in.remote', () => {}))
  const spans = await sentSpans()
  const server = spans.find((s) => s.name === 'server.request')!
  assert.equal(server.parent_id.toString(16).padStart(16, '0'), sent.span)
  const native = spans.find((s) => s.name === 'native.in.remote')!
  assert.equal(native.parent_id.toString(16).padStart(16, '0'), sent.span)
})

test('context values other than the span survive our spans nested inside them', () => {
  const key = createContextKey('k')
  const seen: unknown[] = []
  context.with(context.active().setValue(key, 'v'), () => {
    tracer.trace('native', () => {
      seen.push(context.active().getValue(key))
      seen.push(trace.getActiveSpan()?.spanContext().spanId === tracer.activeSpan()?.spanId)
    })
  })
  assert.deepEqual(seen, ['v', true])
})

test('suppressed tracing (the OTel exporter convention) and our exporter context start no span', async () => {
  const suppressed = context.active().setValue(Symbol.for('OpenTelemetry SDK Context Key SUPPRESS_TRACING'), true)
  const s = otel.startSpan('hidden', {}, suppressed)
  assert.equal(s.isRecording(), false)
  s.end()
  const spans = await sentSpans()
  assert.equal(spans.some((x) => x.resource === 'hidden'), false)
})

test('misuse never throws: bad attributes warn and are ignored, end twice is ignored, root: true starts a new trace', async () => {
  const parent = otel.startSpan('p')
  const s = otel.startSpan('r', { root: true }, trace.setSpan(context.active(), parent))
  assert.notEqual(s.spanContext().traceId, parent.spanContext().traceId)
  s.setAttribute('obj', { a: 1 } as never)
  s.setAttribute('', 'x')
  s.setAttributes(null as never)
  s.addEvent(undefined as never)
  s.end()
  s.end()
  s.setAttribute('late', 1)
  parent.end()
  const spans = await sentSpans()
  const r = spans.find((x) => x.resource === 'r')!
  assert.equal(r.meta.obj, undefined)
  assert.equal(r.metrics.late, undefined)
})
