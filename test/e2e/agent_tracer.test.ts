import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAgent } from '../../src/agent/start_agent.js'
import type { SpanRecord } from '../../src/agent/store_queries.js'
import { Tracer } from '../../src/root/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import type { Span } from '../../src/trace/span.js'
import { hexToDecimal } from '../../src/model/ids.js'
import { epochNsString } from '../../src/model/clock.js'
import {
  counters, expected, getJson, llmobsDoc, postEvp, putTraces, request, spanData, spanEvent, v04Body,
} from '../helpers/agent_client.js'

type Priority = 'default' | 'keep' | 'drop' | 'upstream0'

/** A root span with one LLM child carrying `_llmobs`; returns the child. */
function llmTrace (tracer: Tracer, llmobsTraceId: string, priority: Priority, error = false): Span {
  const childOf = priority === 'upstream0'
    ? tracer.extract({ 'x-datadog-trace-id': String(1000 + Math.floor(Math.random() * 1e9)), 'x-datadog-parent-id': '7', 'x-datadog-sampling-priority': '0' })
    : undefined
  const root = tracer.startSpan('request', childOf === null || childOf === undefined ? {} : { childOf })
  if (priority === 'keep') root.keep()
  if (priority === 'drop') root.drop()
  const llm = tracer.startSpan('llm.call', { childOf: root })
  llm.setMetaStruct('_llmobs', llmobsDoc(llmobsTraceId))
  if (error) llm.setError(new TypeError('boom'))
  llm.finish()
  root.finish()
  return llm
}

async function spans (url: string, query = ''): Promise<SpanRecord[]> {
  return (await getJson<{ spans: SpanRecord[] }>(url, `/api/spans?limit=1000${query}`)).spans
}

test('our tracer → agent: >0 extracted, 0 and -1 dropped, 0 with an error kept up to the cap, -1 never', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:', errorsPerSecond: 2 })
  const tracer = new Tracer({ url: agent.url, service: 'svc', flushIntervalMs: 60_000 })
  try {
    const kept1 = llmTrace(tracer, 'lt-a', 'default')
    llmTrace(tracer, 'lt-b', 'keep')
    llmTrace(tracer, 'lt-c', 'upstream0')
    llmTrace(tracer, 'lt-d', 'upstream0')
    for (const id of ['lt-e', 'lt-f', 'lt-g']) llmTrace(tracer, id, 'upstream0', true)
    llmTrace(tracer, 'lt-h', 'drop')
    llmTrace(tracer, 'lt-i', 'drop', true)
    await tracer.flush()

    assert.deepEqual(await counters(agent.url), expected({
      payloads_received: 1,
      chunks_received: 9,
      chunks_dropped_sampling: 5, // c, d, one of e/f/g, h, i
      chunks_kept_errors: 2,
      llmobs_extracted: 4,
    }))
    const stored = await spans(agent.url)
    const ids = stored.map((s) => s.trace_id).sort()
    assert.equal(ids.length, 4)
    assert.deepEqual(ids.slice(0, 2), ['lt-a', 'lt-b'])
    assert.ok(ids.slice(2).every((id) => ['lt-e', 'lt-f', 'lt-g'].includes(id)))

    const a = stored.find((s) => s.trace_id === 'lt-a')
    assert.ok(a !== undefined)
    const spanId = hexToDecimal(kept1.spanId)
    const apmTrace = kept1.trace.traceIdHigh + kept1.trace.traceIdLow
    assert.equal(a.span_id, spanId)
    assert.equal(a.start_ns, epochNsString(kept1.startSec, kept1.startNsec))
    assert.equal(a.duration, kept1.duration)
    assert.equal(a.kind, 'llm')
    assert.equal(a.ml_app, 'test-app')
    assert.equal(a.path, 'trace')
    const event = a.event as Record<string, unknown>
    assert.deepEqual(event._dd, { span_id: spanId, trace_id: apmTrace, apm_trace_id: apmTrace })
    assert.deepEqual(event.tags, ['env:test', 'ml_app:test-app', 'service:svc'])
    assert.equal(event.parent_id, 'undefined')
    assert.equal(event.session_id, 'sess-1')
    assert.ok(stored.filter((s) => s.trace_id >= 'lt-e').every((s) => s.status === 'error'))

    const chunks = (await getJson<{ chunks: Array<{ priority: number, kept: boolean }> }>(agent.url, '/api/chunks')).chunks
    const byPriority = (p: number): boolean[] => chunks.filter((c) => c.priority === p).map((c) => c.kept).sort()
    assert.deepEqual(byPriority(1), [true])
    assert.deepEqual(byPriority(2), [true])
    assert.deepEqual(byPriority(-1), [false, false])
    assert.deepEqual(byPriority(0), [false, false, false, true, true])
  } finally {
    await tracer.shutdown()
    await agent.close()
  }
})

test('dedup across paths: EVP-then-trace and trace-then-EVP are stored once and counted', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const tracer = new Tracer({ url: agent.url, service: 'svc', flushIntervalMs: 60_000 })
  try {
    // EVP first: the rescued copy arrives before the trace that still carries it.
    const first = llmTrace(tracer, 'dup-1', 'default')
    assert.equal((await postEvp(agent.url, [spanEvent('dup-1', hexToDecimal(first.spanId))])).status, 202)
    await tracer.flush()
    // Trace first, then the EVP copy.
    const second = llmTrace(tracer, 'dup-2', 'default')
    await tracer.flush()
    assert.equal((await postEvp(agent.url, [spanEvent('dup-2', hexToDecimal(second.spanId))])).status, 202)

    assert.deepEqual(await counters(agent.url), expected({
      payloads_received: 4, chunks_received: 2, llmobs_extracted: 2, llmobs_evp: 2, duplicates_suppressed: 2,
    }))
    const stored = await spans(agent.url)
    assert.deepEqual(stored.map((s) => [s.trace_id, s.span_id, s.path]).sort(), [
      ['dup-1', hexToDecimal(first.spanId), 'evp'],
      ['dup-2', hexToDecimal(second.spanId), 'trace'],
    ])
  } finally {
    await tracer.shutdown()
    await agent.close()
  }
})

test('/v1/input (agentless APM JSON): no sampling for LLMObs extraction, path agentless, dedup with EVP', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const span = (id: string, priority: number, llmobsTrace: string): Record<string, unknown> => ({
      trace_id: 'abcdef0123456789', span_id: id, parent_id: '0', name: 'llm', service: 's', resource: 'r',
      start: '1700000000000000123', duration: 10, error: 0,
      meta: { '_dd.p.tid': '6553f10000000000' }, metrics: { _sampling_priority_v1: priority },
      meta_struct: { _llmobs: llmobsDoc(llmobsTrace) },
    })
    const body = JSON.stringify({ traces: [{ spans: [span('00000000000000a1', -1, 'ai-1')] }, [span('00000000000000a2', 0, 'ai-2')]] })
    const r = await request(agent.url, '/v1/input', { method: 'POST', headers: { 'Content-Type': 'application/json', 'DD-API-KEY': 'k' }, body })
    assert.equal(r.status, 202, r.body)
    await postEvp(agent.url, [spanEvent('ai-1', String(0xa1))])
    assert.deepEqual(await counters(agent.url), expected({ payloads_received: 2, chunks_received: 2, llmobs_extracted: 2, llmobs_evp: 1, duplicates_suppressed: 1 }))
    const stored = await spans(agent.url)
    assert.deepEqual(stored.map((s) => [s.trace_id, s.span_id, s.path, s.start_ns]).sort(), [
      ['ai-1', '161', 'agentless', '1700000000000000123'],
      ['ai-2', '162', 'agentless', '1700000000000000123'],
    ])
    assert.equal((stored[0].event as { _dd: { apm_trace_id: string } })._dd.apm_trace_id, '6553f10000000000abcdef0123456789')
    const noKey = await request(agent.url, '/v1/input', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body })
    assert.equal(noKey.status, 403)
  } finally {
    await agent.close()
  }
})

test('the Agent reads the priority from the first span carrying it; invalid chunks are dropped, not refused', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const doc = llmobsDoc('first-carrier')
    const chunk = [
      spanData({ traceId: '00000000000000b1', metrics: {}, metaStruct: { _llmobs: doc } }),
      spanData({ traceId: '00000000000000b1', parentId: '0000000000000001', metrics: { _sampling_priority_v1: -1 } }),
      spanData({ traceId: '00000000000000b1', parentId: '0000000000000001', metrics: { _sampling_priority_v1: 2 } }),
    ]
    const zeroSpanId = [spanData({ traceId: '00000000000000b2', spanId: '0000000000000000', metrics: { _sampling_priority_v1: 1 }, metaStruct: { _llmobs: llmobsDoc('invalid') } })]
    const mixed = [spanData({ traceId: '00000000000000b3', metrics: { _sampling_priority_v1: 1 } }), spanData({ traceId: '00000000000000b4' })]
    const noPriority = [spanData({ traceId: '00000000000000b5', meta: { '_dd.p.tid': '6553f10000000000' }, metaStruct: { _llmobs: llmobsDoc('no-priority') } })]
    const r = await putTraces(agent.url, v04Body([chunk, zeroSpanId, mixed, [], noPriority]))
    assert.equal(r.status, 200, r.body)
    assert.deepEqual(await counters(agent.url), expected({
      payloads_received: 1, chunks_received: 4, chunks_dropped_sampling: 1, chunks_dropped_invalid: 2, llmobs_extracted: 1,
    }))
    const stored = await spans(agent.url)
    assert.deepEqual(stored.map((s) => s.trace_id), ['no-priority'])
    assert.equal((stored[0].event as { _dd: { apm_trace_id: string } })._dd.apm_trace_id, '6553f1000000000000000000000000b5')
  } finally {
    await agent.close()
  }
})

test('a file store survives a restart: spans, counters, and dedup against what was stored before', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-restart-'))
  const db = join(dir, 'sub', 'agent.db')
  try {
    const body = v04Body([[spanData({ traceId: '00000000000000c1', spanId: '00000000000000c2', metrics: { _sampling_priority_v1: 1 }, metaStruct: { _llmobs: llmobsDoc('persist') } })]])
    const a = await startAgent({ port: 0, db })
    assert.equal((await putTraces(a.url, body)).status, 200)
    await a.close()
    const b = await startAgent({ port: 0, db })
    try {
      assert.deepEqual(await counters(b.url), expected({ payloads_received: 1, chunks_received: 1, llmobs_extracted: 1 }))
      assert.deepEqual((await spans(b.url)).map((s) => [s.trace_id, s.span_id]), [['persist', String(0xc2)]])
      assert.equal((await putTraces(b.url, body)).status, 200)
      assert.deepEqual(await counters(b.url), expected({ payloads_received: 2, chunks_received: 2, llmobs_extracted: 2, duplicates_suppressed: 1 }))
      assert.equal((await spans(b.url)).length, 1)
    } finally {
      await b.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('LLMObs SDK → agent: kept traces carry their events, dropped ones are rescued via EVP; each stored exactly once', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const tracer = new Tracer({ url: agent.url, service: 'sdk-svc', flushIntervalMs: 60_000 })
  const llmobs = new LLMObs(() => tracer)
  try {
    assert.equal(llmobs.enable({ mlApp: 'sdk-app' }), true)
    for (const p of ['keep', 'drop']) {
      await llmobs.trace({ kind: 'workflow', name: `wf-${p}` }, async (span) => {
        if (p === 'drop') span.drop()
        await llmobs.trace({ kind: 'llm', name: `chat-${p}`, modelName: 'm' }, async (s) => {
          llmobs.annotate(s, { inputData: 'hi', outputData: 'yo', metrics: { inputTokens: 1, outputTokens: 1, totalTokens: 2 } })
        })
      })
    }
    await tracer.flush()
    await llmobs.flush()
    const stored = await spans(agent.url, '&ml_app=sdk-app')
    assert.deepEqual(stored.map((s) => [s.name, s.kind, s.path]).sort(), [
      ['chat-drop', 'llm', 'evp'], ['chat-keep', 'llm', 'trace'], ['wf-drop', 'workflow', 'evp'], ['wf-keep', 'workflow', 'trace'],
    ])
    const c = await counters(agent.url)
    assert.equal(c.llmobs_extracted, 2)
    assert.equal(c.llmobs_evp, 2)
    assert.equal(c.duplicates_suppressed, 0)
    assert.equal(c.chunks_dropped_sampling, 1)
    assert.equal(c.requests_rejected, 0)
    // The child's parent is its workflow whichever path each came by.
    const keep = stored.filter((s) => s.name.endsWith('-keep'))
    assert.equal(keep.find((s) => s.kind === 'llm')?.parent_id, keep.find((s) => s.kind === 'workflow')?.span_id)
  } finally {
    await llmobs.disable()
    await tracer.shutdown()
    await agent.close()
  }
})
