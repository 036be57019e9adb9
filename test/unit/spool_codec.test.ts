import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeSegment, encodeAppend, encodeRelease } from '../../src/spool/record_codec.js'

function segment (): { buf: Buffer, ends: number[] } {
  const frames = [
    encodeAppend(1, 'span', '{"span_id":"1","text":"héllo"}'),
    encodeAppend(2, 'eval', '{"label":"q"}'),
    encodeRelease([1]),
    encodeAppend(3, 'span', '{"span_id":"3"}'),
  ]
  const ends: number[] = []
  let n = 0
  for (const f of frames) { n += f.length; ends.push(n) }
  return { buf: Buffer.concat(frames), ends }
}

test('codec: appended minus released, in append order, with kinds and UTF-8 intact', () => {
  const { buf } = segment()
  const d = decodeSegment(buf)
  assert.equal(d.damage, 'none')
  assert.equal(d.goodBytes, buf.length)
  assert.deepEqual(d.unsettled, [
    { seq: 2, kind: 'eval', json: '{"label":"q"}' },
    { seq: 3, kind: 'span', json: '{"span_id":"3"}' },
  ])
})

test('codec: a tail torn at any byte is cut at the last complete record, never more', () => {
  const { buf, ends } = segment()
  for (let cut = 0; cut < buf.length; cut++) {
    const d = decodeSegment(buf.subarray(0, cut))
    const good = [0, ...ends].filter((e) => e <= cut).pop()!
    assert.equal(d.goodBytes, good, `cut at ${cut}`)
    assert.equal(d.damage, cut === good ? 'none' : 'torn', `cut at ${cut}`)
    const expectSeqs = good >= ends[3] ? [2, 3] : good >= ends[2] ? [2] : good >= ends[1] ? [1, 2] : good >= ends[0] ? [1] : []
    assert.deepEqual(d.unsettled.map((u) => u.seq), expectSeqs, `cut at ${cut}`)
  }
})

test('codec: a flipped byte in the last record is a torn tail; in an earlier one, corruption that stops the read there', () => {
  const { buf, ends } = segment()
  for (let i = 0; i < buf.length; i++) {
    const bad = Buffer.from(buf)
    bad[i] ^= 0x40
    const d = decodeSegment(bad)
    const hit = ends.findIndex((e) => i < e)
    const start = hit === 0 ? 0 : ends[hit - 1]
    assert.equal(d.goodBytes, start, `flip at ${i}`)
    // A flipped length may make any record look short or long: torn or corrupt, both cut there.
    if (i < start + 8) assert.ok(d.damage === 'corrupt' || d.damage === 'torn', `flip at ${i}: ${d.damage}`)
    else assert.equal(d.damage, hit === ends.length - 1 ? 'torn' : 'corrupt', `flip at ${i}`)
  }
})

test('codec: a zero-filled tail (preallocated blocks after a power loss) is a torn tail', () => {
  const { buf } = segment()
  const d = decodeSegment(Buffer.concat([buf, Buffer.alloc(4096)]))
  assert.equal(d.damage, 'torn')
  assert.equal(d.goodBytes, buf.length)
  assert.equal(d.unsettled.length, 2)
})
