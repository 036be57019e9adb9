import { test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent } from '../../src/agent/start_agent.js'
import type { Counters } from '../../src/agent/counters.js'
import { fixture, llmobsDoc, request, spanData, spanEvent, v04Body } from '../helpers/agent_client.js'

/** mulberry32: tiny, seedable, good enough to pick mutations deterministically. */
function rng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SPECIAL = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xc0, 0xc1, 0xc4, 0xc6, 0xcb, 0xcf, 0xd3, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xff]
const JSON_CHARS = '{}[]",:-0123456789.eE \\ntfu'

function mutateBytes (src: Buffer, r: () => number): Buffer {
  const b = Buffer.from(src)
  const at = (): number => Math.floor(r() * b.length)
  switch (Math.floor(r() * 6)) {
    case 0: { const n = 1 + Math.floor(r() * 4); for (let i = 0; i < n; i++) { const p = at(); b[p] ^= 1 << Math.floor(r() * 8) } return b }
    case 1: { const n = 1 + Math.floor(r() * 3); for (let i = 0; i < n; i++) b[at()] = SPECIAL[Math.floor(r() * SPECIAL.length)]; return b }
    case 2: return b.subarray(0, at())
    case 3: { const p = at(); const q = Math.min(b.length, p + 1 + Math.floor(r() * 16)); return Buffer.concat([b.subarray(0, p), b.subarray(q)]) }
    case 4: { const p = at(); const junk = Buffer.from(Array.from({ length: 1 + Math.floor(r() * 8) }, () => Math.floor(r() * 256))); return Buffer.concat([b.subarray(0, p), junk, b.subarray(p)]) }
    default: { const p = at(); const q = Math.min(b.length, p + Math.floor(r() * 32)); return Buffer.concat([b.subarray(0, q), b.subarray(p, q), b.subarray(q)]) }
  }
}

function mutateText (src: string, r: () => number): string {
  const at = (): number => Math.floor(r() * src.length)
  const ch = (): string => JSON_CHARS[Math.floor(r() * JSON_CHARS.length)]
  switch (Math.floor(r() * 4)) {
    case 0: { const p = at(); return src.slice(0, p) + ch() + src.slice(p + 1) }
    case 1: { const p = at(); return src.slice(0, p) + ch() + src.slice(p) }
    case 2: { const p = at(); return src.slice(0, p) + src.slice(p + 1 + Math.floor(r() * 8)) }
    default: return src.slice(0, at())
  }
}

const SPANS_BEFORE = (c: Counters): number => c.llmobs_extracted + c.llmobs_evp + c.llmobs_agentless - c.duplicates_suppressed

test('HTTP fuzz: 2000 mutated valid payloads get only 2xx/4xx, rejected ones store nothing, memory stays bounded', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const r = rng(0xC0FFEE)
    const ours = v04Body([
      [spanData({ metrics: { _sampling_priority_v1: 1 }, meta: { '_dd.p.tid': '6553f10000000000' }, metaStruct: { _llmobs: llmobsDoc('fz-1') } }),
        spanData({ parentId: '0000000000000001', metaStruct: { _llmobs: llmobsDoc('fz-1', { tags: ['a:b'], meta: { 'span.kind': 'tool' } }) } })],
      [spanData({ traceId: '00000000000000f2', error: 1, metrics: { _sampling_priority_v1: 0 }, metaStruct: { _llmobs: llmobsDoc('fz-2') } })],
      [spanData({ traceId: '00000000000000f3', metrics: { _sampling_priority_v1: -1 } })],
    ])
    const traceBases: Array<{ path: string, body: Buffer }> = [
      { path: '/v0.4/traces', body: ours },
      { path: '/v0.4/traces', body: fixture('01_v0.4_traces').body },
      { path: '/v0.5/traces', body: fixture('v05-01_v0.5_traces').body },
    ]
    const evpBases = [
      fixture('02_evp_proxy_v2_api_v2_llmobs').body.toString('utf8'),
      JSON.stringify([{ event_type: 'span', spans: [spanEvent('fz-evp', '77', { meta: { span: { kind: 'llm' }, input: { messages: [{ role: 'user', content: 'hé "quoted"' }] } } })] }]),
    ]
    const rssStart = process.memoryUsage().rss
    let accepted = 0
    let rejected = 0
    const statuses = new Map<number, number>()
    const N = 2000
    for (let i = 0; i < N; i++) {
      const before = agent.counters()
      const spansBefore = agent.store.queries.countSpans()
      let res
      if (r() < 0.6) {
        const base = traceBases[Math.floor(r() * traceBases.length)]
        res = await request(agent.url, base.path, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: mutateBytes(base.body, r) })
      } else {
        const base = evpBases[Math.floor(r() * evpBases.length)]
        res = await request(agent.url, '/evp_proxy/v2/api/v2/llmobs', {
          method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Datadog-EVP-Subdomain': 'llmobs-intake' }, body: mutateText(base, r),
        })
      }
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1)
      const after = agent.counters()
      if (res.status >= 200 && res.status < 300) {
        accepted++
        assert.equal(after.payloads_received, before.payloads_received + 1, `#${i}`)
        assert.equal(agent.store.queries.countSpans(), SPANS_BEFORE(after) - SPANS_BEFORE(before) + spansBefore, `#${i} stored = received - duplicates`)
      } else {
        assert.ok(res.status >= 400 && res.status < 500, `#${i}: status ${res.status} ${res.body}`)
        assert.equal(typeof (res.json as { error?: unknown }).error, 'string', `#${i}: a reason`)
        rejected++
        assert.deepEqual(after, { ...before, requests_rejected: before.requests_rejected + 1 }, `#${i}: a rejected request changes nothing else`)
        assert.equal(agent.store.queries.countSpans(), spansBefore, `#${i}: nothing stored`)
      }
    }
    const c = agent.counters()
    assert.equal(c.payloads_received + c.requests_rejected, N)
    assert.equal(accepted + rejected, N)
    // Both outcomes must be exercised, or the fuzz proves little.
    assert.ok(accepted > 100 && rejected > 100, `accepted ${accepted}, rejected ${rejected}: ${JSON.stringify([...statuses])}`)
    assert.equal((await request(agent.url, '/info')).status, 200)
    const grown = process.memoryUsage().rss - rssStart
    assert.ok(grown < 256 * 1024 * 1024, `rss grew by ${Math.round(grown / 1048576)} MiB`)
  } finally {
    await agent.close()
  }
})
