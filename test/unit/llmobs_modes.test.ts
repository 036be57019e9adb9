import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { evpEvents, startSink } from '../helpers/sink.js'
import { closeRigs, llmPair, rig } from '../helpers/llmobs_setup.js'
import { log } from '../../src/diag/logger.js'

const intakes: Array<{ close: () => Promise<void> }> = []
after(async () => {
  await closeRigs()
  await Promise.allSettled(intakes.map((i) => i.close()))
})

for (const apm of [true, false]) {
  test(`agentless (${apm ? 'apm_agentless' : 'llmobs_agentless'}): everything goes to the intakes with DD-API-KEY, never through the agent`, async () => {
    const intake = await startSink()
    intakes.push(intake)
    const lines: string[] = []
    log.configure({ sink: (_l, m) => lines.push(m), debug: true })
    const r = await rig({ samplingRules: [{ sample_rate: 0 }] }, { agentlessEnabled: true, apiKey: 'sekret-key-123', intakeUrl: intake.url, evalIntakeUrl: intake.url, traceIntakeUrl: intake.url, apmTracingEnabled: apm })
    assert.equal(r.llmobs.exportMode, apm ? 'apm_agentless' : 'llmobs_agentless')
    let exported: ReturnType<typeof r.llmobs.exportSpan>
    await r.llmobs.trace({ kind: 'llm', name: 'scored' }, (span) => { exported = r.llmobs.exportSpan(span) })
    r.llmobs.submitEvaluation(exported, { label: 'ok', metricType: 'boolean', value: true })
    await llmPair(r.llmobs)
    await r.llmobs.flush()
    log.configure({ sink: () => {}, debug: false })
    for (const req of intake.all) assert.equal(req.headers['dd-api-key'], 'sekret-key-123')
    assert.equal(intake.to('/api/intake/llm-obs/v2/eval-metric').length, 1)
    assert.equal(r.sink.all.filter((q) => q.url !== '/info').length, 0, 'nothing through the agent')
    const s = r.llmobs.stats()
    if (apm) {
      // No Agent sampler in between: unsampled chunks go to the trace intake with _llmobs inline.
      const traces = intake.to('/v1/input').flatMap((q) => JSON.parse(q.body.toString()).traces as Array<{ spans: any[] }>)
      const spans = traces.flatMap((t) => t.spans)
      assert.deepEqual(spans.map((x) => x.name).sort(), ['flow', 'flow.llm', 'scored'])
      for (const x of spans) {
        assert.match(x.trace_id, /^[0-9a-f]{16}$/)
        assert.equal(typeof x.meta_struct._llmobs, 'object', 'meta_struct inline as JSON')
        assert.equal(x.meta['_dd.llmobs.submitted'], undefined, 'no rescue in agentless APM')
      }
      for (const t of traces) assert.equal(t.spans[0].metrics._sampling_priority_v1, -1, 'unsampled, sent all the same')
      assert.match(intake.to('/v1/input')[0].body.toString(), /"start":\d{19},/)
      assert.equal(evpEvents(intake, '/api/v2/llmobs').length, 0)
      assert.deepEqual([s.rodeTrace, s.direct, s.rescuedPredictedDrop, s.delivered], [3, 0, 0, 3])
    } else {
      assert.deepEqual(evpEvents(intake, '/api/v2/llmobs').map((e) => e.name).sort(), ['flow', 'flow.llm', 'scored'])
      assert.equal(intake.to('/v1/input').length, 0, 'APM tracing disabled: no APM payload')
      assert.deepEqual([s.direct, s.delivered], [3, 3])
    }
    assert.ok(!lines.join('\n').includes('sekret-key-123'), 'the API key never reaches a log line')
    await intake.close()
  })
}

test('the agent without an EVP proxy: one warning, rescued events counted as no_evp_proxy', async () => {
  const lines: string[] = []
  log.resetWarnings()
  log.configure({ sink: (_l, m) => lines.push(m) })
  const r = await rig({ samplingRules: [{ sample_rate: 0 }] }, {}, (req) => req.url === '/info' ? { body: '{"endpoints":["/v0.4/traces"]}' } : undefined)
  await llmPair(r.llmobs)
  await r.llmobs.flush()
  log.configure({ sink: () => {} })
  assert.equal(lines.filter((l) => l.includes('no EVP proxy')).length, 1)
  const s = r.llmobs.stats()
  assert.equal(s.dropped.no_evp_proxy, 2)
  assert.equal(s.pending, 0)
  assert.equal(s.created, s.delivered + 2)
})

test('an unreachable agent at enable still means apm_agent: events buffer and go out when it comes up', async () => {
  const r = await rig({}, {}, (_req, i) => i < 3 ? { destroy: true } : undefined)
  assert.equal(r.llmobs.exportMode, 'apm_agent')
  await llmPair(r.llmobs)
  await r.llmobs.flush()
  const s = r.llmobs.stats()
  assert.equal(s.delivered, 2)
  assert.equal(s.pending, 0)
})

test('printing or serialising the SDK never shows the API key', async () => {
  const { inspect } = await import('node:util')
  const intake = await startSink()
  const r = await rig({}, { agentlessEnabled: true, apiKey: 'printed-key-987', intakeUrl: intake.url, evalIntakeUrl: intake.url })
  assert.ok(!inspect(r.llmobs, { depth: 20, showHidden: true }).includes('printed-key-987'))
  assert.ok(!JSON.stringify(r.llmobs).includes('printed-key-987'))
  assert.match(inspect(r.llmobs), /LLMObs \{ enabled: true, exportMode: apm_agentless \}/)
  await intake.close()
})
