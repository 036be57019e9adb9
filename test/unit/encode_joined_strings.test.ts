import { test } from 'node:test'
import assert from 'node:assert/strict'
import { newEncodeStats } from '../../src/encode/encode_stats.js'
import { JOINED_MIN_UNITS, rememberJoined, takeJoined } from '../../src/encode/joined_strings.js'
import { encodeMetaStructValue } from '../../src/encode/meta_struct.js'
import { MsgpackWriter } from '../../src/encode/msgpack_writer.js'
import { cutString } from '../../src/llmobs/cut_string.js'
import { decodeMsgpack } from '../helpers/sink.js'

// A cut prompt is written to msgpack as its kept part and its marker, never joined first; the
// bytes must be exactly those of the joined string.

function encoded (value: unknown): Buffer {
  const w = new MsgpackWriter()
  encodeMetaStructValue(value, w, newEncodeStats())
  return w.toBuffer()
}

test('a cut string encodes part by part to the same bytes as the joined string, once; then the plain path', () => {
  const prose = 'The "quick" brown fox\n'.repeat(200_000)
  for (const s of [prose, 'é'.repeat(300_000), '🚀'.repeat(200_000) + 'x', 'a\ud800'.repeat(100_000)]) {
    const cut = cutString(s, 1_000_000)
    const plain = encoded({ content: cut + '' })
    const viaParts = encoded({ content: cut })
    // Lone surrogates become U+FFFD on both paths (valid UTF-8): same text as the plain path.
    assert.deepEqual(decodeMsgpack(viaParts), decodeMsgpack(plain))
    if (!/[\ud800-\udfff]/.test(s.replace(/[\ud800-\udbff][\udc00-\udfff]/g, ''))) assert.deepEqual(decodeMsgpack(viaParts), { content: cut })
    assert.ok(viaParts.equals(plain), 'same bytes')
    assert.equal(takeJoined(cut), undefined, 'forgotten once written')
    assert.ok(encoded({ content: cut }).equals(plain), 'a second encoding takes the plain path')
  }
})

test('parts with a length that is not theirs fall back to the plain path; header sizes at every boundary', () => {
  for (const n of [0, 31, 32, 255, 256, 65_535, 65_536]) {
    const head = 'h'.repeat(Math.max(0, n - 3))
    const tail = '…'.slice(0, n >= 3 ? 1 : 0)
    const joined = head + tail
    for (const claimed of [Buffer.byteLength(joined), Buffer.byteLength(joined) + 1]) {
      const w = new MsgpackWriter()
      w.writeStringParts(head, tail, claimed)
      const r = new MsgpackWriter()
      r.writeString(joined)
      assert.ok(w.toBuffer().equals(r.toBuffer()), `${n} bytes claimed as ${claimed}`)
    }
  }
})

test('only long joins are remembered, and only a few: memory stays bounded', () => {
  const short = 'x'.repeat(JOINED_MIN_UNITS - 1)
  rememberJoined({ text: short, head: short, tail: '', utf8Bytes: short.length })
  assert.equal(takeJoined(short), undefined)
  const longs = Array.from({ length: 6 }, (_, i) => String(i).repeat(JOINED_MIN_UNITS))
  for (const s of longs) rememberJoined({ text: s, head: s, tail: '', utf8Bytes: s.length })
  assert.deepEqual(longs.map((s) => takeJoined(s) !== undefined), [false, false, true, true, true, true])
})
