import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { log } from '../../src/diag/logger.js'
import type { Span } from '../../src/trace/span.js'
import { closeRigs, rig, type Rig } from '../helpers/llmobs_setup.js'
import { v04Chunks } from '../helpers/sink.js'

after(closeRigs)

/**
 * Hostile input (issue defect 6): values whose every use throws — Proxies that throw on every
 * trap, getters that throw, circular structures, BigInt, a throwing toJSON, 3 MB strings — handed
 * to every API that takes user options, tags or spans. For each case, run twice in a fresh rig:
 * nothing throws into the caller; the user's function runs exactly once per call and its value
 * (or its own error) comes back unchanged; a case that loses something warns, no warning is
 * given twice and every warning is short; the trace still finishes: its spans reach the sink.
 */
const MB = 1024 * 1024
const MAX_WARNING = 512

const trapAll = (): object => new Proxy({}, new Proxy({}, { get: () => () => { throw new Error('trap') } }))
const OPTION_KEYS = ['kind', 'name', 'modelName', 'modelProvider', 'sessionId', 'mlApp', 'resource', 'type', 'service', 'tags', 'childOf', 'startTime', 'inputData', 'outputData', 'metadata', 'metrics', 'toolDefinitions']
const getters = (): object => {
  const o = {}
  for (const k of OPTION_KEYS) Object.defineProperty(o, k, { enumerable: true, get () { throw new Error(`getter ${k}`) } })
  return o
}
const circular = (): object => { const o: Record<string, unknown> = { a: 1 }; o.self = o; return o }
const badJson = (): object => ({ toJSON () { throw new Error('toJSON') }, toString () { throw new Error('toString') } })
const big = 12345678901234567890n
const huge = (): string => 'k'.repeat(3 * MB)

const HOSTILE: Array<[string, () => unknown]> = [
  ['a circular object', circular],
  ['a BigInt', () => big],
  ['an object whose toJSON and toString throw', badJson],
  ['a Proxy that throws on every trap', trapAll],
  ['an object whose getters all throw', getters],
  ['a 3 MB string', huge],
]

/** A function named `n` that counts its calls and returns a token (checked by identity). */
function counted (n: string): { fn: (...args: unknown[]) => unknown, token: object, calls: () => number } {
  const token = { token: n }
  let calls = 0
  const fn = { [n]: (..._args: unknown[]) => { calls++; return token } }[n]
  return { fn, token, calls: () => calls }
}

function expectOnce (c: ReturnType<typeof counted>, out: unknown): void {
  assert.equal(c.calls(), 1, 'fn ran exactly once')
  assert.equal(out, c.token, "fn's value came back unchanged")
}

/** A Proxy around a real span whose get trap throws (instanceof still says Span). */
const spanProxy = (s: Span): Span => new Proxy(s, { get () { throw new Error('span trap') } })

interface Case {
  name: string
  /** A warning the case must give once; false: nothing was lost, so no warning. */
  warns: RegExp | false
  run: (r: Rig, n: string) => unknown
  /** Spans named `n` that must reach the sink per run (default 1). */
  spans?: number
  /** Checks the spans named `n` that reached the sink. */
  check?: (spans: Wire[]) => void
}
type Wire = Record<string, any>

const CASES: Case[] = []

for (const [what, make] of HOSTILE) {
  CASES.push({
    name: `llmobs.trace({ kind: ${what} })`,
    warns: /invalid kind/,
    run: (r, n) => { const c = counted(n); expectOnce(c, r.llmobs.trace({ kind: make() as never, name: n }, c.fn)) },
  })
  CASES.push({
    name: `llmobs.wrap({ kind: ${what} })`,
    warns: /invalid kind/,
    run: (r, n) => { const c = counted(n); expectOnce(c, r.llmobs.wrap({ kind: make() as never, name: n }, c.fn)(1, 2)) },
  })
  CASES.push({
    name: `span.setTag("k", ${what}) and span.addTags({ k: ${what} })`,
    warns: what === 'a BigInt' || what === 'a 3 MB string' ? false : /could not be serialised/,
    check: (spans) => {
      for (const s of spans) {
        assert.equal(s.metrics.ok, 1, 'the good tag next to the bad one is kept')
        const want = what === 'a BigInt' ? '12345678901234567890' : what === 'a 3 MB string' ? huge() : '[unserializable]'
        assert.ok(s.meta.k === want && s.meta.k2 === want, `${String(s.meta.k).slice(0, 40)}`)
      }
    },
    run: (r, n) => {
      const c = counted(n)
      expectOnce(c, r.tracer.trace(n, (s) => { s.setTag('k', make() as never); s.addTags({ k2: make() as never, ok: 1 }); return c.fn() }))
    },
  })
}

for (const [what, make] of [['a Proxy that throws on every trap', trapAll], ['an object whose getters all throw', getters]] as const) {
  CASES.push(
    {
      name: `llmobs.trace(${what})`,
      warns: /llmobs\.trace\(\) options: kind could not be read/,
      run: (r, n) => { const c = counted(n); expectOnce(c, r.llmobs.trace(make() as never, c.fn)) },
    },
    {
      name: `llmobs.wrap(${what})`,
      warns: /llmobs\.wrap\(\) options: kind could not be read/,
      run: (r, n) => { const c = counted(n); expectOnce(c, r.llmobs.wrap(make() as never, c.fn)('x')) },
    },
    {
      name: `llmobs.annotationContext(${what})`,
      warns: /annotationContext\(\): name could not be read/,
      run: (r, n) => {
        const c = counted(n)
        expectOnce(c, r.llmobs.annotationContext(make() as never, () => r.llmobs.trace({ kind: 'task', name: n }, c.fn)))
      },
    },
    {
      name: `llmobs.annotationContext({ tags: ${what} })`,
      warns: /annotationContext\(\).* could not be read/,
      run: (r, n) => {
        const c = counted(n)
        expectOnce(c, r.llmobs.annotationContext({ tags: make() as never }, () => r.llmobs.trace({ kind: 'task', name: n }, c.fn)))
      },
    },
    {
      name: `tracer.trace(name, ${what}, fn)`,
      warns: /span option resource could not be read/,
      run: (r, n) => { const c = counted(n); expectOnce(c, r.tracer.trace(n, make() as never, c.fn)) },
    },
    {
      name: `tracer.startSpan(name, ${what})`,
      warns: /span option resource could not be read/,
      run: (r, n) => { r.tracer.startSpan(n, make() as never).finish() },
    },
    {
      name: `tracer.startSpan(name, { tags: ${what} }) inside a trace: the trace still closes`,
      warns: /tracer\.startSpan\(\): (the tags object|tag "kind") could not be read/,
      spans: 2,
      check: (spans) => {
        assert.equal(spans[0].trace_id, spans[1].trace_id, 'one trace: the child joined it')
        assert.equal(spans[2].trace_id, spans[3].trace_id)
      },
      run: (r, n) => {
        const c = counted(n)
        expectOnce(c, r.tracer.trace(n, () => { r.tracer.startSpan(n, { tags: make() as never }).finish(); return c.fn() }))
      },
    },
    {
      name: `span.addTags(${what})`,
      warns: /span\.addTags\(\): (the tags object|tag "kind") could not be read/,
      run: (r, n) => { const c = counted(n); expectOnce(c, r.tracer.trace(n, (s) => { s.addTags(make() as never); return c.fn() })) },
    },
    {
      name: `llmobs.annotate(span, ${what})`,
      warns: /llmobs\.annotate\(\): inputData could not be read/,
      run: (r, n) => { const c = counted(n); expectOnce(c, r.llmobs.trace({ kind: 'task', name: n }, (s) => { r.llmobs.annotate(s, make() as never); return c.fn() })) },
    },
  )
}

CASES.push(
  {
    name: 'llmobs.annotate(Proxy) with no span argument',
    warns: /llmobs\.annotate\(\): inputData could not be read/,
    run: (r, n) => { const c = counted(n); expectOnce(c, r.llmobs.trace({ kind: 'task', name: n }, () => { r.llmobs.annotate(trapAll() as never); return c.fn() })) },
  },
  {
    name: 'llmobs.annotationContext({ tags: { circular, BigInt, bad toJSON, Proxy } })',
    // The 3 MB tag is kept (cut to fit the event size limit, which warns): nothing else is said.
    warns: /was cut to \d+ to fit the 1047552-byte event size limit/,
    run: (r, n) => {
      const c = counted(n)
      const tags = { c: circular(), big, j: badJson(), p: trapAll(), s: huge() }
      expectOnce(c, r.llmobs.annotationContext({ tags }, () => r.llmobs.trace({ kind: 'task', name: n }, c.fn)))
    },
  },
  {
    name: 'llmobs.annotationContext({ name: BigInt })',
    warns: /annotationContext\(\): name must be a string, got 12345678901234567890n/,
    run: (r, n) => { const c = counted(n); expectOnce(c, r.llmobs.annotationContext({ name: big as never }, () => r.llmobs.trace({ kind: 'task', name: n }, c.fn))) },
  },
  {
    name: 'llmobs.exportSpan(Proxy that throws on every trap)',
    warns: /exportSpan\(\): not an LLM Observability span/,
    run: (r, n) => { const c = counted(n); expectOnce(c, r.llmobs.trace({ kind: 'task', name: n }, () => { assert.equal(r.llmobs.exportSpan(trapAll() as never), undefined); return c.fn() })) },
  },
  {
    name: 'llmobs.exportSpan(Proxy around a real span whose get trap throws)',
    warns: /exportSpan\(\): the span could not be read/,
    run: (r, n) => { const c = counted(n); expectOnce(c, r.llmobs.trace({ kind: 'task', name: n }, (s) => { assert.equal(r.llmobs.exportSpan(spanProxy(s)), undefined); return c.fn() })) },
  },
  {
    name: 'tracer.trace with childOf a Proxy (throwing traps, and around a real span)',
    warns: /childOf must be a span or a span context/,
    spans: 2,
    run: (r, n) => {
      const c = counted(n)
      r.tracer.trace(n, { childOf: trapAll() as never }, () => {})
      const parent = r.tracer.startSpan('parent-' + n)
      expectOnce(c, r.tracer.trace(n, { childOf: spanProxy(parent) }, c.fn))
      parent.finish()
    },
  },
  {
    name: 'span options of the wrong type: service BigInt, resource circular, startTime Proxy',
    warns: /span option resource must be a string, got <ref \*1> \{ a: 1, self: \[Circular \*1\] \}/,
    run: (r, n) => { const c = counted(n); expectOnce(c, r.tracer.trace(n, { service: big as never, resource: circular() as never, startTime: trapAll() as never }, c.fn)) },
  },
  {
    name: 'span options that are not an object (a 3 MB string)',
    warns: /span options must be an object, got "kkk/,
    run: (r, n) => { const c = counted(n); expectOnce(c, r.tracer.trace(n, huge() as never, c.fn)) },
  },
  {
    name: 'a 3 MB span name finished twice: the warning is short',
    warns: /finished more than once/,
    spans: 0,
    run: (r) => { const s = r.tracer.startSpan(huge()); s.finish(); s.finish() },
  },
  {
    name: 'span.setTag("error", Proxy)',
    warns: /span\.setTag\("error"\) could not use its value/,
    run: (r, n) => { const c = counted(n); expectOnce(c, r.tracer.trace(n, (s) => { s.setTag('error', trapAll() as never); return c.fn() })) },
  },
  {
    name: 'fn throws a Proxy that throws on every trap: the same object reaches the caller',
    warns: false,
    run: (r, n) => {
      const thrown = trapAll()
      let calls = 0
      assert.throws(() => r.tracer.trace(n, () => { calls++; throw thrown }), (e: unknown) => e === thrown)
      assert.throws(() => r.llmobs.trace({ kind: 'task', name: n }, () => { calls++; throw thrown }), (e: unknown) => e === thrown)
      assert.equal(calls, 2)
    },
    spans: 2,
    check: (spans) => { for (const s of spans) { assert.equal(s.error, 1); assert.equal(s.meta['error.type'], 'object') } },
  },
  {
    name: 'fn throws an Error whose message and name getters throw',
    warns: false,
    run: async (r, n) => {
      const err = new Error('x')
      Object.defineProperty(err, 'message', { get () { throw new Error('no message') } })
      Object.defineProperty(err, 'name', { get () { throw new Error('no name') } })
      assert.throws(() => r.tracer.trace(n, () => { throw err }), (e: unknown) => e === err)
      await assert.rejects(r.llmobs.trace({ kind: 'task', name: n }, async () => { throw err }), (e: unknown) => e === err)
    },
    spans: 2,
    check: (spans) => { for (const s of spans) { assert.equal(s.error, 1); assert.match(s.meta['error.message'], /unreadable/) } },
  },
  {
    name: 'fn returns an object whose then getter throws: returned unchanged',
    warns: false,
    run: (r, n) => {
      const value = { get then () { throw new Error('then') } }
      assert.equal(r.tracer.trace(n, () => value), value)
      assert.equal(r.llmobs.trace({ kind: 'workflow', name: n }, () => value), value)
    },
    spans: 2,
  },
  {
    name: 'a thenable whose then() throws: returned unchanged, span finished',
    warns: false,
    run: (r, n) => {
      const value = { then () { throw new Error('then call') } }
      assert.equal(r.tracer.trace(n, () => value), value)
    },
  },
  {
    name: 'llmobs.wrap of a task that returns a Proxy (the output is described, the value returned)',
    warns: /replaced by a description/,
    run: (r, n) => {
      const value = trapAll()
      const named = { [n]: () => value }[n]
      assert.equal(r.llmobs.wrap({ kind: 'task' }, named)(), value)
    },
  },
  {
    name: 'llmobs.trace with fn a function Proxy whose get trap throws (fn.name)',
    warns: false,
    run: (r, n) => {
      let calls = 0
      const fn = new Proxy(() => { calls++; return 7 }, { get () { throw new Error('name trap') } })
      assert.equal(r.llmobs.trace({ kind: 'task', name: n }, fn), 7)
      assert.equal(r.llmobs.wrap({ kind: 'tool', name: n }, fn)(), 7)
      // Unnamed: the span is named after fn, whose name cannot be read; the kind stands in.
      assert.equal(r.llmobs.trace({ kind: 'task' }, fn), 7)
      assert.equal(r.llmobs.wrap({ kind: 'tool' }, fn)(), 7)
      assert.equal(calls, 4)
    },
    spans: 2,
  },
)

async function runCase (c: Case, index: number): Promise<void> {
  const n = `hostile-${index}`
  const lines: string[] = []
  log.resetWarnings()
  log.configure({ sink: (_level, message) => lines.push(message) })
  const r = await rig({ samplingRules: [{ sample_rate: 1 }] })
  try {
    for (let run = 0; run < 2; run++) {
      try {
        await c.run(r, n)
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err
        assert.fail(`${c.name}: threw into the caller: ${String(err)}`)
      }
    }
    // Chunks are handed to the writer only when every span of their trace has finished.
    await r.tracer.flush()
    await r.llmobs.flush()
    const spans = v04Chunks(r.sink).flat()
    const mine = spans.filter((s) => s.name === n)
    assert.equal(mine.length, 2 * (c.spans ?? 1), `${c.name}: spans named ${n} reached the sink (got ${spans.map((s) => String(s.name).slice(0, 20)).join(', ')})`)
    for (const s of spans) assert.ok(s.trace_id !== 0n && s.span_id !== 0n, `${c.name}: ids the Agent keeps`)
    c.check?.(mine)
    assert.equal(r.llmobs.stats().pending, 0, c.name)
    const seen = new Set<string>()
    for (const l of lines) {
      assert.ok(l.length <= MAX_WARNING, `${c.name}: a warning of ${l.length} characters: ${l.slice(0, 200)}`)
      assert.ok(!seen.has(l), `${c.name}: warned twice: ${l}`)
      seen.add(l)
    }
    assert.deepEqual([...log.internalErrors.keys()], [], `${c.name}: internal errors (misuse must warn, not count as our bug)`)
    if (c.warns === false) assert.deepEqual(lines, [], `${c.name}: warned though nothing was lost`)
    else {
      const pattern = c.warns
      assert.ok(lines.some((l) => pattern.test(l)), `${c.name}: expected a warning ${String(pattern)}, got ${JSON.stringify(lines)}`)
    }
  } finally {
    log.configure({ sink: () => {} })
    await r.close()
  }
}

test(`hostile input: every API × every hostile value (${CASES.length} cases)`, () => {
  assert.ok(CASES.length >= 50)
})

CASES.forEach((c, i) => {
  test(`hostile input: ${c.name}`, () => runCase(c, i))
})
