import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { getJson, request } from '../helpers/agent_client.js'
import { categorical, llmEvent, postEvaluations, postEvents } from '../helpers/llm_events.js'

const T0 = 1_760_000_000_000

interface TraceRow { trace_id: string, start_ns: string, duration: number, total_tokens: number, input_tokens: number, output_tokens: number, cost_usd: number | null, cost_complete: boolean, models: string[], session_id: string | null, evaluations: Array<{ label: string, value: unknown }>, usage_source: string | null, status: string, error_count: number }
interface ListBody { limit: number, limit_cap: number, next_cursor: string | null, total?: number, more: boolean, [key: string]: unknown }

async function list<R> (agent: LocalAgent, path: string, key: string): Promise<{ rows: R[], body: ListBody }> {
  const body = await getJson<ListBody>(agent.url, path)
  return { rows: body[key] as R[], body }
}

async function walk<R> (agent: LocalAgent, path: string, key: string): Promise<R[]> {
  const out: R[] = []
  let cursor: string | null = null
  for (let pages = 0; pages < 100; pages++) {
    const sep = path.includes('?') ? '&' : '?'
    const { rows, body }: { rows: R[], body: ListBody } = await list<R>(agent, cursor === null ? path : `${path}${sep}cursor=${cursor}`, key)
    out.push(...rows)
    cursor = body.next_cursor
    if (cursor === null) return out
  }
  throw new Error('cursor walk did not end')
}

test('traces: a cursor walk over 1,300 traces with equal start times has no duplicate, no gap, and follows start then trace_id', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const events = []
    // Ten traces share every start time, and they arrive in an order unrelated to it.
    for (let i = 0; i < 1300; i++) {
      const n = (i * 7919) % 1300
      events.push(llmEvent({ trace: `t${String(n).padStart(4, '0')}`, span: String(n + 1), startMs: T0 + Math.floor(n / 10) * 1000, durationMs: n % 7, kind: 'workflow' }))
    }
    await postEvents(agent.url, events)
    const ids = Array.from({ length: 1300 }, (_, n) => `t${String(n).padStart(4, '0')}`)
    const byStartDesc = [...ids].sort((a, b) => Math.floor(Number(b.slice(1)) / 10) - Math.floor(Number(a.slice(1)) / 10) || (a < b ? 1 : -1))

    const first = await list<TraceRow>(agent, '/api/traces?limit=100', 'traces')
    assert.equal(first.rows.length, 100)
    assert.equal(first.body.limit, 100)
    assert.equal(first.body.limit_cap, 1000)
    assert.equal(first.body.total, 1300)
    assert.equal(first.body.more, true)

    const desc = await walk<TraceRow>(agent, '/api/traces?limit=100', 'traces')
    assert.deepEqual(desc.map((t) => t.trace_id), byStartDesc)
    const asc = await walk<TraceRow>(agent, '/api/traces?limit=77&order=asc', 'traces')
    assert.deepEqual(asc.map((t) => t.trace_id), [...byStartDesc].reverse())

    const byDuration = await walk<TraceRow>(agent, '/api/traces?limit=250&sort=duration', 'traces')
    assert.equal(new Set(byDuration.map((t) => t.trace_id)).size, 1300)
    const expected = [...ids].sort((a, b) => (Number(b.slice(1)) % 7) - (Number(a.slice(1)) % 7) || (a < b ? 1 : -1))
    assert.deepEqual(byDuration.map((t) => t.trace_id), expected)

    // The pre-v2 callers: the UI asks for limit=1000; a larger limit is capped, not refused.
    const big = await list<TraceRow>(agent, '/api/traces?limit=100000', 'traces')
    assert.equal(big.rows.length, 1000)
    assert.equal(big.body.limit, 1000)
    const spans = await walk<{ trace_id: string, span_id: string }>(agent, '/api/spans?limit=500', 'spans')
    assert.equal(new Set(spans.map((s) => s.trace_id + '/' + s.span_id)).size, 1300)
    assert.deepEqual(spans.map((s) => s.trace_id), byStartDesc)
  } finally {
    await agent.close()
  }
})

async function fixture (agent: LocalAgent): Promise<void> {
  await postEvents(agent.url, [
    // X1: a workflow calling gpt-4o; tokens annotated as input/output only (no total).
    llmEvent({ trace: 'x1', span: '11', name: 'answer', kind: 'workflow', mlApp: 'a', startMs: T0, durationMs: 300, session: 's1' }),
    llmEvent({ trace: 'x1', span: '12', parent: '11', name: 'chat', kind: 'llm', mlApp: 'a', startMs: T0 + 10, durationMs: 200, model: 'gpt-4o', provider: 'openai', metrics: { input_tokens: 1000, output_tokens: 500 }, session: 's1' }),
    // X2: a model without a price, failed.
    llmEvent({ trace: 'x2', span: '21', name: 'chat', kind: 'llm', mlApp: 'b', startMs: T0 + 1000, durationMs: 50, model: 'acme-llm-9', metrics: { input_tokens: 10, output_tokens: 20, total_tokens: 30 }, error: { message: 'upstream 500', type: 'ServerError' }, session: 's1' }),
    // X3: a tool call, no model.
    llmEvent({ trace: 'x3', span: '31', name: 'retrieve-docs', kind: 'tool', mlApp: 'a', startMs: T0 + 2000, durationMs: 5 }),
  ])
  await postEvaluations(agent.url, [categorical('x1', '12', 'quality', 'good'), categorical('x2', '21', 'quality', 'bad')])
}

const ids = (rows: Array<{ trace_id: string }>): string[] => rows.map((r) => r.trace_id)

test('traces: every filter, sort by tokens and cost, tokens total = input + output, cost from the price table', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    await fixture(agent)
    const q = async (query: string): Promise<string[]> => ids((await list<TraceRow>(agent, `/api/traces?${query}`, 'traces')).rows)
    assert.deepEqual(await q(''), ['x3', 'x2', 'x1'])
    assert.deepEqual(await q('ml_app=a'), ['x3', 'x1'])
    assert.deepEqual(await q('status=error'), ['x2'])
    assert.deepEqual(await q('status=ok'), ['x3', 'x1'])
    assert.deepEqual(await q('kind=tool'), ['x3'])
    assert.deepEqual(await q('kind=llm'), ['x2', 'x1'])
    assert.deepEqual(await q('model=gpt-4o'), ['x1'])
    assert.deepEqual(await q('session_id=s1'), ['x2', 'x1'])
    assert.deepEqual(await q('name=retrieve-docs'), ['x3'])
    assert.deepEqual(await q('name=chat'), ['x2'])
    assert.deepEqual(await q('eval_label=quality'), ['x2', 'x1'])
    assert.deepEqual(await q('eval_label=quality&eval_value=good'), ['x1'])
    assert.deepEqual(await q(`since=${T0 + 500}`), ['x3', 'x2'])
    assert.deepEqual(await q(`until=${new Date(T0 + 1000).toISOString()}`), ['x1'])
    assert.deepEqual(await q(`since=${T0 + 500}&until=${T0 + 1500}`), ['x2'])
    assert.deepEqual(await q('sort=tokens'), ['x1', 'x2', 'x3'])
    assert.deepEqual(await q('sort=tokens&order=asc'), ['x3', 'x2', 'x1'])
    // No price sorts below every priced trace.
    assert.deepEqual(await q('sort=cost'), ['x1', 'x3', 'x2'])
    assert.deepEqual(await q('sort=duration'), ['x1', 'x2', 'x3'])

    const rows = (await list<TraceRow>(agent, '/api/traces', 'traces')).rows
    const x1 = rows.find((r) => r.trace_id === 'x1') as TraceRow
    const x2 = rows.find((r) => r.trace_id === 'x2') as TraceRow
    assert.equal(x1.total_tokens, 1500)
    assert.equal(x1.session_id, 's1')
    assert.deepEqual(x1.models, ['gpt-4o'])
    // gpt-4o list price: $2.50 / 1M input, $10 / 1M output.
    assert.ok(Math.abs((x1.cost_usd as number) - (1000 * 2.5 + 500 * 10) / 1e6) < 1e-12, String(x1.cost_usd))
    assert.equal(x1.cost_complete, true)
    assert.equal(x1.usage_source, 'provider')
    assert.deepEqual(x1.evaluations.map((e) => [e.label, e.value]), [['quality', 'good']])
    assert.equal(x2.cost_usd, null)
    assert.equal(x2.cost_complete, false)
    assert.equal(x2.error_count, 1)

    const trace = await getJson<{ cost_usd: number, session_id: string, spans: Array<{ span_id: string, cost_usd: number | null, total_tokens: number, price: { pattern: string, date: string, source: string } | null }> }>(agent.url, '/api/traces/x1')
    assert.equal(trace.session_id, 's1')
    assert.equal(trace.cost_usd, x1.cost_usd)
    const llm = trace.spans.find((s) => s.span_id === '12')
    assert.equal(llm?.total_tokens, 1500)
    assert.equal(llm?.price?.pattern, 'gpt-4o*')
    assert.match(llm?.price?.source ?? '', /^https:\/\/openai\.com\//)
    const unknown = await getJson<{ spans: Array<{ cost_usd: number | null, price: unknown }> }>(agent.url, '/api/traces/x2')
    assert.deepEqual(unknown.spans.map((s) => [s.cost_usd, s.price]), [[null, null]])
  } finally {
    await agent.close()
  }
})

test('spans: the trace filters apply per span, plus trace_id and path', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    await fixture(agent)
    const q = async (query: string): Promise<string[]> => (await list<{ span_id: string }>(agent, `/api/spans?${query}`, 'spans')).rows.map((s) => s.span_id)
    assert.deepEqual(await q(''), ['31', '21', '12', '11'])
    assert.deepEqual(await q('kind=llm'), ['21', '12'])
    assert.deepEqual(await q('status=error'), ['21'])
    assert.deepEqual(await q('model=gpt-4o'), ['12'])
    assert.deepEqual(await q('name=chat'), ['21', '12'])
    assert.deepEqual(await q('trace_id=x1'), ['12', '11'])
    assert.deepEqual(await q('trace_id=x1&order=asc'), ['11', '12'])
    assert.deepEqual(await q('ml_app=b'), ['21'])
    assert.deepEqual(await q('session_id=s1'), ['21', '12', '11'])
    assert.deepEqual(await q('path=evp'), ['31', '21', '12', '11'])
    assert.deepEqual(await q('path=agentless'), [])
    assert.deepEqual(await q('eval_label=quality&eval_value=bad'), ['21'])
    assert.deepEqual(await q('sort=tokens'), ['12', '21', '31', '11'])
    assert.deepEqual(await q('sort=cost&limit=2'), ['12', '31'])
    assert.deepEqual(await q(`since=${T0 + 5}&until=${T0 + 1001}`), ['21', '12'])
  } finally {
    await agent.close()
  }
})

test('evaluations: filters and a cursor walk in timestamp order', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    await fixture(agent)
    await postEvaluations(agent.url, Array.from({ length: 30 }, (_, i) => categorical('x3', '31', `l${i % 4}`, `v${i}`, 1_700_000_000_000 + Math.floor(i / 4))))
    const all = await walk<{ label: string, value: string, timestamp_ms: number }>(agent, '/api/evaluations?limit=7', 'evaluations')
    assert.equal(all.length, 32)
    assert.equal(new Set(all.map((e) => e.label + e.value)).size, 32)
    for (let i = 1; i < all.length; i++) assert.ok(all[i - 1].timestamp_ms >= all[i].timestamp_ms)
    const q = async (query: string): Promise<unknown[]> => (await list<{ value: unknown }>(agent, `/api/evaluations?${query}`, 'evaluations')).rows.map((e) => e.value)
    assert.deepEqual(await q('trace_id=x1'), ['good'])
    assert.deepEqual(await q('span_id=21'), ['bad'])
    assert.deepEqual(await q('label=quality&value=bad'), ['bad'])
    assert.equal((await q('label=l0')).length, 8)
    assert.equal((await q('metric_type=score')).length, 0)
    assert.equal((await q('ml_app=app')).length, 32)
    assert.deepEqual(await q('since=1700000000007&label=l1'), ['v29'])
  } finally {
    await agent.close()
  }
})

test('every bad parameter is a 400 naming it', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    await fixture(agent)
    const spansCursor = (await list<unknown>(agent, '/api/spans?limit=1', 'spans')).body.next_cursor as string
    const tracesCursor = (await list<unknown>(agent, '/api/traces?limit=1', 'traces')).body.next_cursor as string
    const cases: Array<[string, RegExp]> = [
      ['/api/traces?limit=0', /"limit"/],
      ['/api/traces?limit=abc', /"limit"/],
      ['/api/traces?limit=-5', /"limit"/],
      ['/api/traces?sort=name', /"sort" must be one of start, duration, tokens, cost/],
      ['/api/traces?order=up', /"order"/],
      ['/api/traces?since=yesterday', /"since" must be an ISO-8601/],
      ['/api/traces?until=2026-13-45T99:00:00Z', /"until"/],
      [`/api/traces?since=${T0 + 10}&until=${T0}`, /"since" must be before "until"/],
      ['/api/traces?cursor=%%%', /"cursor"/],
      ['/api/traces?cursor=bm90IGpzb24', /"cursor"/],
      [`/api/traces?cursor=${spansCursor}`, /"cursor" belongs to another listing/],
      [`/api/traces?sort=duration&cursor=${tracesCursor}`, /"cursor" belongs to another listing or sort/],
      [`/api/traces?order=asc&cursor=${tracesCursor}`, /"cursor" belongs/],
      ['/api/traces?status=maybe', /"status" must be ok or error/],
      ['/api/traces?kind=banana', /"kind" must be one of/],
      ['/api/traces?eval_value=good', /"eval_value" needs "eval_label"/],
      ['/api/traces?q=%22unterminated', /"q" is not a valid full-text query/],
      ['/api/traces?q=(refund', /"q" is not a valid full-text query/],
      ['/api/traces?q=AND', /"q" is not a valid full-text query/],
      ['/api/traces?stauts=error', /unknown parameter "stauts"/],
      ['/api/spans?path=carrier-pigeon', /"path" must be trace, evp, agentless or otlp/],
      ['/api/spans?sort=bogus', /"sort"/],
      [`/api/spans?cursor=${tracesCursor}`, /"cursor" belongs/],
      ['/api/evaluations?metric_type=vibes', /"metric_type"/],
      ['/api/evaluations?sort=start', /"sort" must be one of timestamp/],
      ['/api/sessions?sort=start', /"sort" must be one of last_seen/],
      ['/api/sessions?q=%22x', /"q"/],
      ['/api/summary?buckets=0', /"buckets"/],
      ['/api/summary?buckets=201', /"buckets"/],
      ['/api/summary?since=soon', /"since"/],
      ['/api/summary?limit=3', /unknown parameter "limit"/],
      ['/api/changes?after=-1', /"after"/],
      ['/api/changes?after=x', /"after"/],
    ]
    for (const [path, reason] of cases) {
      const r = await request(agent.url, path)
      assert.equal(r.status, 400, `${path}: ${r.body}`)
      assert.match((r.json as { error: string }).error, reason, path)
    }
  } finally {
    await agent.close()
  }
})
