import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Unpackr } from 'msgpackr'
import { newEncodeStats } from '../../src/encode/encode_stats.js'
import { MsgpackWriter } from '../../src/encode/msgpack_writer.js'
import { encodeChunkV04 } from '../../src/encode/v04.js'
import { ZERO_ID, type SpanData } from '../../src/model/span_data.js'

const unpackr = new Unpackr({ mapsAsObjects: true, int64AsType: 'bigint' })

function span (traceId: string, meta: Record<string, string>): SpanData {
  return {
    traceId: traceId.slice(16), spanId: '00000000000000aa', parentId: ZERO_ID, name: 'n', service: 's', resource: 'r', type: '',
    startSec: 1_700_000_000, startNsec: 5, duration: 7, error: 0, meta, metrics: {}, metaStruct: undefined,
  }
}

// otel.trace_id bypasses the encoded-string cache (one value per trace): the bytes must still be
// the plain string, for every span in a writer where other repeated strings are cached.
test('v0.4: otel.trace_id values are written in full, span after span, next to cached strings', () => {
  const w = new MsgpackWriter()
  const stats = newEncodeStats()
  const ids: string[] = []
  for (let i = 0; i < 50; i++) {
    const id = (0x10000000 + i).toString(16).padStart(32, 'ab')
    ids.push(id)
    // 32 chars like the id, but another key: that one stays cached and must be right too.
    assert.equal(encodeChunkV04([span(id, { 'otel.trace_id': id, 'repeated.key.over.16': 'x'.repeat(32), 'runtime-id': 'r'.repeat(36) })], w, stats), 'ok')
  }
  const chunks = unpackr.unpackMultiple(w.toBuffer()) as Array<Array<{ meta: Record<string, string> }>>
  assert.equal(chunks.length, 50)
  chunks.forEach((c, i) => {
    assert.deepEqual(c[0].meta, { 'otel.trace_id': ids[i], 'repeated.key.over.16': 'x'.repeat(32), 'runtime-id': 'r'.repeat(36) })
  })
  assert.equal(stats.fieldsRepaired, 0)
})
