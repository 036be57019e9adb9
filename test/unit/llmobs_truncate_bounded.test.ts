import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { log } from '../../src/diag/logger.js'
import { DEFAULTS } from '../../src/config/defaults.js'
import type { LlmobsSpanEvent } from '../../src/llmobs/event.js'
import { bytesOf, ERRORS_SUFFIX, event, MARKER_RE, type Wire } from '../helpers/truncation_fixtures.js'
import { cutString, jsonBytes } from '../../src/llmobs/cut_string.js'
import { truncateToFit } from '../../src/llmobs/truncate.js'
import { closeRigs, rig } from '../helpers/llmobs_setup.js'
import { decodeMsgpack, evpEvents, v04Chunks } from '../helpers/sink.js'

// Truncation whose work is bounded by what is kept: huge strings are cut by their length and
// the prefix they keep, events built by us skip the proving serialisation. Same results as the
// exhaustive path, to the byte.

after(closeRigs)
log.configure({ sink: () => {} })

const LIMIT = DEFAULTS.llmobs.eventSizeLimit
const MB = 1024 * 1024
const SENTENCE = 'The quick brown fox jumps over the lazy dog, "again" and again; numbers 0123456789.\n'
/** Prose as the event-loop benchmark sends it: quotes and a newline per sentence. */
const PROSE = SENTENCE.repeat(Math.ceil(2.5e6 / SENTENCE.length)).slice(0, 2.5e6)


function cutParts (s: string): { kept: string, removed: number } {
  const m = MARKER_RE.exec(s)
  assert.ok(m !== null, `no marker at the end of ${JSON.stringify(s.slice(-80))}`)
  return { kept: s.slice(0, m.index), removed: Number(m[1]) }
}

/** The warning's "cut to N" for one truncation: what the arithmetic claims the event weighs. */
function claimedBytes (fn: () => void): number {
  const lines: string[] = []
  log.resetWarnings()
  log.configure({ sink: (_l, m) => lines.push(m) })
  try { fn() } finally { log.configure({ sink: () => {} }) }
  const m = lines.map((l) => / was cut to (\d+) /.exec(l)).find((x) => x !== null)
  assert.ok(m != null, JSON.stringify(lines))
  return Number(m[1])
}

test('a 2.5 MB prose prompt is cut to the byte: longest prefix that fits, marker counting UTF-8 bytes removed', () => {
  const prompt = 'call 000001: ' + PROSE
  const e = event({ input: { messages: [{ role: 'user', content: prompt }] }, output: { messages: [{ role: 'assistant', content: 'A short answer.' }] } })
  const claimed = claimedBytes(() => assert.equal(truncateToFit(e, LIMIT, true), 'truncated'))
  const { kept, removed } = cutParts((e.meta.input as any).messages[0].content)
  assert.ok(prompt.startsWith(kept))
  assert.equal(removed, Buffer.byteLength(prompt) - Buffer.byteLength(kept))
  assert.equal(bytesOf(e), LIMIT - 64 + ERRORS_SUFFIX, 'on the budget exactly: nothing more would fit')
  assert.equal(claimed, bytesOf(e), 'the arithmetic is the serialised size')
  assert.deepEqual(e.collection_errors, ['truncated_io'])
  assert.deepEqual((e.meta.output as any).messages[0].content, 'A short answer.')
})

// Shapes where lower bounds and exact sizes part: escapes that multiply a string's JSON, a long
// string that stays whole under the level, multi-byte text around the cut, big tags and keys.
const SHAPES: Array<[string, () => LlmobsSpanEvent]> = [
  ['prose', () => event({ input: { value: PROSE } })],
  ['a long escape-heavy string under the level, measured before the level is final', () =>
    event({ input: { value: '\u0001'.repeat(100_000) }, output: { value: 'b'.repeat(2 * MB) } })],
  ['quotes under the level, prose above it', () => event({ input: { value: '"'.repeat(200_000) }, output: { value: PROSE } })],
  ['three big fields share', () => event({ input: { value: PROSE }, output: { value: 'é'.repeat(MB) }, metadata: { m: '日本'.repeat(MB / 2) } })],
  ['emoji after prose', () => event({ input: { value: PROSE.slice(0, 900_000) + '🚀'.repeat(300_000) } })],
  ['prose after emoji', () => event({ input: { value: '🚀'.repeat(200_000) + PROSE } })],
  ['a big tag and a big key', () => event({ metadata: { ['k'.repeat(2 * MB)]: 'v' } }, { tags: ['big:' + PROSE, 'ml_app:app'] })],
  ['lone surrogates and controls', () => event({ input: { value: ('a\ud800\n\u0002"').repeat(400_000) } })],
]

for (const [name, build] of SHAPES) {
  test(`plain events (${name}): the arithmetic gives what serialising proves, under the limit`, () => {
    const plain = build()
    const proven = build()
    const claimed = claimedBytes(() => assert.equal(truncateToFit(plain, LIMIT, true), 'truncated'))
    assert.equal(truncateToFit(proven, LIMIT, false), 'truncated')
    assert.deepEqual(plain, proven, 'same cut either way')
    const size = bytesOf(plain)
    assert.ok(size <= LIMIT, `${size} bytes`)
    assert.ok(size > LIMIT - 200, `${size} bytes: kept what fits`)
    assert.equal(claimed, size)
  })
}

/** A code point's UTF-16 units at `i`: a pair is taken whole. */
const unitsAt = (s: string, i: number): number => {
  const c = s.charCodeAt(i)
  const d = s.charCodeAt(i + 1)
  return c >= 0xd800 && c <= 0xdbff && d >= 0xdc00 && d <= 0xdfff ? 2 : 1
}

test('cutString on long mixed text keeps the longest prefix that fits; jsonBytes agrees with JSON.stringify', () => {
  let seed = 7
  const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff }
  const blocks = [SENTENCE, 'é', '日本', '🚀', '"\\', '\n\t\r\b\f', '\u0001\u001f', '\ud800', '\udc00x', 'plain ascii words ']
  for (let i = 0; i < 60; i++) {
    let s = ''
    const target = 1000 + Math.floor(rnd() * 40_000)
    while (s.length < target) {
      const b = blocks[Math.floor(rnd() * blocks.length)]
      s += b.repeat(1 + Math.floor(rnd() * (rnd() < 0.2 ? 5000 : 20)))
    }
    const json = Buffer.byteLength(JSON.stringify(s)) - 2
    assert.equal(jsonBytes(s), json, `string ${i}`)
    const cap = Math.floor(rnd() * json)
    const { kept, removed } = cutParts(cutString(s, cap))
    assert.ok(s.startsWith(kept), `string ${i}`)
    const k = jsonBytes(kept)
    assert.ok(k <= cap, `string ${i}: ${k} > ${cap}`)
    assert.ok(jsonBytes(s.slice(0, kept.length + unitsAt(s, kept.length))) > cap, `string ${i}: one more code point would still fit under ${cap}`)
    assert.equal(Buffer.byteLength(kept) + removed, Buffer.byteLength(s), `string ${i}: marker counts UTF-8 bytes removed`)
  }
})

test('through the SDK on both wire paths: a 2.5 MB prompt is cut with the marker, counted, delivered once', async () => {
  for (const rate of [1, 0]) {
    const r = await rig({ samplingRules: [{ sample_rate: rate }] })
    const prompt = `call ${rate}: ` + PROSE
    await r.llmobs.trace({ kind: 'llm', name: 'chat', modelName: 'm', modelProvider: 'p' }, async (span) => {
      await new Promise((resolve) => setImmediate(resolve))
      r.llmobs.annotate(span, { inputData: [{ role: 'user', content: prompt }], outputData: [{ role: 'assistant', content: 'A short answer.' }] })
    })
    await r.llmobs.flush()
    await r.tracer.flush()
    const events: Wire[] = rate === 0
      ? evpEvents(r.sink) as Wire[]
      : v04Chunks(r.sink).flat().filter((s: Wire) => s.meta_struct?._llmobs !== undefined).map((s: Wire) => decodeMsgpack(s.meta_struct._llmobs) as Wire)
    assert.equal(events.length, 1, `rate ${rate}: delivered once`)
    const e = events[0]
    const { kept, removed } = cutParts(e.meta.input.messages[0].content)
    assert.ok(prompt.startsWith(kept) && kept.length > 900_000, `rate ${rate}: kept ${kept.length}`)
    assert.equal(removed, Buffer.byteLength(prompt) - Buffer.byteLength(kept))
    assert.deepEqual(e.collection_errors, ['truncated_io'])
    if (rate === 0) assert.ok(bytesOf(e) <= LIMIT && bytesOf(e) > LIMIT - 200, `rate ${rate}: ${bytesOf(e)} bytes`)
    const s = r.llmobs.stats()
    assert.deepEqual([s.created, s.delivered, s.pending, s.truncated], [1, 1, 0, 1], `rate ${rate}`)
    await r.close()
  }
})

test('regions never split a surrogate pair: emoji-dense text cut at many caps keeps the longest prefix that fits', () => {
  for (const s of ['🚀'.repeat(30_000), 'a'.repeat(5001) + '🚀'.repeat(20_000), 'x"🚀'.repeat(12_000), 'é'.repeat(4099) + '🚀'.repeat(9000)]) {
    const json = jsonBytes(s)
    for (let cap = 4000; cap < json; cap += 997) {
      const { kept, removed } = cutParts(cutString(s, cap))
      assert.ok(jsonBytes(kept) <= cap, `cap ${cap}: ${jsonBytes(kept)}`)
      assert.ok(jsonBytes(s.slice(0, kept.length + unitsAt(s, kept.length))) > cap, `cap ${cap}: one more code point would still fit`)
      assert.equal(Buffer.byteLength(kept) + removed, Buffer.byteLength(s))
    }
  }
})

test('jsonBytes on ASCII counts every escape, at every position a word can hold it', () => {
  const escapes = ['"', '\\', '\n', '\t', '\u0000', '\u001f', '\u0007', '\b', '\f', '\r', '\u000b', '!', '#', '[', ']', '~', '\u007f', ' ']
  for (let len = 64; len < 72; len++) {
    for (let at = 0; at < len; at++) {
      for (const ch of escapes) {
        const s = 'a'.repeat(at) + ch + 'b'.repeat(len - at - 1)
        assert.equal(jsonBytes(s), Buffer.byteLength(JSON.stringify(s)) - 2, `${JSON.stringify(ch)} at ${at} of ${len}`)
      }
    }
  }
  const dense = '"\\\n\u0001ab'.repeat(100_000)
  assert.equal(jsonBytes(dense), Buffer.byteLength(JSON.stringify(dense)) - 2)
})
