import { test } from 'node:test'
import assert from 'node:assert/strict'
import { tracer, llmobs } from '../../src/index.js'
import { decodeMsgpack, evpEvents, startSink, v04Chunks } from '../helpers/sink.js'

// One process per test file: the tracer and llmobs are process-wide singletons.
const sink = await startSink()
tracer.init({ url: sink.url, service: 'chat-svc', env: 'test', flushIntervalMs: 60_000, samplingRules: [{ sample_rate: 1, name: 'kept*' }, { sample_rate: 0 }] })
llmobs.enable({ mlApp: 'sink-app' })

async function pair (rootName: string): Promise<void> {
  await llmobs.trace({ kind: 'workflow', name: rootName }, async () => {
    await llmobs.trace({ kind: 'llm', name: 'chat', modelName: 'gpt-4o', modelProvider: 'openai' }, async (span) => {
      llmobs.annotate(span, {
        inputData: [{ role: 'user', content: 'hi' }],
        outputData: { role: 'assistant', content: 'hello', toolCalls: [{ name: 'lookup', arguments: { q: 1 }, toolId: 't1' }] },
        metrics: { inputTokens: 10, outputTokens: 20, totalTokens: 30 },
        metadata: { temperature: 0, flags: [true, null, false] },
      })
    })
  })
}

test('a kept trace carries the events as meta_struct bin on v0.4; nothing goes through the EVP proxy', async () => {
  await pair('kept-flow')
  await llmobs.flush()
  const spans = v04Chunks(sink).flat()
  const llm = spans.find((s) => s.name === 'chat') as Record<string, unknown>
  assert.ok(llm !== undefined)
  assert.equal(llm.type, 'llm')
  // As dd-trace: the resource is the span's name (not its kind), and the span is measured.
  assert.equal(llm.resource, 'chat')
  assert.equal((llm.metrics as Record<string, number>)['_dd.measured'], 1)
  const ms = llm.meta_struct as Record<string, Uint8Array>
  assert.ok(ms._llmobs instanceof Uint8Array)
  const doc = decodeMsgpack(ms._llmobs) as Record<string, any>
  assert.equal(doc.name, 'chat')
  assert.equal(doc.ml_app, 'sink-app')
  assert.match(doc.trace_id, /^[0-9a-f]{32}$/)
  assert.deepEqual(doc.meta.span, { kind: 'llm' })
  assert.equal(doc.meta.model_name, 'gpt-4o')
  assert.deepEqual(doc.meta.input, { messages: [{ role: 'user', content: 'hi' }] })
  assert.deepEqual(doc.meta.output.messages[0].tool_calls, [{ name: 'lookup', arguments: { q: 1 }, tool_id: 't1' }])
  assert.deepEqual(doc.meta.metadata, { temperature: 0, flags: [true, null, false] }, 'lossless: null and booleans inside arrays')
  assert.deepEqual(doc.metrics, { input_tokens: 10, output_tokens: 20, total_tokens: 30 })
  assert.equal(doc.tags.ml_app, 'sink-app')
  const wf = spans.find((s) => s.name === 'kept-flow') as Record<string, any>
  const wfDoc = decodeMsgpack(wf.meta_struct._llmobs) as Record<string, any>
  assert.equal(doc.parent_id, BigInt(wf.span_id).toString(), 'llm span is parented to the workflow')
  assert.equal(wfDoc.parent_id, 'undefined')
  assert.equal(wfDoc.trace_id, doc.trace_id)
  assert.equal(evpEvents(sink).length, 0)
  const s = llmobs.stats()
  assert.equal(s.created, 2)
  assert.equal(s.rodeTrace, 2)
  assert.equal(s.delivered, 2)
  assert.equal(s.pending, 0)
})

test('a predicted drop is rescued: tagged, scrubbed, shipped once through the EVP proxy, priority untouched', async () => {
  const before = llmobs.stats()
  await pair('dropped-flow')
  await llmobs.flush()
  const spans = v04Chunks(sink).flat().filter((s) => s.name === 'dropped-flow' || (s.name === 'chat' && (s.meta as Record<string, string>)['_dd.llmobs.submitted'] === '1'))
  assert.equal(spans.length, 2)
  for (const s of spans) {
    assert.equal(s.meta_struct, undefined, 'no _llmobs left on a rejected span')
    assert.equal((s.meta as Record<string, string>)['_dd.llmobs.submitted'], '1')
  }
  const root = spans.find((s) => s.name === 'dropped-flow') as Record<string, any>
  assert.equal(root.metrics._sampling_priority_v1, -1, 'priority unchanged by LLMObs')
  const events = evpEvents(sink)
  assert.equal(events.length, 2)
  const names = events.map((e) => e.name).sort()
  assert.deepEqual(names, ['chat', 'dropped-flow'])
  const req = sink.to('/evp_proxy/v2/api/v2/llmobs')[0]
  assert.equal(req.headers['x-datadog-evp-subdomain'], 'llmobs-intake')
  assert.match(req.body.toString(), /"start_ns":\d{19},/, 'start_ns is an exact JSON integer')
  const chat = events.find((e) => e.name === 'chat') as Record<string, any>
  assert.equal(chat.status, 'ok')
  assert.ok(chat.tags.includes('ml_app:sink-app'))
  assert.ok(chat.tags.includes('language:javascript'))
  assert.deepEqual([...chat.tags].sort(), chat.tags)
  assert.equal(chat._dd.apm_trace_id.length, 32)
  const s = llmobs.stats()
  assert.equal(s.created - before.created, 2)
  assert.equal(s.rescuedPredictedDrop - before.rescuedPredictedDrop, 2)
  assert.equal(s.delivered - before.delivered, 2)
  assert.equal(s.pending, 0)
})

test('evaluations join on exportSpan identity', async () => {
  let exported: ReturnType<typeof llmobs.exportSpan>
  await llmobs.trace({ kind: 'llm', name: 'kept-eval' }, (span) => { exported = llmobs.exportSpan(span) })
  llmobs.submitEvaluation(exported, { label: 'correctness', metricType: 'categorical', value: 'correct' })
  await llmobs.flush()
  const req = sink.to('/evp_proxy/v2/api/intake/llm-obs/v2/eval-metric')
  assert.equal(req.length, 1)
  assert.equal(req[0].headers['x-datadog-evp-subdomain'], 'api')
  const metric = JSON.parse(req[0].body.toString()).data.attributes.metrics[0]
  assert.deepEqual(metric.join_on, { span: { span_id: exported?.spanId, trace_id: exported?.traceId } })
  assert.equal(metric.categorical_value, 'correct')
  const spans = v04Chunks(sink).flat()
  const s = spans.find((x) => x.name === 'kept-eval') as Record<string, any>
  const doc = decodeMsgpack(s.meta_struct._llmobs) as Record<string, any>
  assert.equal(doc.trace_id, exported?.traceId)
  assert.equal(BigInt(s.span_id).toString(), exported?.spanId)
  await tracer.shutdown()
  await llmobs.disable()
  await sink.close()
})
