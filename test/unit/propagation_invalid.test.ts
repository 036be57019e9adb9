import { beforeEach, test } from 'node:test'
import assert from 'node:assert/strict'
import { log } from '../../src/diag/logger.js'
import { extract, newPropagationStats } from '../../src/trace/propagation/propagator.js'
import { createIdSource, randomId64 } from '../../src/model/ids.js'

/**
 * Contexts the Datadog Agent would drop (issue defect 4): the Agent reads the low 64 bits of a
 * trace id and discards a chunk whose trace id is 0 while answering 200, so such a context must
 * be refused at extraction (a new trace starts), counted, and warned about once.
 */
const warnings: string[] = []
log.configure({ sink: (level, message) => { if (level === 'warn') warnings.push(message) } })
beforeEach(() => { warnings.length = 0; log.resetWarnings() })

const ZERO = '0000000000000000'
const SID = '00f067aa0ba902b7'
const LOW_ZERO = `00-0000000000000001${ZERO}-${SID}-01`
const ALL_ZERO = `00-${ZERO}${ZERO}-${SID}-01`

test('a traceparent whose low 64 bits are zero gives no context, is counted and warned about once', () => {
  const stats = newPropagationStats()
  assert.equal(extract({ traceparent: LOW_ZERO, tracestate: 'dd=s:2;p:0000000000000001' }, { stats }), undefined)
  assert.deepEqual(stats, { extracted: 0, invalid: 1 })
  assert.equal(extract({ traceparent: `00-ffffffffffffffff${ZERO}-${SID}-00` }, { stats }), undefined)
  assert.deepEqual(stats, { extracted: 0, invalid: 2 })
  assert.equal(warnings.length, 1, warnings.join('\n'))
  assert.match(warnings[0], /traceparent .*low 64 bits are zero/)
  assert.match(warnings[0], /propagationStats/)
})

test('an all-zero traceparent gives no context and is counted', () => {
  const stats = newPropagationStats()
  assert.equal(extract({ traceparent: ALL_ZERO }, { stats }), undefined)
  assert.equal(extract({ traceparent: `00-4bf92f3577b34da6a3ce929d0e0e4736-${ZERO}-01` }, { stats }), undefined)
  assert.deepEqual(stats, { extracted: 0, invalid: 2 })
})

test('valid contexts are unchanged and counted as extracted, not invalid', () => {
  const stats = newPropagationStats()
  // High half zero, low half not: a 64-bit trace, fine for the Agent.
  assert.deepEqual(extract({ traceparent: `00-${ZERO}0000000000000001-${SID}-01` }, { stats }), {
    traceIdHigh: ZERO, traceIdLow: '0000000000000001', parentId: SID, samplingPriority: 1, tags: {},
  })
  assert.deepEqual(extract({ 'x-datadog-trace-id': '1', 'x-datadog-parent-id': '0' }, { stats }), {
    traceIdHigh: ZERO, traceIdLow: '0000000000000001', parentId: ZERO, tags: {},
  })
  assert.equal(extract({ 'x-datadog-trace-id': '18446744073709551615', 'x-datadog-parent-id': '1' }, { stats })?.traceIdLow, 'ffffffffffffffff')
  assert.equal(extract({}, { stats }), undefined)
  assert.deepEqual(stats, { extracted: 3, invalid: 0 })
  assert.deepEqual(warnings, [])
})

test('Datadog headers: trace id 0, not decimal, over 2^64-1, and a missing or bad parent id are counted', () => {
  const stats = newPropagationStats()
  const bad: Array<Record<string, string>> = [
    { 'x-datadog-trace-id': '0', 'x-datadog-parent-id': '1' },
    { 'x-datadog-trace-id': '00000', 'x-datadog-parent-id': '1' },
    { 'x-datadog-trace-id': '0x10', 'x-datadog-parent-id': '1' },
    { 'x-datadog-trace-id': '18446744073709551616', 'x-datadog-parent-id': '1' },
    { 'x-datadog-trace-id': '1' },
    { 'x-datadog-trace-id': '1', 'x-datadog-parent-id': '-1' },
  ]
  for (const carrier of bad) assert.equal(extract(carrier, { stats }), undefined, JSON.stringify(carrier))
  assert.deepEqual(stats, { extracted: 0, invalid: bad.length })
  assert.equal(warnings.length, 1)
  assert.match(warnings[0], /x-datadog-trace-id "0" is zero/)
})

test('Datadog + W3C: an invalid Datadog context falls back to a valid traceparent, an invalid traceparent leaves Datadog alone', () => {
  const stats = newPropagationStats()
  const w3cWins = extract({ 'x-datadog-trace-id': '0', 'x-datadog-parent-id': '1', traceparent: `00-${ZERO}0000000000000005-${SID}-01` }, { stats })
  assert.equal(w3cWins?.traceIdLow, '0000000000000005')
  assert.deepEqual(stats, { extracted: 1, invalid: 1 })
  const ddWins = extract({ 'x-datadog-trace-id': '7', 'x-datadog-parent-id': '8', traceparent: LOW_ZERO, tracestate: 'other=1' }, { stats })
  assert.deepEqual(ddWins, { traceIdHigh: ZERO, traceIdLow: '0000000000000007', parentId: '0000000000000008', tags: {} })
  assert.deepEqual(stats, { extracted: 2, invalid: 2 })
  // Both invalid: nothing, each style counted.
  assert.equal(extract({ 'x-datadog-trace-id': '0', 'x-datadog-parent-id': '1', traceparent: ALL_ZERO }, { stats }), undefined)
  assert.deepEqual(stats, { extracted: 2, invalid: 4 })
})

test('tracestate p:0000000000000000 names no span: no _dd.parent_id, the context kept', () => {
  const stats = newPropagationStats()
  const ctx = extract({ traceparent: `00-${ZERO}0000000000000003-${SID}-01`, tracestate: `dd=s:2;p:${ZERO}` }, { stats })
  assert.equal(ctx?.traceIdLow, '0000000000000003')
  assert.equal(ctx?.w3cParentId, undefined)
  assert.equal(ctx?.samplingPriority, 2)
  // Datadog parent 0 with a W3C hop in between: the W3C parent is ours, no last Datadog span.
  const hop = extract({ 'x-datadog-trace-id': '3', 'x-datadog-parent-id': '0', traceparent: `00-${ZERO}0000000000000003-${SID}-01` }, { stats })
  assert.equal(hop?.parentId, SID)
  assert.equal(hop?.w3cParentId, undefined)
  assert.deepEqual(stats, { extracted: 2, invalid: 0 })
})

test('the warning about a huge invalid header is short', () => {
  const huge = '0'.repeat(3 * 1024 * 1024)
  assert.equal(extract({ 'x-datadog-trace-id': huge, 'x-datadog-parent-id': '1' }), undefined)
  assert.equal(extract({ traceparent: 'x'.repeat(3 * 1024 * 1024) }), undefined)
  assert.equal(warnings.length, 1)
  assert.ok(warnings[0].length < 300, `${warnings[0].length} characters`)
})

test('id generation skips zero draws: a source that yields zeros still never returns 0', () => {
  let fills = 0
  // First pool: all zeros but the last id; then a pool of zeros again; then ones.
  const next = createIdSource((buf) => {
    fills++
    buf.fill(0)
    if (fills === 1) buf[buf.length - 1] = 7
    if (fills >= 3) buf.fill(0x11)
  })
  assert.equal(next(), '0000000000000007')
  assert.equal(next(), '1111111111111111')
  assert.equal(fills, 3)
  for (let i = 0; i < 2000; i++) assert.notEqual(randomId64(), ZERO)
})
