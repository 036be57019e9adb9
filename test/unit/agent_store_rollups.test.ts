import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Store, newBatch, type NewSpan } from '../../src/agent/store.js'
import { queryApi } from '../../src/agent/query_api.js'
import { type EventSpec, llmEvent } from '../helpers/llm_events.js'

const T0 = 1_760_000_000_000

function newSpan (s: EventSpec): NewSpan {
  const ev = llmEvent(s)
  return {
    traceId: s.trace, spanId: s.span, parentId: s.parent ?? null, name: s.name ?? 'op', kind: s.kind ?? 'llm', mlApp: s.mlApp ?? null,
    status: ev.status as string, startNs: ev.start_ns as string, duration: ev.duration as number, path: 'evp', event: JSON.stringify(ev),
  }
}

function commit (store: Store, ...specs: EventSpec[]): void {
  const b = newBatch()
  b.spans.push(...specs.map(newSpan))
  store.commit(b)
}

/** The trace row (computed in JS from the trace's spans) across writes that arrive in pieces. */
test('trace rows: root arriving late wins, tokens and cost from model calls only, sets sorted, recomputed on every write', () => {
  const store = new Store(':memory:')
  try {
    const api = queryApi(store)
    // Children first: no root yet, so the row's root is the earliest span and its duration the extent.
    commit(store,
      { trace: 'r', span: 'b', parent: 'z', name: 'answer', kind: 'llm', startMs: T0 + 20, durationMs: 30, model: 'gpt-4o-mini', metrics: { input_tokens: 1000, output_tokens: 100 }, mlApp: 'zeta' },
      { trace: 'r', span: 'c', parent: 'z', name: 'plan', kind: 'llm', startMs: T0 + 5, durationMs: 10, model: 'mystery-model', metrics: { input_tokens: 7 }, status: 'error', error: { message: 'boom', type: 'E' }, mlApp: 'alpha' })
    let row = api.traces.one('r')
    assert.deepEqual([row?.root_span_id, row?.root_name, row?.span_count, row?.error_count, row?.duration], ['c', 'plan', 2, 1, 45_000_000])
    assert.equal(row?.ml_app, 'alpha', "the (provisional) root's")
    assert.deepEqual(row?.models, ['gpt-4o-mini', 'mystery-model'])
    assert.equal(row?.cost_usd, null, 'one model has no price')
    assert.equal(row?.cost_complete, false)
    assert.equal(row?.usage_source, 'provider')
    // The root arrives last (and its span id sorts last, so it is not the first row read), carrying its children's tokens again (a workflow may): not counted twice.
    commit(store, { trace: 'r', span: 'z', name: 'chat', kind: 'workflow', startMs: T0 + 10, durationMs: 100, metrics: { input_tokens: 1007, output_tokens: 100 }, session: 'sess', mlApp: 'mid' })
    row = api.traces.one('r')
    assert.deepEqual([row?.root_span_id, row?.root_name, row?.span_count, row?.duration, row?.start_ns], ['z', 'chat', 3, 100_000_000, String(BigInt(T0 + 5) * 1_000_000n)])
    assert.deepEqual([row?.input_tokens, row?.output_tokens, row?.total_tokens], [1007, 100, 1107])
    assert.deepEqual([row?.ml_app, row?.session_id], ['mid', 'sess'])
    assert.deepEqual(row?.kinds, ['llm', 'workflow'])
    assert.equal(api.sessions.one('sess')?.trace_count, 1)
    // Without the unpriced call the cost is complete: gpt-4o-mini only.
    const other = newBatch()
    other.spans.push(newSpan({ trace: 'p', span: '1', kind: 'llm', startMs: T0, model: 'gpt-4o-mini', metrics: { input_tokens: 1_000_000 } }))
    store.commit(other)
    const p = api.traces.one('p')
    assert.equal(p?.cost_complete, true)
    assert.ok(typeof p?.cost_usd === 'number' && p.cost_usd > 0)
  } finally {
    store.close()
  }
})
