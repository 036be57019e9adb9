import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent } from '../../src/agent/start_agent.js'
import { Tracer } from '../../src/root/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { getJson } from '../helpers/agent_client.js'

/**
 * The same LLM trace twice into the real local agent: once the Datadog way (events to the EVP
 * proxy / riding the trace) and once as OTLP to its OTLP intake. The event the intake rebuilds from
 * the GenAI semantic-convention attributes must equal, field by field, the event the SDK sent
 * itself; only ids differ where the formats do (OTLP carries the APM trace id, not the LLMObs one).
 */
const agent = await startAgent({ port: 0, otlpPort: 0, db: ':memory:' })
after(async () => { await agent.close() })

type Ev = { name: string, status: string, parent_id: string, session_id?: string, meta: Record<string, any>, metrics: Record<string, number>, tags: string[] }
type Stored = { name: string, kind: string, path: string, event: Ev }

async function runTrace (exporter: 'agent' | 'otlp', mlApp: string): Promise<void> {
  const tracer = new Tracer({ url: agent.url, service: 'rt-svc', env: 'rt', flushIntervalMs: 60_000, ...(exporter === 'otlp' ? { exporter: 'otlp' as const, otlp: { endpoint: `${agent.otlpUrl}/v1/traces` } } : {}) })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp, flushIntervalMs: 60_000 })
  llmobs.trace({ kind: 'workflow', name: 'answer', sessionId: 'sess-1' }, () => {
    llmobs.trace({ kind: 'llm', name: 'chat', modelName: 'gpt-4o-mini', modelProvider: 'openai' }, (span) => {
      llmobs.annotate(span, {
        inputData: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'What is a "refund"?' }],
        outputData: [{ role: 'assistant', content: 'Money back.' }],
        metadata: { temperature: 0.2, max_tokens: 64 },
        metrics: { inputTokens: 12, outputTokens: 3, totalTokens: 15 },
      })
    })
  })
  await llmobs.flush()
  await tracer.flush()
  await tracer.shutdown()
  await llmobs.disable()
}

async function storedFor (mlApp: string): Promise<Stored[]> {
  const { spans } = await getJson<{ spans: Stored[] }>(agent.url, `/api/spans?ml_app=${mlApp}&limit=100`)
  return spans
}

test('OTLP export into our own agent rebuilds the events the SDK sends to the EVP proxy', async () => {
  await runTrace('agent', 'rt-evp')
  await runTrace('otlp', 'rt-otlp')
  const evp = await storedFor('rt-evp')
  const otlp = await storedFor('rt-otlp')
  assert.equal(evp.length, 2, 'the Datadog path stored workflow + llm')
  assert.equal(otlp.length, 2, `the OTLP path stored workflow + llm, got ${otlp.map((s) => `${s.kind}:${s.name}`).join(', ')}`)
  assert.ok(otlp.every((s) => s.path === 'otlp'), 'both arrived through the OTLP intake')
  for (const kind of ['workflow', 'llm']) {
    const a = evp.find((s) => s.kind === kind)!.event
    const b = otlp.find((s) => s.kind === kind)!.event
    assert.equal(b.name, a.name, kind)
    assert.equal(b.status, a.status, kind)
    assert.equal(b.session_id, a.session_id, `${kind} session`)
    assert.equal(b.meta.span.kind, a.meta.span.kind)
    assert.deepEqual(b.meta.input, a.meta.input, `${kind} input`)
    assert.deepEqual(b.meta.output, a.meta.output, `${kind} output`)
    if (kind === 'llm') {
      assert.equal(b.meta.model_name, a.meta.model_name)
      assert.equal(b.meta.model_provider, a.meta.model_provider)
      assert.deepEqual(b.metrics, a.metrics, 'token metrics')
      for (const [k, v] of Object.entries(a.meta.metadata ?? {})) assert.deepEqual(b.meta.metadata?.[k], v, `metadata ${k}`)
    }
    // The llm span hangs under the workflow on both paths.
    if (kind === 'llm') assert.notEqual(b.parent_id, 'undefined')
    else assert.equal(b.parent_id, 'undefined')
  }
  const llmTags = (s: Stored[]): Set<string> => new Set(s.find((x) => x.kind === 'llm')!.event.tags.filter((t) => /^(session_id|env|service):/.test(t)))
  assert.deepEqual(llmTags(otlp), llmTags(evp), 'service, env and session tags')
})
