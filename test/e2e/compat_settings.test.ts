import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent } from '../../src/agent/start_agent.js'
import { readLedger } from '../../src/cli/demo/demo.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { Tracer } from '../../src/root/tracer.js'
import { closeRigs, rig, type Rig } from '../helpers/llmobs_setup.js'
import { decodeMsgpack, evpEvents, v04Chunks } from '../helpers/sink.js'

after(closeRigs)

/** Runs `fn` with the given variables set in process.env (the tracer reads the real env). */
async function withEnv<T> (vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.keys(vars).map((k) => [k, process.env[k]] as const)
  Object.assign(process.env, vars)
  try { return await fn() } finally {
    for (const [k, v] of saved) { if (v === undefined) Reflect.deleteProperty(process.env, k); else process.env[k] = v }
  }
}

async function workload (r: Rig): Promise<void> {
  await r.llmobs.trace({ kind: 'workflow', name: 'wf' }, async () => {
    await r.llmobs.trace({ kind: 'llm', name: 'chat' }, (span) => {
      r.llmobs.annotate(span, { tags: { region: 'us' } })
    })
  })
  r.tracer.trace('plain', { tags: { team: 'web' } }, () => {})
  await r.tracer.flush()
  await r.llmobs.flush()
}

function checkEventTags (lists: string[][]): void {
  assert.equal(lists.length, 2)
  for (const tags of lists) {
    for (const t of ['team:ml', 'shard:7', 'env:test', 'ml_app:rig-app', 'language:javascript']) assert.ok(tags.includes(t), `${t} in ${tags.join(' ')}`)
    assert.ok(!tags.includes('env:ignored'), 'DD_ENV (here the env option) beats DD_TAGS env')
  }
  const [chat, wf] = [lists.find((t) => t.includes('region:us')), lists.find((t) => t.includes('region:eu'))]
  assert.ok(chat !== undefined && !chat.includes('region:eu'), 'a tag annotated on the span overrides DD_TAGS')
  assert.ok(wf !== undefined)
}

for (const mode of ['riding the trace (meta_struct)', 'direct (EVP proxy)'] as const) {
  test(`DD_TAGS and the tags option reach every APM span and every LLMObs event, ${mode}; own tags win`, async () => {
    const direct = mode.startsWith('direct')
    const r = await withEnv({ DD_TAGS: 'team:ml,region:eu,env:ignored' }, () =>
      rig({ tags: { shard: 7 } }, direct ? { apmTracingEnabled: false } : {}))
    await workload(r)
    if (direct) {
      checkEventTags(evpEvents(r.sink).map((e) => e.tags as string[]))
      return
    }
    const spans = v04Chunks(r.sink).flat()
    assert.equal(spans.length, 3)
    for (const s of spans) {
      assert.equal(s.meta.region, 'eu', s.name)
      assert.equal(s.meta.shard, '7', s.name)
      assert.equal(s.meta.env, 'test', s.name)
      assert.equal(s.meta.team, s.name === 'plain' ? 'web' : 'ml', s.name)
      assert.equal(s.meta.service, undefined, 'service is the span field, not a meta tag')
    }
    const lists = spans.filter((s) => s.meta_struct?._llmobs !== undefined).map((s) => {
      const doc = decodeMsgpack(s.meta_struct._llmobs as Uint8Array) as { tags: Record<string, string> }
      return Object.entries(doc.tags).map(([k, v]) => `${k}:${v}`)
    })
    checkEventTags(lists)
  })
}

test('sampling: the DD_TRACE_SAMPLE_RATE rule comes after DD_TRACE_SAMPLING_RULES, marks _dd.p.dm=-3 and _dd.rule_psr', async () => {
  const r = await withEnv({ DD_TRACE_SAMPLE_RATE: '1', DD_TRACE_SAMPLING_RULES: '[{"sample_rate":0,"name":"noisy"}]' }, () => rig())
  r.tracer.trace('noisy', () => {})
  r.tracer.trace('useful', () => {})
  await r.tracer.flush()
  const roots = v04Chunks(r.sink).map((c) => c[0])
  const by = (name: string): Record<string, any> => roots.find((s) => s.name === name) as Record<string, any>
  assert.equal(by('useful').metrics._sampling_priority_v1, 2)
  assert.equal(by('useful').meta['_dd.p.dm'], '-3')
  assert.equal(by('useful').metrics['_dd.rule_psr'], 1)
  assert.equal(by('noisy').metrics._sampling_priority_v1, -1, 'the first matching rule decides, not the catch-all')
  assert.equal(by('noisy').metrics['_dd.rule_psr'], 0)
})

test('sampling: the DD_TRACE_SAMPLE_RATE rule goes through DD_TRACE_RATE_LIMIT', async () => {
  const r = await withEnv({ DD_TRACE_SAMPLE_RATE: '1', DD_TRACE_RATE_LIMIT: '0' }, () => rig())
  for (let i = 0; i < 5; i++) r.tracer.trace('t', () => {})
  await r.tracer.flush()
  const roots = v04Chunks(r.sink).map((c) => c[0])
  assert.equal(roots.length, 5)
  for (const s of roots) {
    assert.equal(s.metrics._sampling_priority_v1, -1, 'hash-kept, refused by the limiter')
    assert.equal(s.metrics['_dd.limit_psr'], 0)
  }
})

test('DD_TRACE_SAMPLE_RATE=0.1 over 2,000 traces keeps about a tenth; the LLM events of the dropped ones are rescued', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  // Unlimited: 200 keeps inside a second would otherwise meet the default limit of 100/s.
  const tracer = await withEnv({ DD_TRACE_SAMPLE_RATE: '0.1', DD_TRACE_RATE_LIMIT: '-1' }, async () =>
    new Tracer({ url: agent.url, service: 'sampled', flushIntervalMs: 60_000 }))
  const llmobs = new LLMObs(() => tracer)
  try {
    llmobs.enable({ mlApp: 'rate-app' })
    const N = 2000
    for (let i = 0; i < N; i++) llmobs.trace({ kind: 'llm', name: 'chat' }, () => {})
    await tracer.flush()
    await llmobs.flush()
    const c = agent.counters()
    assert.equal(c.chunks_received, N)
    const kept = (N - c.chunks_dropped_sampling) / N
    // Random trace ids through the Knuth hash: kept ~ Binomial(2000, 0.1), sd 13.4 traces, so
    // 120..280 is ±6 sd (a false failure about once in 10^9 runs). Without the rule all are kept.
    assert.ok(kept >= 0.06 && kept <= 0.14, `kept fraction ${kept}`)
    const ledger = await readLedger(agent, [llmobs.stats()], 'rate-app')
    assert.equal(ledger.lost, 0)
    assert.deepEqual(ledger.lines.find(([k]) => k === 'delivered'), ['delivered', N])
    assert.ok((ledger.lines.find(([k]) => k === 'rescued')?.[1] ?? 0) >= N * 0.8, 'the dropped traces\' events were rescued')
  } finally {
    await tracer.shutdown()
    await llmobs.disable()
    await agent.close()
  }
})
