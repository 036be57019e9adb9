import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { log } from '../../src/diag/logger.js'
import { Span } from '../../src/trace/span.js'
import type { LLMObs } from '../../src/llmobs/sdk.js'
import type { Tracer } from '../../src/root/tracer.js'
import { closeRigs, rig } from '../helpers/llmobs_setup.js'
import { decodeMsgpack, evpEvents, v04Chunks } from '../helpers/sink.js'

after(closeRigs)

/**
 * Bad input to the SDK (issue 7). Every case runs twice in a fresh rig, on each wire path:
 * sample rate 0 (events rescued to the EVP proxy as JSON) and 1 (events riding the trace as
 * meta_struct msgpack). For each: nothing throws into the caller; no warning is given twice, and
 * a case that loses or refuses something warns; the span's event reaches the sink well-formed,
 * with everything that could be kept.
 */
type Wire = Record<string, any>
interface Case {
  name: string
  /** A warning the case must give (once); `false`: it must give none (nothing was lost). */
  warns: RegExp | false
  /** Makes spans named after the case (see `n`); may be async. Must not throw. */
  run: (o: LLMObs, t: Tracer, n: string) => unknown
  /** Checks the events named `n` that reached the sink. */
  check?: (events: Wire[], n: string) => void
  /** Events named `n` expected per run (default 1). */
  events?: number
}

const MB = 1024 * 1024
const circular = (): Record<string, unknown> => { const o: Record<string, unknown> = { a: 1, keep: 'me' }; o.self = o; return o }
const deep = (levels: number): unknown => { let v: unknown = 'bottom'; for (let i = 0; i < levels; i++) v = { d: v }; return v }
const deepArrays = (levels: number): unknown => { let v: unknown = []; for (let i = 0; i < levels; i++) v = [v]; return v }

function llm (o: LLMObs, n: string, fn: (span: Span) => unknown): unknown {
  return o.trace({ kind: 'llm', name: n, modelName: 'm', modelProvider: 'p' }, fn)
}
function task (o: LLMObs, n: string, fn: (span: Span) => unknown): unknown {
  return o.trace({ kind: 'task', name: n }, fn)
}
const only = (events: Wire[]): Wire => { assert.ok(events.length >= 1); return events[0] }
const inputOf = (e: Wire): any => e.meta.input
const outputOf = (e: Wire): any => e.meta.output

const CASES: Case[] = [
  // annotate() with wrong shapes
  { name: 'annotate(undefined) in a span', warns: /annotation must be an object/, run: (o, _t, n) => task(o, n, () => o.annotate(undefined as never)) },
  { name: 'annotate(null) in a span', warns: /annotation must be an object/, run: (o, _t, n) => task(o, n, () => o.annotate(null as never)) },
  { name: 'annotate("text") in a span', warns: /annotation must be an object/, run: (o, _t, n) => task(o, n, () => o.annotate('text' as never)) },
  { name: 'annotate(span, 42)', warns: /annotation must be an object/, run: (o, _t, n) => task(o, n, (s) => o.annotate(s, 42 as never)) },
  { name: 'annotate(span, [inputData]) (an array)', warns: false, run: (o, _t, n) => task(o, n, (s) => o.annotate(s, ['x'] as never)), check: (ev) => assert.equal(inputOf(only(ev)), undefined) },
  {
    name: 'metadata that is not an object',
    warns: /metadata must be an object/,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { metadata: 'flat' as never, inputData: 'kept' })),
    check: (ev) => { assert.equal(only(ev).meta.metadata, undefined); assert.deepEqual(inputOf(only(ev)), { value: 'kept' }) },
  },
  {
    name: 'metrics: not an object, NaN, Infinity, strings',
    warns: /metric|metrics/,
    run: (o, _t, n) => llm(o, n, (s) => { o.annotate(s, { metrics: 'lots' as never }); o.annotate(s, { metrics: { inputTokens: NaN, outputTokens: Infinity, totalTokens: '9' as never, reasoningOutputTokens: 3 } }) }),
    check: (ev) => assert.deepEqual(only(ev).metrics, { reasoning_output_tokens: 3 }),
  },
  {
    name: 'tags: an array, null values, object values',
    warns: /tags must be an object/,
    run: (o, _t, n) => task(o, n, (s) => { o.annotate(s, { tags: ['a', 'b'] as never }); o.annotate(s, { tags: { team: 'ml', none: null, obj: { x: 1 }, num: 7 } }) }),
    check: (ev) => {
      const tags = only(ev).tags as string[]
      assert.ok(tags.includes('team:ml') && tags.includes('num:7') && tags.includes('obj:{"x":1}'), tags.join(','))
      assert.ok(!tags.some((t) => t.startsWith('none:') || t.startsWith('0:')))
    },
  },
  {
    name: 'toolDefinitions that is not an array',
    warns: /toolDefinitions must be an array/,
    run: (o, _t, n) => llm(o, n, (s) => o.annotate(s, { toolDefinitions: { name: 'search' } as never, outputData: 'ok' })),
    check: (ev) => { assert.equal(only(ev).meta.tool_definitions, undefined); assert.deepEqual(outputOf(only(ev)).messages, [{ role: '', content: 'ok' }]) },
  },
  {
    name: 'llm messages of every wrong shape, good ones kept',
    warns: /message must be a string or \{ role, content \}/,
    run: (o, _t, n) => llm(o, n, (s) => o.annotate(s, { inputData: [{ role: 'user', content: 'good' }, 42, null, { role: 7, content: { nested: true } }, 'plain'] })),
    check: (ev) => assert.deepEqual(inputOf(only(ev)).messages, [
      { role: 'user', content: 'good' }, { role: '', content: '42' }, { role: '', content: 'null' }, { role: '', content: '{"nested":true}' }, { role: '', content: 'plain' },
    ]),
  },
  {
    name: 'tool calls and tool results of wrong shapes',
    warns: /tool call must be an object/,
    run: (o, _t, n) => llm(o, n, (s) => o.annotate(s, { outputData: [{ role: 'assistant', content: '', toolCalls: [3, { name: 'lookup', arguments: { q: 1n } }], toolResults: 'oops' }] })),
    check: (ev) => {
      const m = outputOf(only(ev)).messages[0]
      assert.deepEqual(m.tool_calls, [{ name: 'lookup', arguments: { q: '1' } }])
      assert.deepEqual(m.tool_results, [], 'a string is not a tool result: dropped with the warning')
    },
  },
  {
    name: 'documents of wrong shapes (retrieval output)',
    warns: /document must be a string/,
    run: (o, _t, n) => o.trace({ kind: 'retrieval', name: n }, (s) => o.annotate(s, { outputData: [{ text: 'doc', score: NaN, id: 5 }, 7 as never, 'bare'] })),
    check: (ev) => assert.deepEqual(outputOf(only(ev)).documents, [{ text: 'doc', id: '5' }, { text: '7' }, { text: 'bare' }]),
  },
  // values JSON cannot carry
  {
    name: 'a circular structure as input',
    warns: /replaced by a description/,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { inputData: circular() })),
    check: (ev) => assert.deepEqual(JSON.parse(inputOf(only(ev)).value), { a: 1, keep: 'me', self: '[circular]' }),
  },
  {
    name: 'a circular structure in metadata',
    warns: /replaced by a description/,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { metadata: { loop: circular(), ok: true } })),
    check: (ev) => assert.deepEqual(only(ev).meta.metadata, { loop: { a: 1, keep: 'me', self: '[circular]' }, ok: true }),
  },
  {
    name: 'BigInt values (exact decimal strings)',
    warns: false,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { inputData: 2n ** 70n, metadata: { big: 12345678901234567890n } })),
    check: (ev) => { assert.equal(inputOf(only(ev)).value, '1180591620717411303424'); assert.deepEqual(only(ev).meta.metadata, { big: '12345678901234567890' }) },
  },
  {
    name: 'symbols (values and keys)',
    warns: /replaced by a description/,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { metadata: { sym: Symbol('s'), [Symbol('k')]: 'hidden', ok: 1 } })),
    check: (ev) => assert.deepEqual(only(ev).meta.metadata, { sym: 'Symbol(s)', ok: 1 }),
  },
  {
    name: 'functions and classes',
    warns: /replaced by a description/,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { inputData: function search () {}, metadata: { cls: class Foo {}, arrow: () => 1 } })),
    check: (ev) => {
      assert.equal(inputOf(only(ev)).value, '[function search]')
      assert.deepEqual(only(ev).meta.metadata, { cls: '[function Foo]', arrow: '[function arrow]' })
    },
  },
  {
    name: 'Map, Set and Date (converted faithfully)',
    warns: false,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { metadata: { m: new Map<unknown, unknown>([['a', 1], [2, new Set(['x', 'y'])]]), when: new Date(Date.UTC(2024, 0, 2)) } })),
    check: (ev) => assert.deepEqual(only(ev).meta.metadata, { m: { a: 1, 2: ['x', 'y'] }, when: '2024-01-02T00:00:00.000Z' }),
  },
  {
    name: 'an invalid Date',
    warns: false,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { metadata: { when: new Date(NaN) } })),
    check: (ev) => assert.deepEqual(only(ev).meta.metadata, { when: 'Invalid Date' }),
  },
  {
    name: 'Buffer and typed arrays (described by size)',
    warns: /replaced by a description/,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { inputData: Buffer.from('secret bytes'), metadata: { f: new Float64Array(4), v: new DataView(new ArrayBuffer(3)) } })),
    check: (ev) => {
      assert.equal(inputOf(only(ev)).value, '[Buffer 12 bytes]')
      assert.deepEqual(only(ev).meta.metadata, { f: '[Float64Array 32 bytes]', v: '[DataView 3 bytes]' })
    },
  },
  {
    name: 'NaN, Infinity and -0 in metadata',
    warns: /replaced by a description/,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { metadata: { nan: NaN, inf: Infinity, ninf: -Infinity, zero: -0, list: [1, NaN] } })),
    check: (ev) => assert.deepEqual(only(ev).meta.metadata, { nan: 'NaN', inf: 'Infinity', ninf: '-Infinity', zero: 0, list: [1, 'NaN'] }),
  },
  {
    name: 'getters and toJSON that throw, a hostile Proxy',
    warns: /replaced by a description/,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, {
      metadata: {
        getter: { get boom () { throw new Error('no') }, fine: 1 },
        json: { toJSON () { throw new Error('no') } },
        proxy: new Proxy({}, { ownKeys () { throw new Error('no') } }),
      },
    })),
    check: (ev) => assert.deepEqual(only(ev).meta.metadata, { getter: { boom: '[unreadable]', fine: 1 }, json: '[unserializable]', proxy: '[unserializable]' }),
  },
  {
    name: 'Error objects as values',
    warns: false,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { outputData: new TypeError('bad thing') })),
    check: (ev) => assert.deepEqual(JSON.parse(outputOf(only(ev)).value), { name: 'TypeError', message: 'bad thing' }),
  },
  {
    name: 'lone surrogates and control characters in strings',
    warns: false,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { inputData: 'a\ud800b\u0000c\u001f', metadata: { ['k\udfff']: 'v' } })),
    check: (ev) => assert.ok(typeof inputOf(only(ev)).value === 'string' && inputOf(only(ev)).value.startsWith('a')),
  },
  // sizes and depths
  {
    name: 'megabyte strings: truncated with a marker, the rest kept',
    warns: /cut to \d+ to fit the \d+-byte event size limit/,
    run: (o, _t, n) => llm(o, n, (s) => o.annotate(s, { inputData: [{ role: 'user', content: 'q'.repeat(2 * MB) }], outputData: 'short answer', metadata: { temperature: 0.5 } })),
    check: (ev) => {
      const e = only(ev)
      const content = inputOf(e).messages[0].content as string
      assert.ok(content.length < MB && /…\[truncated \d+ bytes to fit the event size limit\]$/.test(content), content.slice(-80))
      assert.deepEqual(outputOf(e).messages, [{ role: '', content: 'short answer' }])
      assert.deepEqual(e.meta.metadata, { temperature: 0.5 })
      if (e.collection_errors !== undefined) assert.deepEqual(e.collection_errors, ['truncated_io'])
    },
  },
  {
    name: 'a Map holding a megabyte string: still cut to the event size limit',
    warns: /cut to \d+ to fit the \d+-byte event size limit/,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { inputData: new Map([['text', 'x'.repeat(2 * MB)]]), outputData: 'kept' })),
    check: (ev) => {
      assert.match(inputOf(only(ev)).value, /…\[truncated \d+ bytes to fit the event size limit\]$/)
      assert.deepEqual(outputOf(only(ev)), { value: 'kept' })
    },
  },
  {
    name: 'a 3 MB tag value and a 3 MB metadata key: cut, the event under the limit',
    warns: /cut to \d+ to fit the \d+-byte event size limit/,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { tags: { big: 't'.repeat(3 * MB) }, metadata: { ['k'.repeat(3 * MB)]: 'v' }, inputData: 'kept' })),
    check: (ev) => {
      const e = only(ev)
      assert.match(e.tags.find((t: string) => t.startsWith('big:')), /…\[truncated \d+ bytes to fit the event size limit\]$/)
      assert.match(Object.keys(e.meta.metadata)[0], /…\[truncated \d+ bytes to fit the event size limit\]$/)
      assert.deepEqual(inputOf(e), { value: 'kept' })
      assert.ok(Buffer.byteLength(JSON.stringify(e)) > 900_000, 'kept what fits')
    },
  },
  {
    name: 'deep nesting (20 levels): past 12, kept as JSON text',
    warns: /replaced by a description/,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { metadata: { tree: deep(20) } })),
    check: (ev) => {
      let v: any = only(ev).meta.metadata.tree
      let levels = 0
      while (typeof v === 'object' && v !== null) { v = v.d; levels++ }
      assert.equal(typeof v, 'string')
      assert.ok(levels >= 10 && levels <= 12, `levels ${levels}`)
      assert.match(v as string, /"bottom"/, 'nothing below the cut is lost: it is JSON text')
    },
  },
  {
    name: 'pathological nesting (100,000 levels) does not overflow the stack',
    warns: /replaced by a description/,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { inputData: deepArrays(100_000), metadata: { ok: 1 } })),
    check: (ev) => { assert.equal(typeof inputOf(only(ev)).value, 'string'); assert.deepEqual(only(ev).meta.metadata, { ok: 1 }) },
  },
  {
    name: 'a wide object (50,000 keys)',
    warns: false,
    run: (o, _t, n) => task(o, n, (s) => o.annotate(s, { metadata: Object.fromEntries(Array.from({ length: 50_000 }, (_, i) => [`k${i}`, i])) })),
    check: (ev) => assert.equal(Object.keys(only(ev).meta.metadata).length, 50_000),
  },
  // kinds, options and functions
  {
    name: 'an invalid kind: traced as a plain APM span, fn still runs',
    warns: /invalid kind/,
    events: 0,
    run: (o, _t, n) => { const r = o.trace({ kind: 'chatbot' as never, name: n }, () => 'result'); assert.equal(r, 'result') },
  },
  {
    name: 'hostile kinds (circular, BigInt, throwing toJSON, a Proxy throwing on every trap, 3 MB): fn runs once, value returned',
    warns: /invalid kind/,
    events: 0,
    run: (o, _t, n) => {
      const trapAll = new Proxy({}, new Proxy({}, { get: () => () => { throw new Error('trap') } }))
      let calls = 0
      for (const kind of [circular(), 2n ** 70n, { toJSON () { throw new Error('no') } }, trapAll, 'k'.repeat(3 * MB)]) {
        assert.equal(o.trace({ kind: kind as never, name: n }, () => { calls++; return 'result' }), 'result')
      }
      assert.equal(calls, 5)
    },
  },
  {
    name: 'options null / not an object',
    warns: /invalid kind/,
    events: 0,
    run: (o) => { assert.equal(o.trace(null as never, () => 5), 5); assert.equal(o.trace('llm' as never, () => 6), 6) },
  },
  {
    name: 'trace() without a function',
    warns: /needs a function/,
    events: 0,
    run: (o, _t, n) => { assert.equal(o.trace({ kind: 'llm', name: n }, undefined as never), undefined); assert.equal(o.trace({ kind: 'llm', name: n }, 'fn' as never), undefined) },
  },
  {
    name: 'option values of the wrong types (name, modelName, sessionId, mlApp)',
    warns: false,
    run: (o, _t, n) => o.trace({ kind: 'llm', name: n, modelName: 5 as never, modelProvider: {} as never, sessionId: [] as never, mlApp: null as never }, () => 1),
    check: (ev) => { const e = only(ev); assert.equal(e.meta.model_name, 'custom'); assert.equal(e.meta.model_provider, 'custom'); assert.equal(e.session_id, undefined) },
  },
  {
    name: 'wrap() with null options and a non-function',
    warns: /wrap\(\) needs a function/,
    run: (o, _t, n) => {
      const notFn = o.wrap(null as never, 42 as never)
      assert.equal(notFn as unknown, 42)
      const named = { [n]: (x: number) => x * 2 }[n]
      assert.equal(o.wrap({ kind: 'task' }, named)(21), 42)
    },
    check: (ev) => { assert.deepEqual(inputOf(only(ev)), { value: '21' }); assert.deepEqual(outputOf(only(ev)), { value: '42' }) },
  },
  // lifecycle misuse
  {
    name: 'annotate after finish: ignored, what was annotated before is sent',
    warns: /already finished/,
    run: (o, _t, n) => { let kept: Span | undefined; task(o, n, (s) => { kept = s; o.annotate(s, { inputData: 'before' }) }); o.annotate(kept as Span, { inputData: 'after' }) },
    check: (ev) => assert.deepEqual(inputOf(only(ev)), { value: 'before' }),
  },
  {
    name: 'finish twice: one event, one warning',
    warns: /finished more than once/,
    run: (o, _t, n) => task(o, n, (s) => { o.annotate(s, { outputData: 'once' }); s.finish(); s.finish() }),
    check: (ev) => assert.deepEqual(outputOf(only(ev)), { value: 'once' }),
  },
  {
    name: 'foreign objects passed as spans',
    warns: /first argument is not a span/,
    run: (o, _t, n) => task(o, n, (s) => {
      o.annotate({ spanId: '1', traceId: '2' } as never, { inputData: 'x' })
      o.annotate(Object.create(Span.prototype) as Span, { inputData: 'y' })
      o.annotate(s, { outputData: 'real' })
    }),
    check: (ev) => { assert.deepEqual(outputOf(only(ev)), { value: 'real' }); assert.equal(inputOf(only(ev)), undefined) },
  },
  {
    name: 'a plain APM span passed to annotate and exportSpan',
    warns: /no LLM Observability span|not an LLM Observability span/,
    events: 0,
    run: (o, t) => t.trace('plain', (s) => { o.annotate(s, { inputData: 'x' }); assert.equal(o.exportSpan(s), undefined) }),
  },
  {
    name: 'null and undefined everywhere',
    warns: /./,
    run: (o, _t, n) => {
      o.annotate(null as never, null as never)
      Reflect.apply(o.annotate, o, [])
      assert.equal(o.exportSpan(null as never), undefined)
      o.submitEvaluation(null as never, null as never)
      o.submitEvaluation(undefined, undefined as never)
      o.registerProcessor(null as never)
      assert.equal(o.annotationContext(null as never, () => 3), 3)
      assert.equal(o.annotationContext({}, null as never), undefined)
      return task(o, n, (s) => o.annotate(s, { inputData: null, outputData: undefined, metadata: undefined, metrics: undefined, tags: undefined }))
    },
    check: (ev) => assert.deepEqual(inputOf(only(ev)), { value: 'null' }),
  },
  {
    name: 'submitEvaluation with foreign spans and wrong value types',
    warns: /submitEvaluation/,
    run: (o, _t, n) => task(o, n, (s) => {
      o.submitEvaluation({ spanId: 1, traceId: {} } as never, { label: 'q', metricType: 'score', value: 1 })
      o.submitEvaluation(o.exportSpan(s), { label: 'q', metricType: 'score', value: 'high' as never })
      o.submitEvaluation(o.exportSpan(s), { label: '', metricType: 'bogus' as never, value: 1 })
    }),
  },
  {
    name: 'a processor that throws or returns garbage: the event is kept',
    warns: /internal error in llmobs processor/,
    run: (o, _t, n) => {
      o.registerProcessor(() => { throw new Error('processor bug') })
      o.registerProcessor(() => 42 as never)
      return task(o, n, (s) => o.annotate(s, { outputData: 'survived' }))
    },
    check: (ev) => assert.deepEqual(outputOf(only(ev)), { value: 'survived' }),
  },
  {
    name: 'span tags of every type through the APM API on an LLMObs span',
    warns: /got a symbol|got a function/,
    run: (o, _t, n) => task(o, n, (s) => { s.setTag('sym', Symbol('x') as never); s.setTag('fn', (() => 1) as never); s.addTags(null as never); s.setTag('big', 5n); s.setTag('circ', circular()) }),
  },
  {
    name: 'a thrown non-Error (a string, null) inside the span',
    warns: false,
    run: async (o, _t, n) => {
      await assert.rejects(Promise.resolve(task(o, n, async () => { throw 'plain string' })), (e) => e === 'plain string')
      assert.throws(() => task(o, n + '-sync', () => { throw null }), (e: unknown) => e === null)
    },
    check: (ev) => {
      const e = only(ev)
      assert.equal(e.status, 'error')
      assert.equal(e.meta.error.message, 'plain string')
    },
  },
]

/** Fields every LLMObs event must carry, with their types (DESIGN §3.5). */
function assertWellFormedEvent (e: Wire, where: string): void {
  assert.match(e.trace_id, /^[0-9a-f]{32}$/, where)
  assert.match(e.span_id, /^[0-9]{1,20}$/, where)
  assert.match(e.parent_id, /^([0-9]{1,20}|undefined)$/, where)
  assert.equal(typeof e.name, 'string', where)
  assert.ok(Number.isInteger(e.start_ns) && e.start_ns > 1e18, `${where}: start_ns ${e.start_ns}`)
  assert.ok(Number.isInteger(e.duration) && e.duration >= 0, where)
  assert.ok(e.status === 'ok' || e.status === 'error', where)
  assert.equal(typeof e.meta.span.kind, 'string', where)
  assert.ok(Array.isArray(e.tags) && e.tags.every((t: unknown) => typeof t === 'string'), where)
  for (const v of Object.values(e.metrics)) assert.ok(typeof v === 'number' && Number.isFinite(v), where)
  assert.ok(Buffer.byteLength(JSON.stringify(e)) <= 1_047_552 + 64, `${where}: event within the size limit`)
}

/** The meta_struct `_llmobs` document, in the event's shape for the checks. */
function fromMetaStruct (span: Wire): Wire {
  const doc = decodeMsgpack(span.meta_struct._llmobs as Uint8Array) as Wire
  assert.equal(typeof doc.tags, 'object')
  for (const v of Object.values(doc.tags)) assert.equal(typeof v, 'string')
  return {
    ...doc,
    span_id: String(span.span_id),
    start_ns: Number(span.start),
    duration: Number(span.duration),
    status: span.error === 1 ? 'error' : 'ok',
    tags: Object.entries(doc.tags as Record<string, string>).map(([k, v]) => `${k}:${v}`),
    metrics: Object.fromEntries(Object.entries(doc.metrics ?? {}).map(([k, v]) => [k, Number(v)])),
  }
}

async function runCase (c: Case, index: number, path: 'evp' | 'meta_struct'): Promise<void> {
  const n = `case-${index}`
  const lines: string[] = []
  log.resetWarnings()
  log.configure({ sink: (_level, message) => lines.push(message) })
  const r = await rig({ samplingRules: [{ sample_rate: path === 'evp' ? 0 : 1 }] })
  try {
    for (let run = 0; run < 2; run++) {
      try {
        await c.run(r.llmobs, r.tracer, n)
      } catch (err) {
        assert.fail(`${c.name}: threw into the caller: ${String(err)}`)
      }
    }
    await r.llmobs.flush()
    const where = `${c.name} [${path}]`
    const events = path === 'evp'
      ? evpEvents(r.sink)
      : v04Chunks(r.sink).flat().filter((s) => s.meta_struct?._llmobs !== undefined).map(fromMetaStruct)
    for (const e of events) assertWellFormedEvent(e, where)
    const mine = events.filter((e) => e.name === n)
    assert.equal(mine.length, 2 * (c.events ?? 1), `${where}: events named ${n}`)
    c.check?.(mine, n)
    const s = r.llmobs.stats()
    assert.equal(s.pending, 0, `${where}: ${JSON.stringify(s)}`)
    assert.deepEqual(s.dropped, {}, where)
    const seen = new Set<string>()
    for (const l of lines) {
      assert.ok(l.length <= 512, `${where}: a warning of ${l.length} characters: ${l.slice(0, 200)}`)
      assert.ok(!seen.has(l), `${where}: warned twice: ${l}`)
      seen.add(l)
    }
    assert.deepEqual([...log.internalErrors.keys()].filter((k) => !k.startsWith('llmobs processor')), [], `${where}: internal errors`)
    if (c.warns === false) assert.deepEqual(lines, [], `${where}: warned though nothing was lost`)
    else {
      const pattern = c.warns
      assert.ok(lines.some((l) => pattern.test(l)), `${where}: expected a warning ${String(c.warns)}, got ${JSON.stringify(lines)}`)
    }
  } finally {
    log.configure({ sink: () => {} })
    await r.close()
  }
}

test(`bad input: at least 30 cases (${CASES.length})`, () => {
  assert.ok(CASES.length >= 30)
})

for (const path of ['evp', 'meta_struct'] as const) {
  CASES.forEach((c, i) => {
    test(`bad input [${path}]: ${c.name}`, () => runCase(c, i, path))
  })
}
