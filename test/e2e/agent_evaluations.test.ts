import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent } from '../../src/agent/start_agent.js'
import { counters, expected, getJson, request } from '../helpers/agent_client.js'

/** An evaluation metric as our SDK sends it (DESIGN §3.5). */
function metric (o: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    join_on: { span: { span_id: '5255485892174694195', trace_id: '6a1f0c3b9e2d4f8a0b1c2d3e4f5a6b7c' } },
    label: 'correctness',
    metric_type: 'categorical',
    categorical_value: 'correct',
    ml_app: 'support-bot',
    timestamp_ms: 1_700_000_000_123,
    tags: ['ddtrace.version:test'],
    ...o,
  }
}

function body (metrics: unknown[]): string {
  return JSON.stringify({ data: { type: 'evaluation_metric', attributes: { metrics } } })
}

const KEY = 'eval-key'

function viaEvp (base: string, metrics: unknown[]): Promise<{ status: number }> {
  return request(base, '/evp_proxy/v2/api/intake/llm-obs/v2/eval-metric', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Datadog-EVP-Subdomain': 'api' }, body: body(metrics) })
}

function viaAgentless (base: string, metrics: unknown[]): Promise<{ status: number }> {
  return request(base, '/api/intake/llm-obs/v2/eval-metric', { method: 'POST', headers: { 'Content-Type': 'application/json', 'DD-API-KEY': KEY }, body: body(metrics) })
}

async function stored (base: string): Promise<Array<{ label: string, timestamp_ms: number | null, path: string, value: unknown }>> {
  return (await getJson<{ evaluations: Array<{ label: string, timestamp_ms: number | null, path: string, value: unknown }> }>(base, '/api/evaluations?limit=1000')).evaluations
}

test('evaluations: the same evaluation posted twice (a client retry after a timeout) is stored once and counted as suppressed', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    for (const send of [viaEvp, viaAgentless]) {
      assert.equal((await send(agent.url, [metric()])).status, 202)
      assert.equal((await send(agent.url, [metric()])).status, 202, 'a duplicate is accepted (the client did nothing wrong), not stored')
      assert.equal((await stored(agent.url)).length, 1, send.name)
      assert.deepEqual(await counters(agent.url), expected({ payloads_received: 2, evaluations: 2, evaluation_duplicates_suppressed: 1 }))
      await request(agent.url, '/api/reset', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
    }
  } finally {
    await agent.close()
  }
})

test('evaluations: identity is (trace_id, span_id, label, ml_app, timestamp_ms), whichever path each copy came by', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    // EVP first, then the same evaluation agentless, and twice within one request: one row.
    assert.equal((await viaEvp(agent.url, [metric()])).status, 202)
    assert.equal((await viaAgentless(agent.url, [metric(), metric({ categorical_value: 'changed value, same identity' })])).status, 202)
    assert.deepEqual((await stored(agent.url)).map((e) => [e.path, e.value]), [['evp', 'correct']], 'the first arrival wins')
    // Any one field of the identity different: a different evaluation.
    const others = [
      metric({ timestamp_ms: 1_700_000_000_124 }),
      metric({ label: 'helpfulness' }),
      metric({ ml_app: 'other-app' }),
      metric({ ml_app: undefined }),
      metric({ join_on: { span: { span_id: '1', trace_id: '6a1f0c3b9e2d4f8a0b1c2d3e4f5a6b7c' } } }),
      metric({ join_on: { span: { span_id: '5255485892174694195', trace_id: 'ffff0c3b9e2d4f8a0b1c2d3e4f5a6b7c' } } }),
    ]
    assert.equal((await viaEvp(agent.url, others)).status, 202)
    assert.equal((await stored(agent.url)).length, 7)
    // A missing ml_app (or timestamp) is a value of its own: sent again, it is the same evaluation.
    assert.equal((await viaEvp(agent.url, [metric({ ml_app: undefined }), metric({ timestamp_ms: undefined }), metric({ timestamp_ms: undefined })])).status, 202)
    assert.equal((await stored(agent.url)).length, 8)
    assert.deepEqual(await counters(agent.url), expected({ payloads_received: 4, evaluations: 12, evaluation_duplicates_suppressed: 4 }))
  } finally {
    await agent.close()
  }
})

test('evaluations joined on a tag have no span identity: every one is stored', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const tagged = metric({ join_on: { tag: { key: 'session_id', value: 's-1' } } })
    assert.equal((await viaEvp(agent.url, [tagged, tagged])).status, 202)
    assert.equal((await stored(agent.url)).length, 2)
    assert.deepEqual(await counters(agent.url), expected({ payloads_received: 1, evaluations: 2 }))
  } finally {
    await agent.close()
  }
})
