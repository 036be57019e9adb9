import { test } from 'node:test'
import assert from 'node:assert/strict'
import { apmTraceId, eventFromLlmobs } from '../../src/agent/extract.js'
import { InvalidInput } from '../../src/agent/json_checks.js'
import { spansFromEnvelopes } from '../../src/agent/span_events.js'
import { evaluationsFromBody } from '../../src/agent/evaluations.js'

const carrier = { spanId: 0xfedcba9876543210n, name: 'apm.op', start: 1_700_000_000_123_456_789n, duration: 42n, error: 0 }

test('apm trace id: _dd.p.tid (root first, then any span) + low 64 bits as 32 hex', () => {
  const low = 0x0123456789abcdefn
  assert.equal(apmTraceId([{ traceId: low, meta: { '_dd.p.tid': '6553f10000000000' } }], 0), '6553f100000000000123456789abcdef')
  assert.equal(apmTraceId([{ traceId: low, meta: {} }, { traceId: low, meta: { '_dd.p.tid': '00000000000000FF' } }], 0),
    '00000000000000ff0123456789abcdef')
  assert.equal(apmTraceId([{ traceId: 5n, meta: { '_dd.p.tid': 'nothex' } }], 0), '00000000000000000000000000000005')
})

test('an _llmobs document becomes the intake event (known vector)', () => {
  const s = eventFromLlmobs({
    trace_id: '6553f1000000000000000000000000aa',
    parent_id: '77',
    ml_app: 'app',
    session_id: 's1',
    tags: { z: 'last', env: 'prod', n: 3, b: true },
    meta: { span: { kind: 'llm' }, input: { value: 'hi' } },
    metrics: { input_tokens: 1n, total_tokens: 2 },
    _dd: { extra: 'kept' },
    span_links: [{ span_id: '1' }],
    span_id: 'ignored', duration: 1e9, status: 'error',
  }, carrier, '6553f100000000000123456789abcdef', 'trace', 'chunk 0 span 0')
  assert.equal(s.spanId, '18364758544493064720')
  assert.equal(s.startNs, '1700000000123456789')
  assert.equal(s.kind, 'llm')
  assert.equal(s.mlApp, 'app')
  assert.equal(s.status, 'ok')
  assert.equal(s.name, 'apm.op')
  assert.deepEqual(JSON.parse(s.event), {
    trace_id: '6553f1000000000000000000000000aa',
    span_id: '18364758544493064720',
    parent_id: '77',
    name: 'apm.op',
    start_ns: 1700000000123456800,
    duration: 42,
    status: 'ok',
    meta: { span: { kind: 'llm' }, input: { value: 'hi' } },
    metrics: { input_tokens: 1, total_tokens: 2 },
    tags: ['b:true', 'env:prod', 'n:3', 'z:last'],
    session_id: 's1',
    ml_app: 'app',
    _dd: { extra: 'kept', span_id: '18364758544493064720', trace_id: '6553f100000000000123456789abcdef', apm_trace_id: '6553f100000000000123456789abcdef' },
    span_links: [{ span_id: '1' }],
  })
})

test('flat "span.kind", ml_app from tags, error status, parent defaults to "undefined"', () => {
  const s = eventFromLlmobs({ trace_id: 't', name: 'n', tags: ['ml_app:from-tag', 'a:b'], meta: { 'span.kind': 'tool' } },
    { ...carrier, error: 1 }, '0'.repeat(32), 'agentless', 'w')
  assert.equal(s.kind, 'tool')
  assert.equal(s.mlApp, 'from-tag')
  assert.equal(s.status, 'error')
  assert.equal(s.parentId, 'undefined')
  assert.equal(s.name, 'n')
  assert.deepEqual((JSON.parse(s.event) as { tags: string[] }).tags, ['a:b', 'ml_app:from-tag'])
})

test('wrong _llmobs shapes are refused with a reason naming the place and field', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['str', /w: meta_struct._llmobs must be a map, got string/],
    [{}, /field "trace_id" must be a non-empty string, got nothing/],
    [{ trace_id: 1 }, /field "trace_id" must be a non-empty string, got number/],
    [{ trace_id: 't', tags: 5 }, /field "tags" must be a map or a list of strings/],
    [{ trace_id: 't', tags: ['a', 1] }, /field "tags"\[1\] must be a string/],
    [{ trace_id: 't', meta: [] }, /field "meta" must be an object, got array/],
    [{ trace_id: 't', metrics: { a: 'x' } }, /field "metrics" key "a": value must be a number/],
    [{ trace_id: 't', name: 3 }, /field "name" must be a string/],
    [{ trace_id: 't', parent_id: {} }, /field "parent_id" must be a string/],
  ]
  for (const [doc, re] of cases) {
    assert.throws(() => eventFromLlmobs(doc, carrier, '0'.repeat(32), 'trace', 'w'), (err: unknown) => err instanceof InvalidInput && re.test(err.message), String(re))
  }
})

test('EVP envelopes: list or single object; events checked; stored as received', () => {
  const ev = { trace_id: 'abc', span_id: '12', name: 'n', start_ns: 5, duration: 6, tags: ['ml_app:x'], meta: { span: { kind: 'agent' } } }
  const one = spansFromEnvelopes({ event_type: 'span', spans: [ev] }, 'evp')
  assert.equal(one.length, 1)
  assert.deepEqual({ ...one[0], event: JSON.parse(one[0].event) as unknown }, {
    traceId: 'abc', spanId: '12', parentId: null, name: 'n', kind: 'agent', mlApp: 'x', status: 'ok', startNs: '5', duration: 6, path: 'evp', event: ev,
    // The parsed event rides along (the store derives its columns from it instead of parsing again).
    doc: ev,
  })
  assert.equal(spansFromEnvelopes([{ spans: [ev, ev] }, { spans: [] }], 'agentless').length, 2)
  assert.equal(spansFromEnvelopes([], 'evp').length, 0)
  const bad: Array<[unknown, RegExp]> = [
    [5, /body must be a list of envelopes/],
    [[{ spans: 'x' }], /envelope 0: field "spans" must be a list/],
    [[{ event_type: 'metric', spans: [] }], /unsupported event_type "metric"/],
    [[{ spans: [{ ...ev, span_id: 'abc' }] }], /span_id" must be a decimal uint64 string/],
    [[{ spans: [{ ...ev, span_id: '18446744073709551616' }] }], /span_id" must be a decimal uint64/],
    [[{ spans: [{ ...ev, start_ns: -1 }] }], /start_ns" must be a non-negative integer/],
    [[{ spans: [{ ...ev, duration: 'x' }] }], /duration" must be a non-negative integer/],
    [[{ spans: [{ ...ev, status: 'bad' }] }], /status" must be "ok" or "error"/],
    [[{ spans: [{ ...ev, tags: 'a:b' }] }], /tags" must be a list of strings/],
    [[{ spans: [{ ...ev, name: null }] }], /name" must be a string/],
  ]
  for (const [doc, re] of bad) assert.throws(() => spansFromEnvelopes(doc, 'evp'), re)
})

test('evaluations: span join, legacy ids, tag join; value type must match metric_type', () => {
  const m = { join_on: { span: { span_id: '1', trace_id: 't' } }, label: 'l', metric_type: 'score', score_value: 0.5, ml_app: 'a', timestamp_ms: 10 }
  const [e] = evaluationsFromBody({ data: { type: 'evaluation_metric', attributes: { metrics: [m] } } }, 'evp')
  assert.deepEqual({ ...e, event: JSON.parse(e.event) as unknown }, {
    traceId: 't', spanId: '1', label: 'l', metricType: 'score', value: '0.5', mlApp: 'a', timestampMs: 10, path: 'evp', event: m,
  })
  const legacy = evaluationsFromBody({ data: { attributes: { metrics: [{ span_id: '2', trace_id: 'u', label: 'c', metric_type: 'boolean', boolean_value: false }] } } }, 'agentless')
  assert.equal(legacy[0].value, 'false')
  const byTag = evaluationsFromBody({ data: { attributes: { metrics: [{ join_on: { tag: { key: 'k', value: 'v' } }, label: 'c', metric_type: 'categorical', categorical_value: 'x' }] } } }, 'evp')
  assert.equal(byTag[0].spanId, null)
  assert.throws(() => evaluationsFromBody({ data: { attributes: { metrics: [{ ...m, score_value: 'high' }] } } }, 'evp'), /score_value" must be a number/)
  assert.throws(() => evaluationsFromBody({ data: { attributes: { metrics: [{ ...m, metric_type: 'rank' }] } } }, 'evp'), /metric_type" must be categorical, score or boolean/)
  assert.throws(() => evaluationsFromBody({ data: {} }, 'evp'), /field "attributes" must be an object/)
})
