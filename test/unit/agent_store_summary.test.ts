import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Store, newBatch } from '../../src/agent/store.js'
import { queryApi } from '../../src/agent/query_api.js'
import { llmEvent } from '../helpers/llm_events.js'

const T0 = 1_760_000_000_000
const HOUR = 3_600_000

/** The summary's buckets (per-bucket SQL aggregates) and its slowest spans (ties at the top duration in trace order). */
test('summary: traces land in their time bucket; slowest spans by duration, ties by trace id ascending', () => {
  const store = new Store(':memory:')
  try {
    const b = newBatch()
    for (let i = 0; i < 12; i++) {
      const durationMs = i === 3 || i === 8 ? 9 : 7
      const ev = llmEvent({ trace: `t${i}`, span: '1', kind: 'llm', startMs: T0 + i * 20 * 60_000 + 1, durationMs, status: i === 5 ? 'error' : 'ok' })
      b.spans.push({ traceId: `t${i}`, spanId: '1', parentId: null, name: 'op', kind: 'llm', mlApp: 'app', status: ev.status as string, startNs: ev.start_ns as string, duration: ev.duration as number, path: 'evp', event: JSON.stringify(ev) })
    }
    store.commit(b)
    const s = queryApi(store).summary.summary({}, T0, T0 + 4 * HOUR, 4) as { requests: number, errors: number, series: Array<{ requests: number, errors: number, p95_ms: number | null }>, slowest: Array<{ trace_id: string }>, latency_ms: { p50: number | null, p99: number | null } }
    assert.equal(s.requests, 12)
    assert.equal(s.errors, 1)
    assert.deepEqual(s.series.map((x) => x.requests), [3, 3, 3, 3])
    assert.deepEqual(s.series.map((x) => x.errors), [0, 1, 0, 0])
    assert.deepEqual(s.series.map((x) => x.p95_ms), [7, 9, 9, 7])
    assert.deepEqual([s.latency_ms.p50, s.latency_ms.p99], [7, 9])
    assert.deepEqual(s.slowest.map((x) => x.trace_id), ['t3', 't8', 't0', 't1', 't10', 't11', 't2', 't4', 't5', 't6'])
  } finally {
    store.close()
  }
})
