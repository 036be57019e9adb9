import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Store, newBatch, type NewSpan } from '../../src/agent/store.js'
import { deriveColumns } from '../../src/agent/span_derive.js'
import { PriceTable, shippedPrices } from '../../src/agent/prices.js'
import { type EventSpec, llmEvent } from '../helpers/llm_events.js'

const T0 = 1_760_000_000_000

function newSpan (s: EventSpec, patch: Record<string, unknown> = {}): NewSpan {
  const ev = { ...llmEvent(s), ...patch }
  return {
    traceId: s.trace, spanId: s.span, parentId: s.parent ?? null, name: s.name ?? 'op', kind: s.kind ?? 'llm', mlApp: s.mlApp ?? null,
    status: ev.status as string, startNs: ev.start_ns as string, duration: ev.duration as number, path: 'evp', event: JSON.stringify(ev),
  }
}

/** Spans whose trace row is hard to get right: every column of the row depends on one of them. */
function tricky (trace: string): NewSpan[] {
  return [
    newSpan({ trace, span: '9', parent: '1', name: 'answer', kind: 'llm', startMs: T0 + 20, durationMs: 30, model: 'gpt-4o-mini', metrics: { input_tokens: 1000.5, output_tokens: 100 }, mlApp: 'zeta', session: 's-' + trace }),
    newSpan({ trace, span: '10', parent: '1', name: 'plan', kind: 'llm', startMs: T0 + 5, durationMs: 10, model: 'mystery-model', metrics: { input_tokens: 7 }, status: 'error', error: { message: 'boom', type: 'E' }, mlApp: 'alpha' }),
    newSpan({ trace, span: '11', parent: '1', name: 'embed', kind: 'embedding', startMs: T0 + 5, durationMs: 2 ** 40, model: 'text-embedding-3-small', metrics: { input_tokens: 3e6, total_tokens: 3e6 }, mlApp: 'alpha' }),
    newSpan({ trace, span: '12', parent: '1', name: 'claude', kind: 'llm', startMs: T0 + 7, durationMs: 5, model: 'claude-3-5-haiku-20241022', metrics: { input_tokens: 123_457, output_tokens: 98_765, cache_read_input_tokens: 17 }, tags: ['session_id:from-tag'] }),
    newSpan({ trace, span: '1', name: 'chat\u0000nul', kind: 'workflow', startMs: T0 + 5, durationMs: 100, metrics: { input_tokens: 99 } }),
  ]
}

function traceRow (store: Store, trace: string): Record<string, unknown> {
  const row = store.db.prepare('SELECT * FROM llm_traces WHERE trace_id = ?').get(trace) as Record<string, unknown>
  const { seq: _seq, evaluations: _evaluations, ...rest } = row
  return rest
}

function sessionRow (store: Store, session: string): Record<string, unknown> {
  const { seq: _seq, evaluations: _evaluations, ...rest } = store.db.prepare('SELECT * FROM llm_sessions WHERE session_id = ?').get(session) as Record<string, unknown>
  return rest
}

/**
 * A new trace's row is made from the spans the commit itself stored (no read back); a trace
 * that already has a row is recomputed from what SQLite holds. Both must give the same row:
 * an evaluation for the trace forces the second way on the same spans.
 */
test('a new trace row made from the commit\'s own spans equals the one recomputed from the stored spans', () => {
  const store = new Store(':memory:')
  try {
    const b = newBatch()
    b.spans.push(...tricky('t1'))
    store.commit(b)
    const fromMemory = traceRow(store, 't1')
    const session = sessionRow(store, 's-t1')
    assert.equal(fromMemory.span_count, 5)
    assert.equal(fromMemory.root_span_id, '1')
    const e = newBatch()
    e.evaluations.push({ traceId: 't1', spanId: '9', label: 'quality', metricType: 'score', value: '1', mlApp: null, timestampMs: T0, path: 'evp', event: '{}' })
    store.commit(e)
    assert.deepEqual(traceRow(store, 't1'), fromMemory)
    assert.deepEqual(sessionRow(store, 's-t1'), session)
  } finally {
    store.close()
  }
})

/** The same spans in one commit, or one per commit (each later one recomputes from the stored rows): one row. */
test('a trace row is the same whether its spans arrive in one commit or one by one', () => {
  const store = new Store(':memory:')
  try {
    const all = newBatch()
    all.spans.push(...tricky('one'))
    store.commit(all)
    for (const s of tricky('many')) {
      const b = newBatch()
      b.spans.push(s)
      store.commit(b)
    }
    const [a, m] = [traceRow(store, 'one'), traceRow(store, 'many')]
    assert.deepEqual([a.session_id, m.session_id], ['s-one', 's-many'])
    for (const r of [a, m]) { delete r.trace_id; delete r.session_id }
    assert.deepEqual(m, a)
  } finally {
    store.close()
  }
})

/**
 * A lone surrogate is stored as bytes that read back as three U+FFFD: the row of a trace with
 * one must hold what SQLite gives back (two such model names are one model once stored).
 */
test('a trace with text that is not well-formed UTF-16 gets the row its stored spans give', () => {
  const store = new Store(':memory:')
  try {
    const b = newBatch()
    b.spans.push(newSpan({ trace: 'u', span: '1', name: 'root\uD800', kind: 'llm', startMs: T0, model: 'm\uD800', mlApp: 'app\uDC00' }))
    b.spans.push(newSpan({ trace: 'u', span: '2', parent: '1', kind: 'llm', startMs: T0 + 1, model: 'm\uD801' }))
    store.commit(b)
    const row = traceRow(store, 'u')
    const [stored] = store.db.prepare("SELECT name FROM llmobs_spans WHERE trace_id = 'u' AND span_id = '1'").all() as Array<{ name: string }>
    assert.equal(row.root_name, stored.name)
    assert.equal(row.models, '\x1fm\uFFFD\uFFFD\uFFFD\x1f', 'the two names read back alike: one member')
    const e = newBatch()
    e.evaluations.push({ traceId: 'u', spanId: '1', label: 'q', metricType: 'score', value: '1', mlApp: null, timestampMs: T0, path: 'evp', event: '{}' })
    store.commit(e)
    assert.deepEqual(traceRow(store, 'u'), row)
  } finally {
    store.close()
  }
})

/** An intake that hands the store its parsed event (NewSpan.doc) gets the columns parsing the text gives. */
test('derived columns from the parsed event equal those from its JSON text (-0 included)', () => {
  const prices = new PriceTable(shippedPrices())
  const body = '{"name":"x","meta":{"model_name":"gpt-4o-mini","metadata":{"k":-0,"n":[1,"a"]},"input":{"value":"hi"}},' +
    '"metrics":{"input_tokens":-0,"output_tokens":5},"tags":["session_id:s1"]}'
  const doc = JSON.parse(body) as Record<string, unknown>
  const text = JSON.stringify(doc)
  assert.deepEqual(deriveColumns(doc, 'llm', '1', prices), deriveColumns(text, 'llm', '1', prices))
})
