import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent } from '../../src/agent/start_agent.js'
import { Tracer } from '../../src/root/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { getJson } from '../helpers/agent_client.js'

function nest (depth: number): unknown {
  let v: unknown = 'leaf'
  for (let i = 0; i < depth; i++) v = { d: v }
  return v
}

test('meta_struct is lossless end to end: null, booleans in arrays, unicode and nesting arrive at the agent as annotated', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const tracer = new Tracer({ url: agent.url, flushIntervalMs: 60_000, samplingRules: [{ sample_rate: 1 }] })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp: 'lossless' })
  const metadata = {
    nothing: null,
    flags: [true, false, null, true],
    mixed: [1, 'two', 3.5, -4, [false, [null]], { k: true }],
    unicode: 'héllo — 日本語 — 🚀🧪 — \u0000\u001f — "quotes" \\ back',
    big: 2 ** 53 - 1,
    negative: -(2 ** 31),
    float: 0.1 + 0.2,
    empty: { a: {}, b: [], c: '' },
    deep: nest(11), // within the 12-level annotation budget (metadata itself is level 1)
  }
  await llmobs.trace({ kind: 'task', name: 'lossless' }, (span) => {
    llmobs.annotate(span, { metadata, inputData: 'in 🚀', outputData: { nested: [null, true] } })
  })
  await llmobs.trace({ kind: 'task', name: 'too-deep' }, (span) => {
    llmobs.annotate(span, { metadata: { deep: nest(20) } })
  })
  await llmobs.flush()
  const { spans } = await getJson<{ spans: Array<{ name: string, path: string, event: any }> }>(agent.url, '/api/spans?ml_app=lossless')
  const ok = spans.find((s) => s.name === 'lossless')
  assert.ok(ok !== undefined)
  assert.equal(ok.path, 'trace', 'rode the APM trace as meta_struct')
  assert.deepEqual(ok.event.meta.metadata, metadata)
  assert.equal(ok.event.meta.input.value, 'in 🚀')
  assert.equal(ok.event.meta.output.value, '{"nested":[null,true]}')
  const deep = spans.find((s) => s.name === 'too-deep')
  assert.ok(deep !== undefined)
  // Past 12 levels the container is sent as its JSON text: nothing silently cut.
  let v = deep.event.meta.metadata
  let levels = 0
  while (typeof v === 'object' && v !== null) { v = v.deep ?? v.d; levels++ }
  assert.equal(typeof v, 'string')
  assert.ok(levels >= 10 && levels <= 12, `${levels} levels kept as objects`)
  assert.match(v as string, /^\{"d":/)
  assert.ok((v as string).includes('"leaf"'))
  await tracer.shutdown()
  await llmobs.disable()
  await agent.close()
})

test('apm_agentless against the local agent: unsampled chunks reach /v1/input and their LLM spans are extracted once', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:', apiKey: 'k-agentless' })
  const tracer = new Tracer({ url: 'http://127.0.0.1:9', flushIntervalMs: 60_000, samplingRules: [{ sample_rate: 0 }] })
  const llmobs = new LLMObs(() => tracer)
  assert.ok(llmobs.enable({ mlApp: 'agentless-e2e', agentlessEnabled: true, apiKey: 'k-agentless', intakeUrl: agent.url, evalIntakeUrl: agent.url, traceIntakeUrl: agent.url }))
  for (let i = 0; i < 5; i++) {
    await llmobs.trace({ kind: 'workflow', name: `wf-${i}` }, () => llmobs.trace({ kind: 'llm', name: 'chat' }, () => {}))
  }
  await llmobs.flush()
  const { spans } = await getJson<{ spans: Array<{ path: string }> }>(agent.url, '/api/spans?ml_app=agentless-e2e&limit=1000', { 'DD-API-KEY': 'k-agentless' })
  assert.equal(spans.length, 10)
  assert.ok(spans.every((s) => s.path === 'agentless'))
  const c = await getJson<Record<string, number>>(agent.url, '/api/counters', { 'DD-API-KEY': 'k-agentless' })
  assert.equal(c.llmobs_extracted, 10)
  assert.equal(c.duplicates_suppressed, 0)
  assert.equal(c.requests_rejected, 0)
  const s = llmobs.stats()
  assert.deepEqual([s.created, s.rodeTrace, s.delivered, s.pending], [10, 10, 10, 0])
  await tracer.shutdown()
  await llmobs.disable()
  await agent.close()
})
