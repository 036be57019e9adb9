import { test } from 'node:test'
import assert from 'node:assert/strict'
import { ingestOtlp } from '../../src/agent/otlp/otlp_ingest.js'
import { newBatch, type Batch } from '../../src/agent/store.js'
import { CHAT_ATTRS, T0, otlpRequest, otlpSpan } from '../helpers/otlp_values.js'

const TRACE = '5b8efff798038103d269b633813fc60c'

function ingest (...args: Parameters<typeof otlpRequest>): { batch: Batch, rejected: number, message: string, events: any[] } {
  const batch = newBatch()
  const r = ingestOtlp(otlpRequest(...args), batch)
  return { batch, ...r, events: batch.spans.map((s) => JSON.parse(s.event)) }
}

test('a GenAI chat span becomes the LLMObs event the SDK would post: kind, model, messages, tokens, session, tags', () => {
  const s = otlpSpan(TRACE, { name: 'chat gpt-4o', kind: 3, attrs: CHAT_ATTRS })
  const { batch, events, rejected } = ingest([s], { 'service.name': 'shop', 'deployment.environment.name': 'dev', 'service.version': '1.2' })
  assert.equal(rejected, 0)
  assert.equal(events.length, 1)
  const [e] = events
  assert.equal(e.trace_id, TRACE)
  assert.equal(e.span_id, BigInt('0x' + s.spanId).toString(10))
  assert.equal(e.parent_id, 'undefined')
  assert.equal(e.name, 'chat gpt-4o')
  assert.equal(e.start_ns, Number(T0))
  assert.equal(e.duration, 5_000_000)
  assert.equal(e.status, 'ok')
  assert.deepEqual(e.meta.span, { kind: 'llm' })
  assert.equal(e.meta.model_name, 'gpt-4o-2024-08-06')
  assert.equal(e.meta.model_provider, 'openai')
  assert.deepEqual(e.meta.input.messages, [{ role: 'user', content: 'hi' }])
  assert.deepEqual(e.meta.output.messages, [{ role: 'assistant', content: 'hello' }])
  assert.equal(e.meta.metadata.temperature, 0.7)
  assert.equal(e.metrics.input_tokens, 12)
  assert.equal(e.metrics.output_tokens, 5)
  assert.equal(e.session_id, 'c1')
  for (const t of ['ml_app:shop', 'service:shop', 'env:dev', 'version:1.2', 'source:otel', 'session_id:c1', 'error:0']) assert.ok(e.tags.includes(t), `${t} in ${e.tags.join(' ')}`)
  assert.deepEqual(e.tags, [...e.tags].sort())
  assert.deepEqual(e._dd, { span_id: e.span_id, trace_id: TRACE, apm_trace_id: TRACE })
  const row = batch.spans[0]
  assert.equal(row.path, 'otlp')
  assert.equal(row.kind, 'llm')
  assert.equal(row.mlApp, 'shop')
  assert.equal(row.startNs, T0.toString())
  assert.deepEqual(batch.counts, { otlp_spans_received: 1, llmobs_otlp: 1 })
})

test('parent = nearest admitted ancestor; the APM spans in between are named on the event; every span is summarised as an APM chunk', () => {
  const server = otlpSpan(TRACE, { name: 'GET /chat', kind: 2, attrs: { 'http.request.method': 'GET', 'http.route': '/chat' } })
  const wf = otlpSpan(TRACE, { name: 'agent run', parentSpanId: server.spanId, attrs: { 'gen_ai.operation.name': 'invoke_agent' } })
  const http = otlpSpan(TRACE, { name: 'POST', kind: 3, parentSpanId: wf.spanId, attrs: { 'http.request.method': 'POST' } })
  const llm = otlpSpan(TRACE, { name: 'chat', kind: 3, parentSpanId: http.spanId, attrs: CHAT_ATTRS })
  const orphan = otlpSpan(TRACE, { name: 'late', parentSpanId: 'ffffffffffffffff', attrs: CHAT_ATTRS })
  const { batch, events } = ingest([llm, http, wf, server, orphan])
  const byName = new Map(events.map((e) => [e.name, e]))
  assert.deepEqual([...byName.keys()].sort(), ['agent run', 'chat', 'late'], 'non-GenAI spans are no LLMObs spans')
  const agent = byName.get('agent run')
  assert.equal(agent.meta.span.kind, 'agent')
  assert.equal(agent.parent_id, 'undefined', 'the HTTP server span above is not an LLMObs parent')
  assert.deepEqual(agent._dd.apm_path.map((h: any) => [h.name, h.resource, h.type]), [['http.server.request', 'GET /chat', 'web']])
  assert.equal(byName.get('chat').parent_id, agent.span_id, 'through the HTTP client span')
  assert.deepEqual(byName.get('chat')._dd.apm_path.map((h: any) => h.span_id), [BigInt('0x' + http.spanId).toString(10)])
  assert.equal(byName.get('late').parent_id, 'undefined', 'a parent outside the request')
  assert.equal(batch.chunks.length, 1)
  assert.deepEqual(batch.chunks[0], {
    traceId: TRACE, rootName: 'http.server.request', service: 'otlp-app', priority: undefined, kept: true, spanCount: 5, error: false, llmobsSpans: 3, endpoint: '/v1/traces',
  })
})

test('spans no tracer could send are rejected one by one, with reasons; the rest is stored', () => {
  const ok = otlpSpan(TRACE, { attrs: CHAT_ATTRS })
  const bad = [
    otlpSpan('00000000000000000000000000000000', { name: 'zero-trace', attrs: CHAT_ATTRS }),
    otlpSpan(TRACE, { name: 'zero-span', spanId: '0000000000000000', attrs: CHAT_ATTRS }),
    otlpSpan(TRACE, { name: 'backwards', startTimeUnixNano: T0, endTimeUnixNano: T0 - 1n, attrs: CHAT_ATTRS }),
    otlpSpan(TRACE, { name: 'short-id', spanId: 'abc', attrs: CHAT_ATTRS }),
    otlpSpan(TRACE, { name: 'no-start', startTimeUnixNano: 0n, endTimeUnixNano: 0n }),
  ]
  const { batch, rejected, message, events } = ingest([ok, ...bad])
  assert.equal(rejected, 5)
  assert.equal(events.length, 1)
  assert.match(message, /^5 span\(s\) rejected: span "zero-trace": invalid trace id/)
  assert.match(message, /span "zero-span": invalid span id/)
  assert.match(message, /span "backwards": ends before it starts/)
  assert.match(message, /and 2 more$/)
  assert.equal(batch.counts.otlp_spans_rejected, 5)
  assert.equal(batch.counts.otlp_spans_received, 6)
})

test('dd_llmobs_enabled=false on one span or on the resource: no LLMObs span of that trace; the APM summary stays', () => {
  const other = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
  const root = otlpSpan(TRACE, { name: 'root', attrs: { 'gen_ai.operation.name': 'invoke_agent', dd_llmobs_enabled: false } })
  const child = otlpSpan(TRACE, { name: 'child', parentSpanId: root.spanId, attrs: CHAT_ATTRS })
  const kept = otlpSpan(other, { name: 'kept', attrs: CHAT_ATTRS })
  const r = ingest([root, child, kept])
  assert.deepEqual(r.events.map((e) => e.name), ['kept'], 'the whole trace opts out, the other trace does not')
  assert.equal(r.batch.counts.otlp_spans_opted_out, 2)
  assert.equal(r.batch.chunks.length, 2)
  const res = ingest([otlpSpan(TRACE, { attrs: CHAT_ATTRS })], { 'service.name': 's', dd_llmobs_enabled: 'false' })
  assert.equal(res.events.length, 0, 'resource opt-out')
})

test('mapping warnings are stored as collection_errors tags; an error status makes an error event', () => {
  const s = otlpSpan(TRACE, {
    attrs: { 'gen_ai.system': 'openai', 'gen_ai.input.messages': 'not json' },
    status: { code: 2, message: 'boom' },
  })
  const [e] = ingest([s]).events
  const warnings = e.tags.filter((t: string) => t.startsWith('collection_errors:'))
  assert.ok(warnings.includes('collection_errors:otel_warning_operation_missing'), warnings.join(' '))
  assert.ok(warnings.includes('collection_errors:otel_warning_input_malformed'), warnings.join(' '))
  assert.equal(e.status, 'error')
  assert.equal(e.meta.error.message, 'boom')
  assert.ok(e.tags.includes('error:1'))
})

test('hostile attribute keys and deep kvlists neither pollute prototypes nor throw', () => {
  let deep: any = 'leaf'
  for (let i = 0; i < 5000; i++) deep = { kvlist: [{ key: 'k', value: deep }] }
  const s = otlpSpan(TRACE, { attrs: CHAT_ATTRS })
  s.attributes.push({ key: '__proto__', value: { kvlist: [{ key: 'polluted', value: 'yes' }] } }, { key: 'constructor', value: 'y' }, { key: 'deep', value: deep })
  const { events } = ingest([s])
  assert.equal(events.length, 1)
  assert.equal(({} as any).polluted, undefined)
})
