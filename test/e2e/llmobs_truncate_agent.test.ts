import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent } from '../../src/agent/start_agent.js'
import { DEFAULTS } from '../../src/config/defaults.js'
import { log } from '../../src/diag/logger.js'
import { Tracer } from '../../src/root/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { getJson } from '../helpers/agent_client.js'

log.configure({ sink: () => {} })

const LIMIT = DEFAULTS.llmobs.eventSizeLimit
const MB = 1024 * 1024
const MARKER_RE = /…\[truncated (\d+) bytes to fit the event size limit\]$/

/** Both ways an event reaches the agent: riding its APM trace (meta_struct) and the EVP proxy. */
const MODES = [
  { mode: 'apm_agent', path: 'trace', llmobs: {} },
  { mode: 'llmobs_agent_proxy', path: 'evp', llmobs: { apmTracingEnabled: false } },
] as const

for (const m of MODES) {
  test(`oversized events arrive at the local agent cut to fit, as much kept as fits [${m.mode}]`, async () => {
    const agent = await startAgent({ port: 0, db: ':memory:' })
    const tracer = new Tracer({ url: agent.url, flushIntervalMs: 60_000, samplingRules: [{ sample_rate: 1 }] })
    const llmobs = new LLMObs(() => tracer)
    const mlApp = `trunc-${m.mode}`
    llmobs.enable({ mlApp, ...m.llmobs })
    try {
      await check(llmobs, agent.url, mlApp, m.path)
    } finally {
      await tracer.shutdown()
      await llmobs.disable()
      await agent.close()
    }
  })
}

async function check (llmobs: LLMObs, url: string, mlApp: string, path: string): Promise<void> {
  {
    const big = 5 * MB
    await llmobs.trace({ kind: 'llm', name: 'tag-3mb' }, (span) => {
      llmobs.annotate(span, { tags: { huge: 'h'.repeat(3_000_000), small: 'kept' }, inputData: 'question', outputData: 'answer' })
    })
    await llmobs.trace({ kind: 'llm', name: 'io-5mb' }, (span) => {
      llmobs.annotate(span, {
        inputData: [{ role: 'user', content: 'i'.repeat(big) }],
        outputData: [{ role: 'assistant', content: 'o'.repeat(big) }],
        metadata: { notes: 'm'.repeat(big), temperature: 0.2 },
      })
    })
    await llmobs.flush()
    const { spans } = await getJson<{ spans: Array<{ name: string, path: string, event: any }> }>(url, `/api/spans?ml_app=${mlApp}`)
    assert.equal(spans.length, 2)
    const byName = (n: string): any => { const s = spans.find((x) => x.name === n); assert.ok(s !== undefined, n); assert.equal(s.path, path); return s.event }

    const tagged = byName('tag-3mb')
    const tagBytes = Buffer.byteLength(JSON.stringify(tagged))
    assert.ok(tagBytes <= LIMIT && tagBytes > 1_000_000, `${tagBytes} bytes stored`)
    const huge: string = tagged.tags.find((t: string) => t.startsWith('huge:'))
    const hm = MARKER_RE.exec(huge)
    assert.ok(hm !== null, huge.slice(-80))
    const kept = huge.slice('huge:'.length, hm.index)
    assert.equal(kept, 'h'.repeat(kept.length))
    assert.equal(Number(hm[1]), 3_000_000 - kept.length, 'the marker counts the bytes removed')
    assert.ok(tagged.tags.includes('small:kept'))
    assert.ok(tagged.tags.includes(`ml_app:${mlApp}`))
    assert.deepEqual(tagged.meta.input, { messages: [{ role: '', content: 'question' }] })
    assert.deepEqual(tagged.collection_errors, ['truncated_io'])

    const io = byName('io-5mb')
    const ioBytes = Buffer.byteLength(JSON.stringify(io))
    assert.ok(ioBytes <= LIMIT && ioBytes > 900_000, `${ioBytes} bytes stored`)
    const shares = [io.meta.input.messages[0].content, io.meta.output.messages[0].content, io.meta.metadata.notes].map((s: string) => {
      const mm = MARKER_RE.exec(s)
      assert.ok(mm !== null)
      assert.equal(Number(mm[1]), big - mm.index)
      return mm.index
    })
    assert.ok(shares.every((n) => n === shares[0] && n > 300_000), `kept ${shares.join(', ')} of each`)
    assert.equal(io.meta.metadata.temperature, 0.2)
    assert.deepEqual(io.collection_errors, ['truncated_io'])

    const c = await getJson<Record<string, number>>(url, '/api/counters')
    assert.equal(c.requests_rejected, 0)
    const s = llmobs.stats()
    assert.deepEqual([s.created, s.delivered, s.truncated, s.pending], [2, 2, 2, 0])
  }
}
