import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent } from '../../src/agent/start_agent.js'
import { getJson } from '../helpers/agent_client.js'
import { llmEvent, postEvents } from '../helpers/llm_events.js'

const T0 = 1_760_000_000_000

interface Row { trace_id: string, snippet?: string | null }

test('full-text search: words, prefixes and phrases over messages, values, documents, metadata, tags and errors', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    await postEvents(agent.url, [
      llmEvent({ trace: 'out', span: '1', startMs: T0, model: 'gpt-4o', input: 'Where is my order?', output: 'You are eligible for a full refund policy exception.' }),
      llmEvent({ trace: 'in', span: '2', startMs: T0 + 1, input: 'I was refunded twice', output: 'Thanks' }),
      llmEvent({ trace: 'val', span: '3', kind: 'task', startMs: T0 + 2, input: 'parse invoice', output: 'invoice total 42' }),
      llmEvent({ trace: 'meta', span: '4', kind: 'workflow', startMs: T0 + 3, metadata: { customer_tier: 'platinum' } }),
      llmEvent({ trace: 'tag', span: '5', kind: 'workflow', startMs: T0 + 4, tags: ['team:billing'] }),
      llmEvent({ trace: 'err', span: '6', startMs: T0 + 5, error: { message: 'quota exceeded for project', type: 'RateLimitError' } }),
      // Refund the word but in a child span: the trace matches through any of its spans.
      llmEvent({ trace: 'deep', span: '7', kind: 'workflow', name: 'root', startMs: T0 + 6 }),
      llmEvent({ trace: 'deep', span: '8', parent: '7', kind: 'retrieval', startMs: T0 + 7 }),
    ])
    // Documents of a retrieval span.
    await postEvents(agent.url, [{ ...llmEvent({ trace: 'docs', span: '9', kind: 'retrieval', startMs: T0 + 8 }), meta: { span: { kind: 'retrieval' }, output: { documents: [{ text: 'Refund window is 30 days', name: 'policy.md' }] } } }])
    const q = async (query: string): Promise<string[]> => (await getJson<{ traces: Row[] }>(agent.url, `/api/traces?q=${encodeURIComponent(query)}`)).traces.map((t) => t.trace_id)
    assert.deepEqual(await q('refund'), ['docs', 'out'])
    assert.deepEqual(await q('refund*'), ['docs', 'in', 'out'])
    assert.deepEqual(await q('"full refund"'), ['out'])
    assert.deepEqual(await q('"refund full"'), [])
    assert.deepEqual(await q('invoice'), ['val'])
    assert.deepEqual(await q('platinum'), ['meta'])
    assert.deepEqual(await q('customer_tier'), ['meta'])
    assert.deepEqual(await q('billing'), ['tag'])
    assert.deepEqual(await q('quota'), ['err'])
    assert.deepEqual(await q('order AND eligible'), ['out'])
    assert.deepEqual(await q('nothing-like-this'), [])
    // Hyphenated terms (model names) mean their words in sequence, not FTS5 column syntax.
    assert.deepEqual(await q('full-refund'), ['out'])
    assert.deepEqual(await q('(refund OR quota) NOT policy'), ['err'])

    // The index is maintained on insert.
    await postEvents(agent.url, [llmEvent({ trace: 'late', span: '10', parent: '7', startMs: T0 + 9, output: 'a late refund' })])
    assert.deepEqual(await q('refund'), ['late', 'docs', 'out'])

    const body = await getJson<{ traces: Row[] }>(agent.url, '/api/traces?q=refund&limit=1')
    assert.match(body.traces[0].snippet ?? '', /(^|\n)a late <mark>refund<\/mark>(\n|$)/)
    const spans = await getJson<{ spans: Array<{ span_id: string, snippet: string }> }>(agent.url, '/api/spans?q=%22full%20refund%22')
    assert.deepEqual(spans.spans.map((s) => s.span_id), ['1'])
    assert.match(spans.spans[0].snippet, /a <mark>full refund<\/mark> policy/)
    // Combined with other filters.
    assert.deepEqual((await getJson<{ traces: Row[] }>(agent.url, '/api/traces?q=refund&model=gpt-4o')).traces.map((t) => t.trace_id), ['out'])
  } finally {
    await agent.close()
  }
})

test('snippets are HTML-escaped: stored markup comes back as text, <mark> is the only markup, and stored markers cannot forge one', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const payload = '<script>alert(1)</script> refund <img src=x onerror="alert(2)"> & \'quoted\' \u0001forged\u0002'
    await postEvents(agent.url, [
      llmEvent({ trace: '<script>alert(3)</script>', span: '1', name: '<b onmouseover=alert(4)>name</b>', startMs: T0, input: payload, output: 'ok' }),
    ])
    const { traces } = await getJson<{ traces: Row[] }>(agent.url, '/api/traces?q=refund')
    assert.equal(traces.length, 1)
    const snippet = traces[0].snippet as string
    assert.ok(!snippet.includes('<script'), snippet)
    assert.ok(!snippet.includes('<img'), snippet)
    assert.match(snippet, /&lt;script&gt;alert\(1\)&lt;\/script&gt; <mark>refund<\/mark> &lt;img src=x onerror=&quot;alert/)
    const quoted = await getJson<{ traces: Row[] }>(agent.url, '/api/traces?q=quoted')
    assert.match(quoted.traces[0].snippet ?? '', /&amp; &#39;<mark>quoted<\/mark>&#39;/)
    // Only our markers become tags.
    assert.deepEqual(snippet.match(/<[^>]*>/g), ['<mark>', '</mark>'])
    const forged = await getJson<{ traces: Row[] }>(agent.url, '/api/traces?q=forged')
    assert.deepEqual(forged.traces[0].snippet?.match(/<[^>]*>/g), ['<mark>', '</mark>'])
    assert.match(forged.traces[0].snippet ?? '', /<mark>forged<\/mark>/)
    const byName = await getJson<{ traces: Row[] }>(agent.url, '/api/traces?q=onmouseover')
    assert.deepEqual(byName.traces[0].snippet?.match(/<[^>]*>/g), ['<mark>', '</mark>'])
  } finally {
    await agent.close()
  }
})
