import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AppendBatch } from '../../src/spool/append_batch.js'
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

test('codec: an append batch (one turn) decodes entry by entry, kinds and UTF-8 intact; releases after it settle its entries', () => {
  const batch = new AppendBatch()
  let bytes = 0
  bytes += batch.add(7, 'span', '{"span_id":"7","text":"héllo wörld 日本"}')
  bytes += batch.add(8, 'eval', '{"label":"q"}')
  const undone = batch.add(9, 'span', '{"span_id":"9"}')
  batch.undoLast()
  bytes += batch.add(10, 'span', '{"span_id":"10"}')
  const sealed = Buffer.from(batch.seal()!)
  assert.equal(batch.seal(), undefined, 'sealing empties the batch')
  const d = decodeSegment(Buffer.concat([sealed, encodeRelease([8])]))
  assert.equal(d.damage, 'none')
  assert.deepEqual(d.unsettled, [
    { seq: 7, kind: 'span', json: '{"span_id":"7","text":"héllo wörld 日本"}' },
    { seq: 10, kind: 'span', json: '{"span_id":"10"}' },
  ])
  assert.ok(undone > 0)
  assert.equal(bytes, sealed.length, 'the bytes each add reports sum to the record (the spool\'s budget counts them)')
})

test('codec: a batch torn at any byte loses that whole turn, never a part of it, and nothing before it', () => {
  const first = encodeAppend(1, 'span', '{"s":1}')
  const batch = new AppendBatch()
  batch.add(2, 'span', '{"s":2}')
  batch.add(3, 'eval', '{"e":3}')
  const buf = Buffer.concat([first, batch.seal()!])
  for (let cut = first.length; cut < buf.length; cut++) {
    const d = decodeSegment(buf.subarray(0, cut))
    assert.equal(d.goodBytes, first.length, `cut at ${cut}`)
    assert.deepEqual(d.unsettled.map((u) => u.seq), [1], `cut at ${cut}`)
    assert.equal(d.damage, cut === first.length ? 'none' : 'torn', `cut at ${cut}`)
  }
  assert.deepEqual(decodeSegment(buf).unsettled.map((u) => u.seq), [1, 2, 3])
})
