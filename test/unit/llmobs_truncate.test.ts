import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { log } from '../../src/diag/logger.js'
import { DEFAULTS } from '../../src/config/defaults.js'
import type { LlmobsSpanEvent } from '../../src/llmobs/event.js'
import { bytesOf, ERRORS_SUFFIX, event, MARKER_RE, type Wire } from '../helpers/truncation_fixtures.js'
import { cutString, jsonBytes, marker } from '../../src/llmobs/cut_string.js'
import { jsonSize, truncateToFit } from '../../src/llmobs/truncate.js'
import { stateMayExceed } from '../../src/llmobs/size_gate.js'
import { getState } from '../../src/llmobs/span_state.js'
import type { Span } from '../../src/trace/span.js'
import { closeRigs, rig } from '../helpers/llmobs_setup.js'
import { decodeMsgpack, evpEvents, v04Chunks } from '../helpers/sink.js'

after(closeRigs)
log.configure({ sink: () => {} })

const LIMIT = DEFAULTS.llmobs.eventSizeLimit
const MB = 1024 * 1024

const identity = (e: Wire): unknown[] => [e.start_ns, e.trace_id, e.span_id, e.parent_id, e.duration, e.status, e._dd, e.meta?.span]

/** The cut string's kept prefix and the byte count its marker carries. */
function cutParts (s: string): { kept: string, removed: number } {
  const m = MARKER_RE.exec(s)
  assert.ok(m !== null, `no marker at the end of ${JSON.stringify(s.slice(-80))}`)
  return { kept: s.slice(0, m.index), removed: Number(m[1]) }
}

test('one oversized string keeps exactly what fits: the event lands on the budget to the byte', () => {
  const text = 'x'.repeat(3_000_000)
  const e = event({ input: { value: text }, output: { value: 'small answer' } })
  assert.equal(truncateToFit(e, LIMIT), 'truncated')
  const value = (e.meta.input as { value: string }).value
  const { kept, removed } = cutParts(value)
  assert.equal(kept, 'x'.repeat(kept.length))
  assert.equal(removed, 3_000_000 - kept.length)
  assert.equal(value, kept + `…[truncated ${removed} bytes to fit the event size limit]`)
  // The marker's number has as many digits as its bound, so the water level is met exactly.
  assert.equal(bytesOf(e), LIMIT - 64 + ERRORS_SUFFIX)
  assert.deepEqual(e.meta.output, { value: 'small answer' })
  assert.deepEqual(e.collection_errors, ['truncated_io'])
  assert.equal(Object.keys(e)[0], 'start_ns', 'start_ns stays first (the serialiser relies on it)')
})

test('5 MB each of input, output and metadata: all three keep an equal share, the event is as full as it can be', () => {
  const big = 5 * MB
  const e = event({
    input: { messages: [{ role: 'user', content: 'i'.repeat(big) }, { role: 'system', content: 'be brief' }] },
    output: { messages: [{ role: 'assistant', content: 'o'.repeat(big) }] },
    metadata: { prompt: 'm'.repeat(big), temperature: 0.5 },
  })
  assert.equal(truncateToFit(e, LIMIT), 'truncated')
  const parts = [(e.meta.input as any).messages[0].content, (e.meta.output as any).messages[0].content, (e.meta.metadata as any).prompt].map(cutParts)
  const share = parts[0].kept.length
  assert.ok(share > 340_000, `each keeps ${share}`)
  for (const p of parts) {
    assert.equal(p.kept.length, share, 'equal shares')
    assert.equal(p.removed, big - share)
  }
  assert.deepEqual((e.meta.input as any).messages[1], { role: 'system', content: 'be brief' }, 'small fields whole')
  assert.equal((e.meta.metadata as any).temperature, 0.5)
  const size = bytesOf(e)
  assert.ok(size <= LIMIT && size > LIMIT - 200, `${size} bytes`)
})

test('a fair share: fields under the water level stay whole, only the ones above it share the rest', () => {
  const e = event({ input: { value: 'a'.repeat(300_000) }, output: { value: 'b'.repeat(2 * MB) }, metadata: { c: 'c'.repeat(2 * MB) } })
  assert.equal(truncateToFit(e, LIMIT), 'truncated')
  assert.equal((e.meta.input as any).value, 'a'.repeat(300_000), 'a 300 KB field fits under the level: untouched')
  const b = cutParts((e.meta.output as any).value)
  const c = cutParts((e.meta.metadata as any).c)
  assert.equal(b.kept.length, c.kept.length)
  assert.ok(b.kept.length > 300_000, `the two big ones share what is left: ${b.kept.length}`)
  assert.ok(bytesOf(e) <= LIMIT)
})

// Every place a user string reaches the event: a 2 MB string there must be cut, with a marker.
const TWO_MB = 'z'.repeat(2 * MB)
const PLACES: Array<{ where: string, build: () => LlmobsSpanEvent, read: (e: Wire) => string }> = [
  { where: 'tag value', build: () => event({}, { tags: ['big:' + TWO_MB, 'ml_app:app'] }), read: (e) => e.tags[0].slice('big:'.length) },
  { where: 'tag key', build: () => event({}, { tags: [TWO_MB + ':v', 'ml_app:app'] }), read: (e) => e.tags[0].slice(0, e.tags[0].indexOf(':')) },
  { where: 'name', build: () => event({}, { name: TWO_MB }), read: (e) => e.name },
  { where: 'session_id', build: () => event({}, { session_id: TWO_MB }), read: (e) => e.session_id },
  { where: 'model_name', build: () => event({ model_name: TWO_MB }), read: (e) => e.meta.model_name },
  { where: 'model_provider', build: () => event({ model_provider: TWO_MB }), read: (e) => e.meta.model_provider },
  { where: 'error message', build: () => event({ error: { message: TWO_MB, type: 'Error' } }), read: (e) => e.meta.error.message },
  { where: 'error stack', build: () => event({ error: { message: 'm', type: 'Error', stack: TWO_MB } }), read: (e) => e.meta.error.stack },
  { where: 'metadata value, nested', build: () => event({ metadata: { a: [{ b: { c: TWO_MB } }] } }), read: (e) => e.meta.metadata.a[0].b.c },
  { where: 'metadata key', build: () => event({ metadata: { [TWO_MB]: 1 } }), read: (e) => Object.keys(e.meta.metadata)[0] },
  { where: 'tool definition', build: () => event({ tool_definitions: [{ name: 'f', description: TWO_MB }] }), read: (e) => e.meta.tool_definitions[0].description },
  { where: 'tool call arguments', build: () => event({ output: { messages: [{ role: 'assistant', content: '', tool_calls: [{ name: 'f', arguments: { q: TWO_MB } }] }] } }), read: (e) => e.meta.output.messages[0].tool_calls[0].arguments.q },
  { where: 'tool call name', build: () => event({ output: { messages: [{ role: 'assistant', content: '', tool_calls: [{ name: TWO_MB, arguments: {} }] }] } }), read: (e) => e.meta.output.messages[0].tool_calls[0].name },
  { where: 'tool result', build: () => event({ input: { messages: [{ role: 'tool', content: '', tool_results: [{ result: TWO_MB }] }] } }), read: (e) => e.meta.input.messages[0].tool_results[0].result },
  { where: 'document text', build: () => event({ output: { documents: [{ text: TWO_MB, name: 'd' }] } }), read: (e) => e.meta.output.documents[0].text },
  { where: 'message role', build: () => event({ input: { messages: [{ role: TWO_MB, content: 'c' }] } }), read: (e) => e.meta.input.messages[0].role },
  { where: 'a field a processor added', build: () => event({}, { extra: { deep: [TWO_MB] } }), read: (e) => e.extra.deep[0] },
]

for (const p of PLACES) {
  test(`every string counts: a 2 MB ${p.where} is cut to fit, identity untouched`, () => {
    const e = p.build()
    const before = identity(e)
    assert.equal(truncateToFit(e, LIMIT), 'truncated')
    const { kept, removed } = cutParts(p.read(e))
    assert.equal(kept, 'z'.repeat(kept.length))
    assert.equal(removed, 2 * MB - kept.length)
    assert.ok(kept.length > 1_000_000, `kept ${kept.length}`)
    const size = bytesOf(e)
    assert.ok(size <= LIMIT, `${size} bytes`)
    assert.deepEqual(identity(e), before)
    assert.ok(e.tags.includes('ml_app:app'))
  })
}

test('UTF-8: the marker counts bytes removed, surrogate pairs are never split, JSON escapes are counted', () => {
  const shapes = ['🚀'.repeat(600_000), 'é'.repeat(1_000_000), '日本'.repeat(400_000), '"\\\n'.repeat(400_000), '\u0001'.repeat(300_000), 'a\ud800'.repeat(300_000)]
  for (const s of shapes) {
    const e = event({ input: { value: s } })
    assert.equal(truncateToFit(e, LIMIT), 'truncated')
    const { kept, removed } = cutParts((e.meta.input as any).value)
    assert.ok(s.startsWith(kept))
    assert.equal(Buffer.byteLength(kept) + removed, Buffer.byteLength(s), 'n = UTF-8 bytes removed')
    assert.ok(!/[\ud800-\udbff]$/.test(kept) || s.charCodeAt(kept.length) < 0xdc00 || s.charCodeAt(kept.length) > 0xdfff, 'no half pair at the cut')
    const size = bytesOf(e)
    assert.ok(size <= LIMIT && size > LIMIT - 200, `${JSON.stringify(s.slice(0, 4))}: ${size} bytes`)
  }
})

test('cutString and jsonBytes agree with JSON.stringify', () => {
  for (const s of ['', 'plain', 'q"uo\\te', 'ctl\u0000\u001f\n\t', '🚀x', 'lone\ud800', '\udc00lone', 'é日']) {
    assert.equal(jsonBytes(s), Buffer.byteLength(JSON.stringify(s)) - 2, JSON.stringify(s))
    for (let cap = 0; cap <= jsonBytes(s); cap++) {
      const cut = cutString(s, cap)
      const { kept, removed } = cutParts(cut)
      assert.ok(jsonBytes(kept) <= cap)
      assert.equal(Buffer.byteLength(kept) + removed, Buffer.byteLength(s))
    }
  }
  // Quotes and backslashes without control characters take the counted fast path: random mixes
  // of them with multi-byte text must still give JSON.stringify's length.
  const alphabet = ['a', '"', '\\', 'é', '日', '🚀', ' ', '\'"\'']
  for (let i = 0; i < 300; i++) {
    let s = ''
    for (let j = 0; j < 1 + (i % 40); j++) s += alphabet[Math.floor(Math.random() * alphabet.length)]
    assert.equal(jsonBytes(s), Buffer.byteLength(JSON.stringify(s)) - 2, JSON.stringify(s))
  }
  assert.equal(cutString('🚀🚀', 5), '🚀' + marker(4), 'a pair is taken whole or not at all')
  assert.equal(cutString('🚀🚀', 3), marker(8))
})

test('an event that fits is left exactly as it was', () => {
  const e = event({ input: { value: 'y'.repeat(900_000) }, metadata: { k: 'v' } })
  const copy = structuredClone(e)
  assert.equal(truncateToFit(e, LIMIT), 'fits')
  assert.deepEqual(e, copy)
})

test('truncation copies on write: objects a processor shares with user code are not edited', () => {
  const shared = { text: 'w'.repeat(2 * MB), list: ['w'.repeat(2 * MB)] }
  const e = event({ metadata: { shared } })
  assert.equal(truncateToFit(e, LIMIT), 'truncated')
  assert.equal(shared.text.length, 2 * MB)
  assert.equal(shared.list[0].length, 2 * MB)
  assert.match((e.meta.metadata as any).shared.text, MARKER_RE)
})

test('structure past strings: numbers only, huge arrays, huge key counts, thousands of tags all end under the limit', () => {
  const keys: Record<string, number> = {}
  for (let i = 0; i < 150_000; i++) keys['key-' + i] = i
  const tags = ['ml_app:app', 'service:svc']
  for (let i = 0; i < 120_000; i++) tags.push(`user.tag.${i}:value-${i}`)
  const smallInput = { messages: [{ role: 'user', content: 'hello' }, { role: 'user', content: 'again' }] }
  const shapes: Array<[string, LlmobsSpanEvent, (e: Wire) => void]> = [
    ['2M numbers', event({ input: smallInput, metadata: { nums: Array.from({ length: 2_000_000 }, (_, i) => i * 1.5) } }), (e) => {
      assert.deepEqual(e.meta.input, smallInput, 'short arrays are under the level: whole')
      assert.ok(e.meta.metadata.nums.length > 50_000 && e.meta.metadata.nums.length < 2_000_000)
      assert.deepEqual(e.meta.metadata.nums.slice(0, 3), [0, 1.5, 3], 'a prefix is kept')
    }],
    ['150k metadata keys', event({ metadata: keys }), (e) => assert.ok(Object.keys(e.meta.metadata).length > 10_000)],
    ['120k tags', event({}, { tags }), (e) => {
      assert.ok(e.tags.includes('ml_app:app') && e.tags.includes('service:svc'), 'reserved tags are never dropped')
      assert.ok(e.tags.length > 10_000 && e.tags.length < tags.length)
    }],
    ['300k tiny strings', event({ metadata: { list: Array.from({ length: 300_000 }, (_, i) => 's' + i) } }), (e) => assert.ok(e.meta.metadata.list.length > 50_000)],
    ['100k messages', event({ input: { messages: Array.from({ length: 100_000 }, () => ({ role: 'user', content: 'c'.repeat(200) })) } }), (e) => {
      const kept = e.meta.input.messages
      assert.ok(kept.length > 1000)
      assert.deepEqual(kept[0], { role: 'user', content: 'c'.repeat(200) }, 'kept messages keep their shape and content')
    }],
  ]
  for (const [name, e, check] of shapes) {
    const before = identity(e)
    assert.equal(truncateToFit(e, LIMIT), 'truncated', name)
    const size = bytesOf(e)
    assert.ok(size <= LIMIT, `${name}: ${size}`)
    assert.deepEqual(identity(e), before, name)
    assert.deepEqual(e.collection_errors, ['truncated_io'], name)
    check(e as Wire)
  }
})

test('the last resort keeps the identity, name and reserved tags when even empty containers do not fit', () => {
  const meta: Record<string, unknown> = { span: { kind: 'llm' } }
  for (let i = 0; i < 100_000; i++) meta['field' + i] = i // meta's own keys are not trimmed like inner containers
  const e = event({}, { meta, tags: ['ml_app:app', 'user:x'] })
  const before = identity(e)
  assert.equal(truncateToFit(e, LIMIT), 'truncated')
  assert.ok(bytesOf(e) <= LIMIT)
  assert.deepEqual(identity(e), before)
  assert.deepEqual(e.meta, { span: { kind: 'llm' } })
  assert.deepEqual(e.tags, ['ml_app:app'])
  assert.equal(e.name, 'chat')
})

test('the guarantee rests on serialising the result: a toJSON that grows between reads still ends under the limit', () => {
  let reads = 0
  // Each serialisation writes 300 KB more than the last: what was measured is not what gets written.
  const sneaky = { toJSON: () => 'j'.repeat(300_000 * ++reads) }
  const e = event({ input: { value: 'x'.repeat(2 * MB) }, metadata: { sneaky } })
  const before = identity(e)
  assert.equal(truncateToFit(e, LIMIT), 'truncated')
  assert.ok(bytesOf(e) <= LIMIT, `${bytesOf(e)} bytes`)
  assert.deepEqual(identity(e), before)
})

test('identity fields are never cut: an event whose ids alone are too big is refused, not mangled', () => {
  const e = event({}, { span_id: '9'.repeat(2 * MB) })
  assert.equal(truncateToFit(e, LIMIT), 'too_large')
  assert.equal(e.span_id.length, 2 * MB)
})

/** Seeded, so a failing shape can be replayed. */
function prng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296 }
}

const ALPHABETS = ['abc', 'é日🚀', '"\\\n\u0001', 'a\ud800\udc00b', 'x\udfffy']

/** Random shapes with bounded totals: strings (keys and tags included) and nodes. */
class Shapes {
  strings = 0
  nodes = 0
  constructor (readonly rnd: () => number) {}

  reset (): void { this.strings = 6 * MB; this.nodes = 120_000 }

  string (maxLen: number): string {
    const rnd = this.rnd
    const len = Math.min(this.strings, Math.floor(rnd() ** 3 * maxLen))
    this.strings -= len
    const alphabet = ALPHABETS[Math.floor(rnd() * ALPHABETS.length)]
    const unit = alphabet.repeat(Math.ceil(64 / alphabet.length)).slice(0, 64)
    return unit.repeat(Math.ceil(len / 64)).slice(0, len)
  }

  value (depth: number): unknown {
    const rnd = this.rnd
    const r = rnd()
    if (--this.nodes <= 0) return depth
    if (depth > 30 || r < 0.3) return this.string(rnd() < 0.1 ? 3 * MB : 2000)
    if (r < 0.4) return [null, true, false, -0, 1e21, Math.floor(rnd() * 1e9), rnd()][Math.floor(rnd() * 7)]
    if (r < 0.45) {
      const n = Math.max(0, Math.min(this.nodes, Math.floor(rnd() * 60_000)))
      this.nodes -= n
      return Array.from({ length: n }, (_, i) => (rnd() < 0.5 ? i : 'e' + i))
    }
    const n = Math.floor(rnd() * (rnd() < 0.05 ? 20_000 : 6))
    if (r < 0.7) return Array.from({ length: n }, () => this.value(depth + 1))
    const o: Record<string, unknown> = {}
    for (let i = 0; i < n; i++) o[rnd() < 0.02 ? this.string(MB) : `k${i}`] = this.value(depth + 1)
    return o
  }

  event (): LlmobsSpanEvent {
    const rnd = this.rnd
    this.reset()
    const tags = ['ml_app:app']
    const tagCount = rnd() < 0.1 ? 50_000 : 5
    for (let i = 0; i < tagCount; i++) tags.push(`${rnd() < 0.01 ? this.string(MB) : 't' + i}:${this.string(rnd() < 0.02 ? 2 * MB : 40)}`)
    const meta: Record<string, unknown> = {}
    if (rnd() < 0.8) meta.input = { messages: [{ role: 'user', content: this.string(4 * MB), tool_calls: [{ name: 'f', arguments: this.value(0) }] }] }
    if (rnd() < 0.8) meta.output = { value: this.string(4 * MB) }
    if (rnd() < 0.8) meta.metadata = { m: this.value(0), n: this.value(0) }
    if (rnd() < 0.3) meta.tool_definitions = [this.value(0), this.value(0)]
    if (rnd() < 0.2) meta.error = { message: this.string(MB), type: 'Error', stack: this.string(MB) }
    return event(meta, { tags, name: this.string(rnd() < 0.1 ? MB : 20) || 'n', session_id: this.string(100) })
  }
}

const SHAPES = 50

test('property: random shapes always end under the limit, identity intact, cut strings marked', () => {
  const shapes = new Shapes(prng(20240611))
  let truncated = 0
  for (let i = 0; i < SHAPES; i++) {
    const e = shapes.event()
    const before = identity(e)
    const size = bytesOf(e)
    assert.equal(jsonSize(e as unknown as Record<string, unknown>), size, `shape ${i}: the walk measures what JSON.stringify writes`)
    const copy = size <= LIMIT ? JSON.stringify(e) : undefined
    const outcome = truncateToFit(e, LIMIT)
    const after = bytesOf(e)
    assert.ok(after <= LIMIT, `shape ${i}: ${after} bytes`)
    assert.deepEqual(identity(e), before, `shape ${i}: identity`)
    if (size <= LIMIT) {
      assert.equal(outcome, 'fits', `shape ${i}`)
      assert.equal(JSON.stringify(e), copy, `shape ${i}: untouched`)
    } else {
      truncated++
      assert.equal(outcome, 'truncated', `shape ${i}`)
      assert.ok(e.collection_errors?.includes('truncated_io'), `shape ${i}`)
      assert.ok(e.tags.includes('ml_app:app'), `shape ${i}: ml_app kept`)
    }
  }
  assert.ok(truncated >= SHAPES / 3, `${truncated} of ${SHAPES} shapes needed cutting`)
})

test('through the SDK, on both wire paths: a 3 MB tag, a 3 MB metadata key and a 3 MB error are cut; one warning, with counts only', async () => {
  for (const rate of [0, 1]) {
    const lines: string[] = []
    log.resetWarnings()
    log.configure({ sink: (_l, m) => lines.push(m) })
    const r = await rig({ samplingRules: [{ sample_rate: rate }] })
    const secret = 'S3CRET-'
    await r.llmobs.trace({ kind: 'llm', name: 'big-tag' }, (span) => r.llmobs.annotate(span, { tags: { big: secret + 't'.repeat(3_000_000) }, inputData: 'q', outputData: 'a' }))
    await r.llmobs.trace({ kind: 'task', name: 'big-key' }, (span) => r.llmobs.annotate(span, { metadata: { [secret + 'k'.repeat(3_000_000)]: 'v' } }))
    await r.llmobs.annotationContext({ tags: { ctx: 'c'.repeat(3_000_000) } }, () => r.llmobs.trace({ kind: 'task', name: 'ctx-tag' }, () => {}))
    try {
      await r.llmobs.trace({ kind: 'task', name: 'big-error' }, () => { throw new Error('e'.repeat(3_000_000)) })
    } catch { /* expected: the span records it */ }
    await r.llmobs.flush()
    await r.tracer.flush()
    const events: Wire[] = rate === 0
      ? evpEvents(r.sink) as Wire[]
      : v04Chunks(r.sink).flat().filter((s: Wire) => s.meta_struct?._llmobs !== undefined).map((s: Wire) => {
        const doc = decodeMsgpack(s.meta_struct._llmobs) as Wire
        return { ...doc, tags: Object.entries(doc.tags).map(([k, v]) => `${k}:${String(v)}`) }
      })
    const byName = (n: string): Wire => { const e = events.find((x) => x.name === n); assert.ok(e !== undefined, `${n} [rate ${rate}]`); return e }
    for (const n of ['big-tag', 'big-key', 'ctx-tag', 'big-error']) {
      const e = byName(n)
      assert.ok(bytesOf(e) <= LIMIT, `${n} [rate ${rate}]: ${bytesOf(e)} bytes`)
      assert.ok(bytesOf(e) > 900_000, `${n} [rate ${rate}]: kept what fits`)
      assert.deepEqual(e.collection_errors, ['truncated_io'])
      assert.ok(e.tags.includes('ml_app:rig-app'))
    }
    assert.match(byName('big-tag').tags.find((t: string) => t.startsWith('big:')), MARKER_RE)
    assert.deepEqual(byName('big-tag').meta.input, { messages: [{ role: '', content: 'q' }] })
    assert.match(Object.keys(byName('big-key').meta.metadata)[0], MARKER_RE)
    assert.equal(Object.values(byName('big-key').meta.metadata)[0], 'v')
    assert.match(byName('ctx-tag').tags.find((t: string) => t.startsWith('ctx:')), MARKER_RE)
    assert.match(byName('big-error').meta.error.message, MARKER_RE)
    assert.equal(r.llmobs.stats().truncated, 4)
    assert.deepEqual(r.llmobs.stats().dropped, {})
    const warned = lines.filter((l) => /event size limit/.test(l))
    assert.equal(warned.length, 1, JSON.stringify(warned))
    assert.match(warned[0], /\d+ string\(s\) cut/)
    assert.ok(!lines.some((l) => l.includes(secret)), 'warnings carry counts, never user values')
    log.configure({ sink: () => {} })
    await r.close()
  }
})

test('the finish gate: a small span skips measuring; whatever users can make big is counted', async () => {
  const r = await rig()
  const ctx = { service: 'svc', env: 'test', version: undefined }
  const gate = (span: Span): boolean => stateMayExceed(span, getState(span)!, ctx, LIMIT)
  const cases: Array<[string, (span: Span) => void, boolean]> = [
    ['a small span', (s) => r.llmobs.annotate(s, { inputData: 'q', outputData: 'a', tags: { k: 'v' }, metadata: { t: 1 } }), false],
    ['a 200 KB tag', (s) => r.llmobs.annotate(s, { tags: { k: 'v'.repeat(200_000) } }), true],
    ['a 200 KB metadata key', (s) => r.llmobs.annotate(s, { metadata: { ['k'.repeat(200_000)]: 1 } }), true],
    ['30k metrics', (s) => r.llmobs.annotate(s, { metrics: Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`m${i}`, i])) }), true],
    ['a 200 KB model name set directly (integrations do)', (s) => { getState(s)!.modelName = 'm'.repeat(200_000) }, true],
    ['a 200 KB error message', (s) => { s.meta['error.message'] = 'e'.repeat(200_000); s.error = 1 }, true],
  ]
  for (const [name, fn, expected] of cases) {
    r.llmobs.trace({ kind: 'llm', name: 'gate' }, (span) => { fn(span); assert.equal(gate(span), expected, name) })
  }
  r.llmobs.trace({ kind: 'task', name: 'n'.repeat(200_000) }, (span) => assert.equal(gate(span), true, 'a 200 KB name'))
  r.llmobs.trace({ kind: 'task', name: 't', sessionId: 's'.repeat(200_000) }, (span) => assert.equal(gate(span), true, 'a 200 KB session id'))
  r.llmobs.annotationContext({ tags: { c: 'c'.repeat(200_000) } }, () => r.llmobs.trace({ kind: 'task', name: 't' }, (span) => assert.equal(gate(span), true, 'annotationContext tags')))
  await r.close()
})

test('through the SDK: an event a processor made unfit (a 2 MB span_id) is dropped as encoding_error, not sent over the limit', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 0 }] })
  r.llmobs.registerProcessor((e) => e.name === 'unfit' ? { ...e, span_id: '7'.repeat(2 * MB) } : e)
  r.llmobs.trace({ kind: 'task', name: 'unfit' }, () => {})
  r.llmobs.trace({ kind: 'task', name: 'fine' }, () => {})
  await r.llmobs.flush()
  assert.deepEqual((evpEvents(r.sink) as Wire[]).map((e) => e.name), ['fine'])
  const s = r.llmobs.stats()
  assert.deepEqual([s.created, s.delivered, s.pending, s.dropped.encoding_error], [2, 1, 0, 1])
  await r.close()
})
