import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api'
import { Tracer } from '../../src/root/tracer.js'
import { enableOtel } from '../../src/otel/enable.js'
import { mapOtelSpan, type OtelSpanInput } from '../../src/otel/dd_mapping.js'
import { startSink, v04Chunks } from '../helpers/sink.js'

// The bridge's cheap paths (shared empty events/links/status, the mapping written straight into
// the span, one trace-id string per trace) must give exactly what the plain paths gave.
const sink = await startSink()
// Tracer tags the mapping also writes or reads back: `db.name` (from db.namespace), `team`
// (a numeric attribute of that name becomes a metric and must not delete the tracer's tag).
const tracer = new Tracer({ url: sink.url, service: 'svc', env: 'prod', flushIntervalMs: 60_000, tags: { 'db.name': 'from-tags', team: 'a', 'http.method': 'TAGGED' } })
enableOtel(tracer)
const otel = trace.getTracer('fastpath', '0.1')
after(async () => { await tracer.shutdown(); await sink.close() })

async function sentSpans (): Promise<Array<Record<string, any>>> {
  await tracer.flush()
  const spans = v04Chunks(sink).flat()
  sink.requests.length = 0
  sink.all.length = 0
  return spans
}

test('events, links and status of one span never show on another (the shared empty ones stay empty)', async () => {
  const linked = otel.startSpan('linked')
  linked.end()
  const a = otel.startSpan('a', { links: [{ context: linked.spanContext() }] })
  a.addEvent('ev.a', { k: 'v' })
  a.recordException(new Error('boom'))
  a.setStatus({ code: SpanStatusCode.ERROR, message: 'bad' })
  a.end()
  const b = otel.startSpan('b')
  b.end()
  const c = otel.startSpan('c')
  c.addLink({ context: linked.spanContext() })
  c.end()
  const spans = await sentSpans()
  const [sa, sb, sc] = ['a', 'b', 'c'].map((r) => spans.find((s) => s.resource === r)!)
  assert.deepEqual(JSON.parse(sa.meta.events).map((e: { name: string }) => e.name), ['ev.a', 'exception'])
  assert.equal(JSON.parse(sa.meta['_dd.span_links']).length, 1)
  assert.equal(sa.meta['otel.status_code'], 'Error')
  assert.equal(sb.meta.events, undefined, 'b had no events')
  assert.equal(sb.meta['_dd.span_links'], undefined, 'b had no links')
  assert.equal(sb.meta['otel.status_code'], 'Unset')
  assert.equal(sb.error, 0)
  assert.equal(sc.meta.events, undefined, 'c had a link, not events')
  assert.equal(JSON.parse(sc.meta['_dd.span_links']).length, 1, 'c has its own link only')
})

test('the mapping overrides tracer tags as before: db.namespace wins over a db.name tag, a numeric attribute leaves the tag of its name', async () => {
  // Apart, so that each guard alone decides its span.
  const s = otel.startSpan('q', { kind: SpanKind.CLIENT, attributes: { 'db.system': 'postgresql', 'db.namespace': 'shop' } })
  s.end()
  const t = otel.startSpan('t', { attributes: { team: 7 } })
  t.end()
  const plain = otel.startSpan('plain', { attributes: { component: 'x' } })
  plain.end()
  const spans = await sentSpans()
  const q = spans.find((x) => x.resource === 'q')!
  assert.equal(q.meta['db.name'], 'shop', 'the Agent writes db.name from db.namespace, over a tag')
  const tt = spans.find((x) => x.resource === 't')!
  assert.equal(tt.metrics.team, 7, 'numbers are metrics')
  assert.equal(tt.meta.team, 'a', 'the tracer tag of that name stays (as when the mapping was copied over the tags)')
  const p = spans.find((x) => x.resource === 'plain')!
  assert.equal(p.meta['db.name'], 'from-tags')
  assert.equal(p.meta.team, 'a')
  assert.equal(p.meta.env, 'prod')
  assert.equal(p.meta.component, 'x')
  assert.equal(p.meta['http.method'], 'TAGGED')
})

test('an HTTP method attribute still maps over a tag of the remapped name, and a numeric one still leaves it', async () => {
  const s = otel.startSpan('GET /', { kind: SpanKind.SERVER, attributes: { 'http.request.method': 'GET' } })
  s.end()
  const n = otel.startSpan('odd', { attributes: { 'http.method': 5 } })
  n.end()
  const spans = await sentSpans()
  assert.equal(spans.find((x) => x.name === 'http.server.request')!.meta['http.method'], 'GET')
  const odd = spans.find((x) => x.metrics['http.method'] !== undefined)!
  assert.equal(odd.metrics['http.method'], 5)
  assert.equal(odd.meta['http.method'], 'TAGGED')
})

test('every span of a trace carries its own full trace id, in otel.trace_id and in spanContext()', async () => {
  const root = otel.startSpan('root')
  const ctx = trace.setSpan(context.active(), root)
  const child = otel.startSpan('child', undefined, ctx)
  const grand = otel.startSpan('grand', undefined, trace.setSpan(ctx, child))
  const other = otel.startSpan('other', { root: true }, ctx)
  const ids = [root, child, grand, other].map((s) => s.spanContext().traceId)
  for (const s of [grand, child, root, other]) s.end()
  const spans = await sentSpans()
  const by = (r: string): Record<string, any> => spans.find((x) => x.resource === r)!
  assert.equal(ids[0], ids[1])
  assert.equal(ids[0], ids[2])
  assert.notEqual(ids[0], ids[3], 'root: true starts its own trace')
  for (const [i, r] of ['root', 'child', 'grand', 'other'].entries()) {
    const s = by(r)
    assert.equal(s.meta['otel.trace_id'], ids[i])
    assert.equal(BigInt('0x' + ids[i].slice(16)), BigInt(s.trace_id), `${r}: the low half is the Datadog trace id`)
  }
})

test('mapOtelSpan writes into the given meta and metrics when that is the same as copying, and copies otherwise', () => {
  const input = (attributes: Record<string, any>, resource: Record<string, any> = {}): OtelSpanInput => ({
    name: 'n', kind: 0, attributes, resource, status: { code: 0, message: undefined }, events: [], links: [], scope: { name: 's', version: undefined }, traceId: '0'.repeat(31) + '1',
  })
  const into = { meta: { env: 'e' } as Record<string, string>, metrics: {} as Record<string, number> }
  const f = mapOtelSpan(input({ a: 'x', n: 2 }), into)
  assert.equal(f.meta, into.meta, 'in place')
  assert.deepEqual(into.meta, { env: 'e', a: 'x', 'span.kind': 'internal', 'otel.trace_id': '0'.repeat(31) + '1', 'otel.scope.name': 's', 'otel.library.name': 's', 'otel.status_code': 'Unset' })
  assert.deepEqual(into.metrics, { n: 2 })

  // A resource attribute the span's number replaces: built apart, the tag of that name survives.
  const r = { meta: { k: 'tag' } as Record<string, string>, metrics: {} as Record<string, number> }
  const g = mapOtelSpan(input({ k: 1 }, { k: 'res' }), r)
  assert.notEqual(g.meta, r.meta, 'copied')
  assert.equal(r.meta.k, 'tag')
  assert.equal(r.metrics.k, 1)
  // A numeric attribute named as a tag already there: the tag stays beside the metric.
  const t = { meta: { team: 'a' } as Record<string, string>, metrics: {} as Record<string, number> }
  mapOtelSpan(input({ team: 7 }), t)
  assert.equal(t.meta.team, 'a')
  assert.equal(t.metrics.team, 7)
  // The same without `into`: the pure form.
  const h = mapOtelSpan(input({ k: 1 }, { k: 'res' }))
  assert.equal(h.meta.k, undefined)
  assert.equal(h.metrics.k, 1)
})
