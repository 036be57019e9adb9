import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent } from '../../src/agent/start_agent.js'
import { readLedger } from '../../src/cli/demo/demo.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { Tracer } from '../../src/root/tracer.js'
import { getJson, postEvp } from '../helpers/agent_client.js'

test('demo ledger: a span sent twice shows as a duplicate arrival (the store still holds it once)', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const tracer = new Tracer({ url: agent.url, service: 'ledger', flushIntervalMs: 60_000 })
  const llmobs = new LLMObs(() => tracer)
  try {
    llmobs.enable({ mlApp: 'ledger-app' })
    await llmobs.trace({ kind: 'workflow', name: 'wf' }, () => llmobs.trace({ kind: 'llm', name: 'chat' }, () => {}))
    await tracer.flush()
    await llmobs.flush()
    const clean = await readLedger(agent, [llmobs.stats()], 'ledger-app')
    assert.deepEqual([clean.lost, clean.duplicateArrivals], [0, 0])
    assert.deepEqual(clean.lines.filter(([k]) => k === 'created' || k === 'delivered'), [['created', 2], ['delivered', 2]])

    // A double send, as a client that resends a post the agent had already stored.
    const { spans } = await getJson<{ spans: Array<{ event: unknown }> }>(agent.url, '/api/spans?ml_app=ledger-app')
    assert.equal((await postEvp(agent.url, [spans[0].event])).status, 202)
    const doubled = await readLedger(agent, [llmobs.stats()], 'ledger-app')
    assert.equal(doubled.duplicateArrivals, 1, 'the double send is visible')
    assert.equal(doubled.lost, 0)
    assert.deepEqual(doubled.lines.find(([k]) => k === 'duplicate arrivals'), ['duplicate arrivals', 1])
    assert.deepEqual(doubled.lines.find(([k]) => k === 'delivered'), ['delivered', 2], 'stored once')
  } finally {
    await tracer.shutdown()
    await llmobs.disable()
    await agent.close()
  }
})
