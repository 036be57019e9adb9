import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeMsgpack, evpEvents, v04Chunks } from '../helpers/sink.js'
import { closeRigs, llmPair, rig } from '../helpers/llmobs_setup.js'

after(closeRigs)
import type { SpanData } from '../../src/model/span_data.js'
import { Tracer } from '../../src/root/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { log } from '../../src/diag/logger.js'

const SUBMITTED = '_dd.llmobs.submitted'
type Wire = Record<string, any>

function byName (spans: Wire[], name: string): Wire {
  const s = spans.find((x) => x.name === name)
  assert.ok(s !== undefined, `span ${name} on the wire`)
  return s
}

test('USER_REJECT by rule: both events rescued through the EVP proxy, spans tagged and scrubbed', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 0 }] })
  await llmPair(r.llmobs)
  await r.llmobs.flush()
  const spans = v04Chunks(r.sink).flat()
  for (const s of spans) {
    assert.equal(s.meta[SUBMITTED], '1')
    assert.equal(s.meta_struct, undefined)
  }
  assert.equal(byName(spans, 'flow').metrics._sampling_priority_v1, -1)
  assert.equal(byName(spans, 'flow').metrics['_dd.rule_psr'], 0)
  assert.equal(byName(spans, 'flow').meta['_dd.p.dm'], undefined, 'rejected: no decision maker, as the sampler left it')
  assert.deepEqual(evpEvents(r.sink).map((e) => e.name).sort(), ['flow', 'flow.llm'])
  const s = r.llmobs.stats()
  assert.deepEqual({ created: s.created, rescued: s.rescuedPredictedDrop, rode: s.rodeTrace, delivered: s.delivered, pending: s.pending }, { created: 2, rescued: 2, rode: 0, delivered: 2, pending: 0 })
  await r.close()
})

test('AUTO_REJECT by agent rate: rescued', async () => {
  const r = await rig({}, {}, (req) => req.url === '/v0.4/traces' ? { body: '{"rate_by_service":{"service:,env:":0}}' } : undefined)
  await llmPair(r.llmobs, 'warmup') // first trace kept (no rates yet); its response sets rate 0
  await r.llmobs.flush()
  await llmPair(r.llmobs, 'second')
  await r.llmobs.flush()
  const spans = v04Chunks(r.sink).flat()
  assert.equal(byName(spans, 'second').metrics._sampling_priority_v1, 0)
  assert.equal(byName(spans, 'second').meta[SUBMITTED], '1')
  assert.equal(byName(spans, 'warmup').meta[SUBMITTED], undefined)
  assert.ok(byName(spans, 'warmup').meta_struct._llmobs instanceof Uint8Array)
  assert.deepEqual(evpEvents(r.sink).map((e) => e.name).sort(), ['second', 'second.llm'])
  const s = r.llmobs.stats()
  assert.equal(s.rodeTrace, 2)
  assert.equal(s.rescuedPredictedDrop, 2)
  assert.equal(s.delivered, 4)
  await r.close()
})

test('USER_KEEP (manual keep on a rule-0 trace): events ride, nothing rescued', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 0 }] })
  await r.llmobs.trace({ kind: 'workflow', name: 'kept' }, async (span) => {
    span.keep()
    await r.llmobs.trace({ kind: 'llm', name: 'kept.llm' }, () => {})
  })
  await r.llmobs.flush()
  const spans = v04Chunks(r.sink).flat()
  assert.equal(byName(spans, 'kept').metrics._sampling_priority_v1, 2)
  assert.equal(byName(spans, 'kept').meta['_dd.p.dm'], '-4')
  for (const s of spans) assert.ok(s.meta_struct._llmobs instanceof Uint8Array)
  assert.equal(evpEvents(r.sink).length, 0)
  assert.equal(r.llmobs.stats().rodeTrace, 2)
  await r.close()
})

test('a rejected APM root rescues its LLM child; non-LLM spans are untouched', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 0 }] })
  await r.tracer.trace('web.request', async () => {
    await r.tracer.trace('db.query', () => {})
    await r.llmobs.trace({ kind: 'llm', name: 'answer' }, () => {})
  })
  await r.llmobs.flush()
  const spans = v04Chunks(r.sink).flat()
  assert.equal(byName(spans, 'web.request').meta[SUBMITTED], undefined)
  assert.equal(byName(spans, 'db.query').meta[SUBMITTED], undefined)
  assert.equal(byName(spans, 'answer').meta[SUBMITTED], '1')
  const events = evpEvents(r.sink)
  assert.equal(events.length, 1)
  assert.equal(events[0].parent_id, 'undefined', 'an APM parent is not an LLMObs parent')
  await r.close()
})

test('an upstream USER_REJECT from extracted headers rescues (the local root priority is the upstream decision)', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 1 }] })
  const ctx = r.tracer.extract({ 'x-datadog-trace-id': '42', 'x-datadog-parent-id': '43', 'x-datadog-sampling-priority': '-1' })
  await r.tracer.trace('server', { childOf: ctx }, () => r.llmobs.trace({ kind: 'llm', name: 'downstream' }, () => {}))
  await r.llmobs.flush()
  const spans = v04Chunks(r.sink).flat()
  assert.equal(byName(spans, 'server').metrics._sampling_priority_v1, -1)
  assert.equal(byName(spans, 'downstream').meta[SUBMITTED], '1')
  assert.equal(evpEvents(r.sink).length, 1)
  await r.close()
})

test('a span carrying _llmobs without a cached event is scrubbed and tagged, nothing shipped', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 0 }] })
  r.tracer.trace('manual', (span) => { span.setMetaStruct('_llmobs', { name: 'hand-made' }) })
  await r.llmobs.flush()
  const [span] = v04Chunks(r.sink).flat()
  assert.equal(span.meta_struct, undefined)
  assert.equal(span.meta[SUBMITTED], '1')
  assert.equal(evpEvents(r.sink).length, 0)
  assert.equal(r.llmobs.stats().created, 0)
  await r.close()
})

test('idempotent: a span already rescued is not shipped again while its event is still queued (not yet settled)', async () => {
  // A long LLMObs flush interval keeps the first rescue's event in the writer's queue: its ledger
  // record is not settled, so only the submitted tag can stop a second hand-over.
  log.resetWarnings()
  const r = await rig({ samplingRules: [{ sample_rate: 0 }] }, { flushIntervalMs: 60_000 })
  let seen: SpanData[] = []
  // The same span reaches the rescue twice more: re-emitted in a later rejected chunk, and in a
  // chunk an APM user processor drops (the drop listener rescues every span of it).
  r.tracer.addProcessor((spans) => {
    if (spans.some((s) => s.name === 'once')) { seen = [...spans]; return spans }
    return [...spans, ...seen]
  })
  r.tracer.addProcessor((spans) => spans.some((s) => s.name === 'dropped-again') ? null : spans)
  await r.llmobs.trace({ kind: 'llm', name: 'once' }, () => {})
  assert.equal(seen.length, 1)
  assert.equal(seen[0].meta[SUBMITTED], '1', 'the first rescue tagged the span')
  assert.deepEqual([r.llmobs.stats().rescuedPredictedDrop, r.llmobs.stats().pending, r.sink.to('/evp_proxy/').length], [1, 1, 0], 'its event is queued, not settled')
  r.tracer.trace('again', () => {})
  r.tracer.trace('dropped-again', () => {})
  assert.equal(r.llmobs.stats().rescuedPredictedDrop, 1, 'not handed to the writer again')
  await r.llmobs.flush()
  assert.deepEqual(evpEvents(r.sink).map((e) => e.name), ['once'], 'the sink received the event once')
  const s = r.llmobs.stats()
  assert.deepEqual({ created: s.created, rescued: s.rescuedPredictedDrop, delivered: s.delivered, pending: s.pending }, { created: 1, rescued: 1, delivered: 1, pending: 0 })
  assert.equal(log.internalErrors.get('ledger.settle'), undefined, 'no event settled twice')
  await r.close()
})

test('tracer disabled: events ship directly at finish, tagged, no meta_struct and no trace payload', async () => {
  const r = await rig({ enabled: false })
  assert.equal(r.llmobs.exportMode, 'llmobs_agent_proxy')
  await llmPair(r.llmobs)
  await r.llmobs.flush()
  assert.equal(r.sink.to('/v0.4/traces').length, 0)
  assert.equal(evpEvents(r.sink).length, 2)
  const s = r.llmobs.stats()
  assert.equal(s.direct, 2)
  assert.equal(s.delivered, 2)
  await r.close()
})

test('APM tracing disabled for LLMObs: direct mode, spans exist in process but no APM payload is sent', async () => {
  const r = await rig({}, { apmTracingEnabled: false })
  assert.equal(r.llmobs.exportMode, 'llmobs_agent_proxy')
  await llmPair(r.llmobs)
  await r.llmobs.flush()
  assert.equal(r.sink.to('/v0.4/traces').length, 0)
  assert.equal(evpEvents(r.sink).length, 2)
  assert.equal(r.llmobs.stats().direct, 2)
  await r.close()
})

test('an explicit v0.5 is forced to v0.4 with one warning that says why', async () => {
  const lines: string[] = []
  log.resetWarnings()
  log.configure({ sink: (_l, m) => lines.push(m) })
  const r = await rig({ apiVersion: 'v0.5' })
  log.configure({ sink: () => {} })
  await llmPair(r.llmobs)
  await r.llmobs.flush()
  assert.equal(r.sink.to('/v0.5/traces').length, 0)
  assert.equal(r.sink.to('/v0.4/traces').length, 1)
  assert.equal(lines.filter((l) => l.includes('requires v0.4 to transmit meta_struct')).length, 1)
  await r.close()
})

test('chain order: user processors run before the rescue, tags after it; an APM user drop is a predicted drop', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 0 }] })
  const seenByUser: Array<string | undefined> = []
  r.tracer.addProcessor((spans) => {
    for (const s of spans) seenByUser.push(s.meta[SUBMITTED])
    return spans[0].name === 'filtered' ? null : spans
  })
  await r.llmobs.trace({ kind: 'llm', name: 'filtered' }, () => {})
  await r.llmobs.trace({ kind: 'llm', name: 'plain' }, () => {})
  await r.llmobs.flush()
  assert.deepEqual(seenByUser, [undefined, undefined], 'user processors see spans before the rescue tags them')
  const wire = v04Chunks(r.sink).flat()
  assert.deepEqual(wire.map((s) => s.name), ['plain'])
  assert.equal(wire[0].meta.language, 'javascript', 'tags processor ran after the rescue')
  assert.deepEqual(evpEvents(r.sink).map((e) => e.name).sort(), ['filtered', 'plain'])
  assert.equal(r.llmobs.stats().rescuedPredictedDrop, 2)
  await r.close()
})

for (const [label, script, reason] of [
  ['persistent 503', () => ({ status: 503 }), 'retries_exhausted'],
  ['400 refused', () => ({ status: 400 }), 'refused'],
  ['413 single chunk', () => ({ status: 413 }), 'too_large'],
] as const) {
  test(`APM payload fails (${label}): riding events are rescued through the LLMObs writer, none lost`, async () => {
    const r = await rig({}, {}, (req) => req.url === '/v0.4/traces' ? script() : undefined)
    await llmPair(r.llmobs)
    await r.llmobs.flush()
    assert.equal(r.sink.requests.filter((q) => q.url === '/v0.4/traces').length, 0)
    assert.deepEqual(evpEvents(r.sink).map((e) => e.name).sort(), ['flow', 'flow.llm'])
    const s = r.llmobs.stats()
    assert.equal(s.rodeTrace, 2)
    assert.equal(s.rescuedPayloadFailed, 2)
    assert.equal(s.delivered, 2)
    assert.equal(s.pending, 0)
    assert.equal(r.tracer.writer?.stats.chunksFailed[reason], 1)
    await r.close()
  })
}

test('registerProcessor: redaction is applied before anything is attached; null drops and is counted', async () => {
  const r = await rig()
  r.llmobs.registerProcessor((e) => {
    if (e.name === 'secret') return null
    if (e.meta.input !== undefined && 'value' in e.meta.input) e.meta.input.value = '[redacted]'
    return e
  })
  await r.llmobs.trace({ kind: 'task', name: 'secret' }, () => {})
  await r.llmobs.trace({ kind: 'task', name: 'visible' }, (span) => r.llmobs.annotate(span, { inputData: 'password=hunter2' }))
  await r.llmobs.flush()
  const wire = v04Chunks(r.sink).flat()
  assert.equal(byName(wire, 'secret').meta_struct, undefined)
  const doc = decodeMsgpack(byName(wire, 'visible').meta_struct._llmobs) as any
  assert.deepEqual(doc.meta.input, { value: '[redacted]' })
  assert.ok(!JSON.stringify(r.sink.all.map((q) => q.body.toString('latin1'))).includes('hunter2'))
  const s = r.llmobs.stats()
  assert.equal(s.created, 2)
  assert.equal(s.dropped.user_processor, 1)
  assert.equal(s.delivered, 1)
  assert.equal(s.pending, 0)
  await r.close()
})

test('an oversized event is truncated per field with a marker, not dropped', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 0 }] })
  const big = 'x'.repeat(1_500_000)
  await r.llmobs.trace({ kind: 'llm', name: 'huge' }, (span) => r.llmobs.annotate(span, { inputData: [{ role: 'user', content: big }, { role: 'user', content: 'small' }], outputData: 'ok' }))
  await r.llmobs.flush()
  const [event] = evpEvents(r.sink) as any[]
  assert.equal(event.meta.input.messages[1].content, 'small', 'shorter fields kept intact')
  const cut = event.meta.input.messages[0].content as string
  assert.match(cut, /…\[truncated \d+ bytes to fit the event size limit\]$/)
  assert.ok(cut.length > 900_000, 'kept as much as fits')
  assert.deepEqual(event.collection_errors, ['truncated_io'])
  const envelopeBytes = Buffer.byteLength(JSON.stringify(event))
  assert.ok(envelopeBytes <= 1_047_552, `${envelopeBytes} bytes`)
  assert.equal(r.llmobs.stats().truncated, 1)
  await r.close()
})

test('distributed: the downstream LLMObs span continues the upstream LLMObs trace under the calling span', async () => {
  const up = await rig()
  const down = await rig()
  const headers: Record<string, string> = {}
  let upstreamLlm: any
  await up.llmobs.trace({ kind: 'agent', name: 'caller' }, async () => {
    await up.llmobs.trace({ kind: 'tool', name: 'call-remote' }, (span) => {
      upstreamLlm = up.llmobs.exportSpan(span)
      up.tracer.inject(span, headers)
    })
  })
  const ctx = down.tracer.extract(headers)
  await down.tracer.trace('server', { childOf: ctx }, () => down.llmobs.trace({ kind: 'workflow', name: 'remote-work' }, () => {}))
  await up.llmobs.flush()
  await down.llmobs.flush()
  const wire = v04Chunks(down.sink).flat()
  const doc = decodeMsgpack(byName(wire, 'remote-work').meta_struct._llmobs) as any
  assert.equal(doc.parent_id, upstreamLlm.spanId)
  assert.equal(doc.trace_id, upstreamLlm.traceId)
  assert.equal(doc.ml_app, 'rig-app')
  await up.close()
  await down.close()
})

test('agentless without an API key: a clear warning and LLM Observability stays off', async () => {
  const lines: string[] = []
  log.configure({ sink: (_l, m) => lines.push(m) })
  const t = new Tracer({ enabled: false })
  const l = new LLMObs(() => t)
  assert.equal(l.enable({ agentlessEnabled: true }), false)
  assert.equal(l.enabled, false)
  assert.equal(l.enable({ agentlessEnabled: true, apiKey: 'k', intakeUrl: 'http://intake.example.com' }), false, 'plain http to a remote host refused')
  log.configure({ sink: () => {} })
  assert.ok(lines.some((x) => x.includes('needs an API key')))
  assert.ok(lines.some((x) => x.includes('https://')))
  assert.ok(!lines.join('\n').includes("'k'"))
  await t.shutdown()
})

test('an APM user processor that filters LLM spans out of a kept chunk: their events are rescued, none pending', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 1 }] })
  r.tracer.addProcessor((spans) => spans.filter((s) => s.name !== 'flow.llm'))
  await llmPair(r.llmobs)
  await r.llmobs.flush()
  const wire = v04Chunks(r.sink).flat()
  assert.deepEqual(wire.map((s) => s.name), ['flow'])
  assert.deepEqual(evpEvents(r.sink).map((e) => e.name), ['flow.llm'])
  const s = r.llmobs.stats()
  assert.equal(s.rescuedPredictedDrop, 1)
  assert.equal(s.rodeTrace, 1)
  assert.equal(s.delivered, 2)
  assert.equal(s.pending, 0)
  await r.close()
})

test('disable() with an LLM span in a trace still open: the event is still delivered when the trace closes as a drop', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 0 }] })
  const root = r.tracer.startSpan('open-root')
  await r.tracer.activate(root, () => r.llmobs.trace({ kind: 'llm', name: 'inside-open' }, () => {}))
  await r.llmobs.disable()
  root.finish()
  await r.tracer.flush()
  await r.llmobs.flush()
  // flush() on a disabled llmobs is a no-op: the retired core's writer sends on its own interval.
  await r.sink.waitFor(() => evpEvents(r.sink).length > 0)
  assert.deepEqual(evpEvents(r.sink).map((e) => e.name), ['inside-open'])
  const chat = v04Chunks(r.sink).flat().find((s) => s.name === 'inside-open')
  assert.equal(chat?.meta_struct, undefined)
  await r.close()
})

test('distributed: an LLMObs parent id from the headers that is not a span id is not used (the span becomes an LLMObs root)', async () => {
  const down = await rig()
  for (const bad of ['0', 'abc', '12345678901234567890123', '-5']) {
    const ctx = down.tracer.extract({ 'x-datadog-trace-id': '77', 'x-datadog-parent-id': '5', 'x-datadog-tags': `_dd.p.llmobs_parent_id=${bad},_dd.p.llmobs_trace_id=1234` })
    await down.tracer.trace('server', { childOf: ctx }, () => down.llmobs.trace({ kind: 'workflow', name: `remote-${bad}` }, () => {}))
  }
  await down.llmobs.flush()
  const wire = v04Chunks(down.sink).flat().filter((s) => String(s.name).startsWith('remote-'))
  assert.equal(wire.length, 4)
  for (const s of wire) assert.equal((decodeMsgpack(s.meta_struct._llmobs) as any).parent_id, 'undefined', s.name)
  await down.close()
})

test('an LLM span whose ids were overwritten with something the Agent discards is rescued, not sent to ride to nowhere', async () => {
  const r = await rig({ samplingRules: [{ sample_rate: 1 }] })
  await r.llmobs.trace({ kind: 'llm', name: 'zeroed' }, (span) => { span.traceId = '0000000000000000' })
  await r.llmobs.trace({ kind: 'llm', name: 'zero-span' }, (span) => { span.spanId = '0000000000000000' })
  await r.llmobs.trace({ kind: 'llm', name: 'fine' }, () => {})
  await r.llmobs.flush()
  assert.deepEqual(evpEvents(r.sink).map((e) => e.name).sort(), ['zero-span', 'zeroed'])
  const s = r.llmobs.stats()
  // Not a predicted drop: the payload itself could never be accepted, so it counts as a failed one.
  assert.deepEqual([s.rodeTrace, s.rescuedPayloadFailed, s.delivered, s.pending], [1, 2, 3, 0])
  await r.close()
})
