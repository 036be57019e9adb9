import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeAgentlessTraces } from '../../src/agent/decode/agentless_json.js'

function reason (r: ReturnType<typeof decodeAgentlessTraces>): string {
  if (r.ok) assert.fail('expected the body to be rejected')
  return r.reason
}

const llmobs = { trace_id: 'c'.repeat(32), meta: { input: { messages: [{ role: 'user', content: 'hi' }] } }, tags: { a: 'b' } }

test('a dd-trace-py style body: padded hex ids, start in ns, meta_struct as objects, empty fields left out', () => {
  const body = JSON.stringify({
    traces: [{
      spans: [
        {
          trace_id: '0094 6c09 04f1 1758'.replace(/ /g, ''), parent_id: '0000000000000000', span_id: 'ff00000000000001',
          service: 'svc', resource: 'r', name: 'llm.call', error: 1, start: 1795611232984016384, duration: 3910645,
          meta: { '_dd.compute_stats': '1' }, metrics: { _trace_root: 1, _sampling_priority_v1: -1 }, type: 'llm',
          meta_struct: { _llmobs: llmobs },
        },
        { trace_id: '00946c0904f11758', parent_id: 'ff00000000000001', span_id: '0000000000000002', name: 'child', error: 0, meta_struct: {} },
      ],
    }],
  })
  const r = decodeAgentlessTraces(body)
  if (!r.ok) assert.fail(r.reason)
  const [[root, child]] = r.chunks
  assert.equal(root.traceId, 41777082546591576n)
  assert.equal(root.spanId, 0xff00000000000001n)
  assert.equal(root.parentId, 0n)
  // Representable as a double, so exact; other values above 2^53 are off by < 256 ns (JSON.parse).
  assert.equal(root.start, 1795611232984016384n)
  assert.equal(root.duration, 3910645n)
  assert.equal(root.error, 1)
  assert.equal(root.type, 'llm')
  assert.deepEqual(root.metrics, { _trace_root: 1, _sampling_priority_v1: -1 })
  assert.deepEqual(root.metaStructJson, { _llmobs: llmobs })
  assert.equal(child.parentId, 0xff00000000000001n)
  assert.deepEqual(child.meta, {})
  assert.equal(child.start, 0n)
  assert.equal(child.type, '')
})

test('a dd-trace-js style body: unpadded ids, parent "0", start in whole seconds, metadata on the trace', () => {
  const body = JSON.stringify({
    traces: [{
      hostname: 'h', env: 'e',
      spans: [{ trace_id: 'abc', span_id: '1f', parent_id: '0', name: 'n', resource: 'r', service: 's', error: 0, start: 1795611232, duration: 5, meta: {}, metrics: {} }],
    }],
  })
  const r = decodeAgentlessTraces(body)
  if (!r.ok) assert.fail(r.reason)
  const [[s]] = r.chunks
  assert.equal(s.traceId, 0xabcn)
  assert.equal(s.spanId, 0x1fn)
  assert.equal(s.parentId, 0n)
  assert.equal(s.start, 1795611232000000000n, 'seconds are scaled to nanoseconds')
})

test('decimal-string times are exact; a bare array of spans is a trace; bool error', () => {
  const r = decodeAgentlessTraces(JSON.stringify({ traces: [[{ trace_id: '1', span_id: '2', start: '1795611232984016384', duration: '-5', error: true }]] }))
  if (!r.ok) assert.fail(r.reason)
  assert.equal(r.chunks[0][0].start, 1795611232984016384n)
  assert.equal(r.chunks[0][0].duration, -5n)
  assert.equal(r.chunks[0][0].error, 1)
})

test('malformed bodies are rejected with a reason that names the place', () => {
  const span = (over: Record<string, unknown>): string => JSON.stringify({ traces: [{ spans: [{ trace_id: '1', span_id: '2' }, { trace_id: '1', span_id: '3', ...over }] }] })
  assert.match(reason(decodeAgentlessTraces('{"traces": [')), /^invalid JSON: /)
  assert.match(reason(decodeAgentlessTraces('[]')), /^body must be an object \{"traces": \[\.\.\.\]\}, got array$/)
  assert.match(reason(decodeAgentlessTraces('{}')), /^field "traces" must be an array, got nothing$/)
  assert.match(reason(decodeAgentlessTraces('{"traces": [{"spans": 3}]}')), /^traces\[0\]: field "spans" must be an array, got number$/)
  assert.match(reason(decodeAgentlessTraces('{"traces": ["x"]}')), /^traces\[0\]: must be an object/)
  assert.match(reason(decodeAgentlessTraces(span({ trace_id: 123 }))), /^traces\[0\]\.spans\[1\]: field "trace_id" must be a hex string of 1 to 16 digits, got number$/)
  assert.match(reason(decodeAgentlessTraces(span({ span_id: '0x12' }))), /field "span_id" must be a hex string .*got "0x12"/)
  assert.match(reason(decodeAgentlessTraces(span({ span_id: '1'.repeat(17) }))), /field "span_id" must be a hex string/)
  assert.match(reason(decodeAgentlessTraces(span({ meta: 'x' }))), /field "meta" must be an object, got string/)
  assert.match(reason(decodeAgentlessTraces(span({ meta: { a: 1 } }))), /field "meta" key "a": value must be a string, got number/)
  assert.match(reason(decodeAgentlessTraces(span({ metrics: { a: '1' } }))), /field "metrics" key "a": value must be a number, got string/)
  assert.match(reason(decodeAgentlessTraces(span({ meta_struct: [] }))), /field "meta_struct" must be an object, got array/)
  assert.match(reason(decodeAgentlessTraces(span({ start: 'soon' }))), /field "start" must be an integer \(number or decimal string\), got "soon"/)
  assert.match(reason(decodeAgentlessTraces(span({ start: '99999999999999999999' }))), /field "start" value 99999999999999999999 overflows int64/)
  assert.match(reason(decodeAgentlessTraces(span({ error: 0.5 }))), /field "error" must be an int32, got 0.5/)
  assert.match(reason(decodeAgentlessTraces(span({ name: ['x'] }))), /field "name" must be a string, got array/)
  assert.match(reason(decodeAgentlessTraces(JSON.stringify({ traces: [{ spans: [1] }] }))), /^traces\[0\]\.spans\[0\]: span must be an object, got number$/)
})

test('meta_struct depth bomb and span count are bounded', () => {
  const deep = '{"traces":[{"spans":[{"meta_struct":{"_llmobs":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}}]}]}'
  assert.match(reason(decodeAgentlessTraces(deep)), /field "meta_struct" key "_llmobs": nesting deeper than 128 levels/)
  const ok128 = '{"traces":[{"spans":[{"meta_struct":{"_llmobs":' + '['.repeat(128) + ']'.repeat(128) + '}}]}]}'
  assert.ok(decodeAgentlessTraces(ok128).ok)
  const many = JSON.stringify({ traces: [{ spans: [{}, {}, {}] }] })
  assert.match(reason(decodeAgentlessTraces(many, { maxSpans: 2 })), /more than 2 spans/)
})

test('"__proto__" keys from JSON stay own data', () => {
  const r = decodeAgentlessTraces('{"traces":[{"spans":[{"meta":{"__proto__":"x"},"meta_struct":{"__proto__":{"a":1}}}]}]}')
  if (!r.ok) assert.fail(r.reason)
  const s = r.chunks[0][0]
  assert.equal(Object.getPrototypeOf(s.meta), Object.prototype)
  assert.equal(Object.getOwnPropertyDescriptor(s.meta, '__proto__')?.value, 'x')
  assert.deepEqual(Object.getOwnPropertyDescriptor(s.metaStructJson, '__proto__')?.value, { a: 1 })
})
