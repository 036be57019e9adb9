import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent } from '../../src/agent/start_agent.js'
import { RETENTION_BATCH } from '../../src/agent/retention.js'
import { getJson } from '../helpers/agent_client.js'
import { categorical, llmEvent, postEvaluations, postEvents } from '../helpers/llm_events.js'

const T0 = 1_760_000_000_000

test('retention: past maxSpans the oldest spans go in batches, with their traces, evaluations and counters', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:', retention: { maxSpans: 1000, maxAgeMs: 0, maxBytes: 0 } })
  try {
    // 750 two-span traces arriving in start order: the first 250 traces are the oldest 500 spans.
    const events = []
    for (let i = 0; i < 750; i++) {
      events.push(llmEvent({ trace: `r${String(i).padStart(3, '0')}`, span: `${i}1`, kind: 'workflow', startMs: T0 + i }))
      events.push(llmEvent({ trace: `r${String(i).padStart(3, '0')}`, span: `${i}2`, parent: `${i}1`, startMs: T0 + i }))
    }
    await postEvents(agent.url, events)
    await postEvaluations(agent.url, [categorical('r000', '01', 'q', 'x'), categorical('r749', '7491', 'q', 'y')])
    assert.equal(agent.store.spanCount, 1500)
    const first = agent.retention.step()
    assert.equal(first.spans, RETENTION_BATCH)
    assert.equal(first.more, false)
    assert.equal(agent.store.spanCount, 1000)
    const again = agent.retention.step()
    assert.deepEqual(again, { spans: 0, evaluations: 0, chunks: 0, more: false })

    const { traces, total } = await getJson<{ traces: Array<{ trace_id: string }>, total: number }>(agent.url, '/api/traces?limit=1000&order=asc')
    assert.equal(total, 500)
    assert.equal(traces[0].trace_id, 'r250')
    const evals = await getJson<{ evaluations: Array<{ trace_id: string }> }>(agent.url, '/api/evaluations')
    assert.deepEqual(evals.evaluations.map((e) => e.trace_id), ['r749'])
    const c = agent.counters()
    assert.equal(c.retention_removed_spans, 500)
    assert.equal(c.retention_removed_evaluations, 1)
    // Full-text entries of removed spans are gone with them.
    const n = agent.store.db.prepare('SELECT COUNT(*) AS n FROM llmobs_fts').get() as { n: number }
    assert.equal(n.n, 1000)
  } finally {
    await agent.close()
  }
})

test('retention: data older than maxAge is removed, newer data stays', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:', retention: { maxAgeMs: 60_000, maxSpans: 0, maxBytes: 0 } })
  try {
    await postEvents(agent.url, [llmEvent({ trace: 'old', span: '1', startMs: T0 })])
    await postEvaluations(agent.url, [{ join_on: { tag: { key: 'k', value: 'v' } }, label: 'tagged', metric_type: 'score', score_value: 1, ml_app: 'app', timestamp_ms: T0 }])
    // Nothing is old yet.
    assert.equal(agent.retention.step().spans, 0)
    assert.equal(agent.store.spanCount, 1)
    const later = agent.retention.step(Date.now() + 61_000)
    assert.deepEqual([later.spans, later.evaluations], [1, 1])
    assert.equal(agent.store.spanCount, 0)
    assert.equal((await getJson<{ traces: unknown[] }>(agent.url, '/api/traces')).traces.length, 0)
  } finally {
    await agent.close()
  }
})

test('retention: over maxBytes the oldest data goes until the pages in use fit', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:', retention: { maxAgeMs: 0, maxSpans: 0, maxBytes: 1 } })
  try {
    await postEvents(agent.url, Array.from({ length: 1200 }, (_, i) => llmEvent({ trace: `b${i}`, span: String(i + 1), startMs: T0 + i, output: 'x'.repeat(200) })))
    let steps = 0
    while (agent.retention.step().more && steps < 100) steps++
    assert.equal(agent.store.spanCount, 0)
    assert.equal(agent.counters().retention_removed_spans, 1200)
    assert.ok(steps >= 2, 'in batches')
  } finally {
    await agent.close()
  }
})

test('retention: limits of 0 turn it off; bad options warn and use the defaults', async () => {
  const warnings: string[] = []
  const agent = await startAgent({ port: 0, db: ':memory:', retention: { maxAgeMs: 0, maxSpans: 0, maxBytes: -1 as number }, logger: { info: () => {}, warn: (m) => warnings.push(m) } })
  try {
    assert.deepEqual(agent.retention.limits, { maxAgeMs: 0, maxSpans: 0, maxBytes: 1024 ** 3 })
    assert.ok(warnings.some((w) => w.includes('retention.maxBytes')), warnings.join('\n'))
  } finally {
    await agent.close()
  }
  const off = await startAgent({ port: 0, db: ':memory:', retention: { maxAgeMs: 0, maxSpans: 0, maxBytes: 0 } })
  try {
    await postEvents(off.url, [llmEvent({ trace: 'keep', span: '1', startMs: T0 })])
    assert.equal(off.retention.enabled, false)
    assert.equal(off.retention.step(Date.now() + 1e12).spans, 0)
    assert.equal(off.store.spanCount, 1)
  } finally {
    await off.close()
  }
})
