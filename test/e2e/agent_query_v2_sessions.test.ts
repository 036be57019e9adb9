import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent } from '../../src/agent/start_agent.js'
import { getJson } from '../helpers/agent_client.js'
import { categorical, llmEvent, postEvaluations, postEvents } from '../helpers/llm_events.js'

const T0 = 1_760_000_000_000

interface SessionRow { session_id: string, ml_app: string, traces: number, spans: number, first_seen_ns: string, last_seen_ns: string, duration_ns: number, total_tokens: number, cost_usd: number | null, errors: number, evaluations: number }

async function conversation (base: string): Promise<void> {
  const events = []
  // Session "chat-a": three turns, each a workflow root wrapping a gpt-4o-mini call; posted out of order.
  for (const turn of [2, 0, 1]) {
    const t = `a${turn}`
    events.push(llmEvent({ trace: t, span: `${turn}1`, name: 'turn', kind: 'workflow', startMs: T0 + turn * 60_000, durationMs: 1000, session: 'chat-a', input: `question ${turn}`, output: `answer ${turn}` }))
    events.push(llmEvent({ trace: t, span: `${turn}2`, parent: `${turn}1`, kind: 'llm', startMs: T0 + turn * 60_000 + 5, durationMs: 900, model: 'gpt-4o-mini', metrics: { input_tokens: 100, output_tokens: 50 }, session: 'chat-a' }))
  }
  // Session "chat-b": one failed turn on a model without a price.
  events.push(llmEvent({ trace: 'b0', span: '91', kind: 'llm', mlApp: 'other', startMs: T0 + 500_000, durationMs: 10, model: 'in-house-7b', session: 'chat-b', input: 'hi', error: { message: 'model overloaded', type: 'Overloaded' } }))
  events.push(llmEvent({ trace: 'nosession', span: '99', kind: 'llm', startMs: T0 + 600_000, model: 'gpt-4o-mini', metrics: { input_tokens: 1, output_tokens: 1 } }))
  await postEvents(base, events)
  await postEvaluations(base, [categorical('a1', '12', 'helpful', 'yes')])
}

test('sessions: rows per session_id with traces, first/last seen, tokens, cost, errors, evaluations; sorts and filters', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    await conversation(agent.url)
    const { sessions, total } = await getJson<{ sessions: SessionRow[], total: number }>(agent.url, '/api/sessions')
    assert.equal(total, 2)
    assert.deepEqual(sessions.map((s) => s.session_id), ['chat-b', 'chat-a'])
    const a = sessions[1]
    assert.equal(a.traces, 3)
    assert.equal(a.spans, 6)
    assert.equal(a.first_seen_ns, String(BigInt(T0) * 1_000_000n))
    assert.equal(a.last_seen_ns, String(BigInt(T0 + 120_000 + 1000) * 1_000_000n))
    assert.equal(a.duration_ns, 121_000 * 1_000_000)
    assert.equal(a.total_tokens, 450)
    // gpt-4o-mini: $0.15 / 1M input, $0.60 / 1M output.
    assert.ok(Math.abs((a.cost_usd as number) - 3 * (100 * 0.15 + 50 * 0.6) / 1e6) < 1e-12)
    assert.equal(a.errors, 0)
    assert.equal(a.evaluations, 1)
    const b = sessions[0]
    assert.equal(b.cost_usd, null)
    assert.equal(b.errors, 1)
    assert.equal(b.ml_app, 'other')

    const ids = async (q: string): Promise<string[]> => (await getJson<{ sessions: SessionRow[] }>(agent.url, `/api/sessions?${q}`)).sessions.map((s) => s.session_id)
    assert.deepEqual(await ids('sort=traces'), ['chat-a', 'chat-b'])
    assert.deepEqual(await ids('sort=first_seen&order=asc'), ['chat-a', 'chat-b'])
    assert.deepEqual(await ids('sort=tokens'), ['chat-a', 'chat-b'])
    assert.deepEqual(await ids('sort=cost'), ['chat-a', 'chat-b'])
    assert.deepEqual(await ids('sort=duration&order=asc'), ['chat-b', 'chat-a'])
    assert.deepEqual(await ids('ml_app=other'), ['chat-b'])
    assert.deepEqual(await ids('q=answer'), ['chat-a'])
    assert.deepEqual(await ids(`since=${T0 + 200_000}`), ['chat-b'])
    assert.deepEqual(await ids(`until=${T0 + 1}`), ['chat-a'])
    const page = await getJson<{ sessions: SessionRow[], next_cursor: string }>(agent.url, '/api/sessions?limit=1')
    const next = await getJson<{ sessions: SessionRow[], next_cursor: string | null }>(agent.url, `/api/sessions?limit=1&cursor=${page.next_cursor}`)
    assert.deepEqual([...page.sessions, ...next.sessions].map((s) => s.session_id), ['chat-b', 'chat-a'])
    assert.equal(next.next_cursor, null)
  } finally {
    await agent.close()
  }
})

test('a session page reads as the conversation: traces and turns in start order, whatever the arrival order', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    await conversation(agent.url)
    const s = await getJson<{ session_id: string, trace_count: number, traces: Array<{ trace_id: string }>, turns: Array<{ trace_id: string, span_id: string, input: unknown, output: unknown, error: string | null }> }>(agent.url, '/api/sessions/chat-a')
    assert.equal(s.trace_count, 3)
    assert.deepEqual(s.traces.map((t) => t.trace_id), ['a0', 'a1', 'a2'])
    assert.deepEqual(s.turns.map((t) => [t.trace_id, t.span_id]), [['a0', '01'], ['a1', '11'], ['a2', '21']])
    assert.deepEqual(s.turns[1].input, { value: 'question 1' })
    assert.deepEqual(s.turns[1].output, { value: 'answer 1' })
    const b = await getJson<{ turns: Array<{ input: unknown, error: string | null }> }>(agent.url, '/api/sessions/chat-b')
    assert.deepEqual(b.turns[0].input, { messages: [{ role: 'user', content: 'hi' }] })
    assert.equal(b.turns[0].error, 'model overloaded')
    const missing = await fetch(`${agent.url}/api/sessions/nope`)
    assert.equal(missing.status, 404)
  } finally {
    await agent.close()
  }
})

test('summary: requests, errors, latency percentiles, tokens and cost over time and per model, top errors, slowest spans', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    await conversation(agent.url)
    const since = T0
    const until = T0 + 700_000
    const s = await getJson<Record<string, any>>(agent.url, `/api/summary?since=${since}&until=${until}&buckets=7`)
    assert.equal(s.since_ms, since)
    assert.equal(s.until_ms, until)
    assert.equal(s.requests, 5)
    assert.equal(s.spans, 8)
    assert.equal(s.errors, 1)
    assert.equal(s.error_rate, 0.2)
    // Root durations (ms): 1000, 1000, 1000, 10, 10 → nearest rank.
    assert.deepEqual(s.latency_ms, { p50: 1000, p95: 1000, p99: 1000 })
    assert.equal(s.total_tokens, 452)
    assert.equal(s.cost_usd, null)
    assert.equal(s.cost_complete, false)
    assert.equal(s.series.length, 7)
    assert.deepEqual(s.series.map((b: { requests: number }) => b.requests), [2, 1, 0, 0, 0, 1, 1])
    assert.equal(s.series[5].cost_usd, null)
    assert.deepEqual(s.by_model.map((m: { model: string, spans: number, total_tokens: number }) => [m.model, m.spans, m.total_tokens]), [['gpt-4o-mini', 4, 452], ['in-house-7b', 1, 0]])
    assert.equal(s.by_model[0].price.pattern, 'gpt-4o-mini*')
    assert.equal(s.by_model[1].price, null)
    assert.equal(s.by_model[1].cost_usd, null)
    assert.deepEqual(s.top_errors, [{ message: 'model overloaded', type: 'Overloaded', count: 1, last_trace_id: 'b0' }])
    assert.deepEqual(s.slowest.slice(0, 3).map((x: { span_id: string }) => x.span_id), ['01', '11', '21'])

    const mini = await getJson<Record<string, any>>(agent.url, `/api/summary?since=${since}&until=${until}&model=gpt-4o-mini`)
    assert.equal(mini.requests, 4)
    assert.equal(mini.errors, 0)
    assert.equal(mini.cost_complete, true)
    assert.ok(Math.abs(mini.cost_usd - (3 * (100 * 0.15 + 50 * 0.6) + (1 * 0.15 + 1 * 0.6)) / 1e6) < 1e-12)
    const other = await getJson<Record<string, any>>(agent.url, `/api/summary?since=${since}&until=${until}&ml_app=other`)
    assert.equal(other.requests, 1)
    // The default range is the last 24 h: these 2025 spans are outside it.
    const recent = await getJson<Record<string, any>>(agent.url, '/api/summary')
    assert.equal(recent.requests, 0)
    assert.equal(recent.latency_ms.p50, null)
    assert.equal(recent.until_ms - recent.since_ms, 24 * 3600 * 1000)
  } finally {
    await agent.close()
  }
})

test('changes: traces written after a seq, spans and evaluations alike', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const start = await getJson<{ seq: number, traces: string[] }>(agent.url, '/api/changes')
    assert.deepEqual(start.traces, [])
    await postEvents(agent.url, [llmEvent({ trace: 'c1', span: '1', startMs: T0 }), llmEvent({ trace: 'c2', span: '2', startMs: T0 })])
    const first = await getJson<{ seq: number, traces: string[] }>(agent.url, `/api/changes?after=${start.seq}`)
    assert.deepEqual(first.traces.sort(), ['c1', 'c2'])
    assert.ok(first.seq > start.seq)
    const none = await getJson<{ seq: number, traces: string[] }>(agent.url, `/api/changes?after=${first.seq}`)
    assert.deepEqual(none, { seq: first.seq, traces: [], more: false })
    await postEvents(agent.url, [llmEvent({ trace: 'c2', span: '3', parent: '2', startMs: T0 + 1 })])
    await postEvaluations(agent.url, [categorical('c1', '1', 'ok', 'yes')])
    const later = await getJson<{ seq: number, traces: string[] }>(agent.url, `/api/changes?after=${first.seq}`)
    assert.deepEqual(later.traces, ['c2', 'c1'])
  } finally {
    await agent.close()
  }
})
