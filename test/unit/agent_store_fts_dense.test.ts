import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Store, newBatch, type NewSpan } from '../../src/agent/store.js'
import { FTS_SPARSE } from '../../src/agent/query_sql.js'
import { queryApi } from '../../src/agent/query_api.js'
import { listParams } from '../../src/agent/query_params.js'
import { llmEvent } from '../helpers/llm_events.js'

const T0 = 1_760_000_000_000

interface Spec { trace: string, span: string, parent?: string, startMs: number, text: string, kind: string }

function newSpan (s: Spec): NewSpan {
  const ev = llmEvent({ trace: s.trace, span: s.span, parent: s.parent, kind: s.kind, startMs: s.startMs, output: s.text, name: s.kind })
  return {
    traceId: s.trace, spanId: s.span, parentId: s.parent ?? null, name: s.kind, kind: s.kind, mlApp: 'app', status: 'ok',
    startNs: ev.start_ns as string, duration: ev.duration as number, path: 'evp', event: JSON.stringify(ev),
  }
}

/**
 * More matches than FTS_SPARSE, so listings walk their index and check rows one by one (and
 * spell prefix terms out), with non-matching spans interleaved and the newest ones not matching:
 * the pages must be exactly the matching rows in the listing's order.
 */
test('full-text listings with many matches: exactly the matching rows, in order, across pages; prefix terms too', () => {
  const store = new Store(':memory:')
  try {
    const specs: Spec[] = []
    const traces = Math.ceil(FTS_SPARSE * 0.65) + 200
    for (let i = 0; i < traces; i++) {
      // Start times interleave traces (i * 7919 mod traces), so row order is not start order.
      const start = T0 + ((i * 7919) % traces) * 10
      const word = i % 3 === 0 ? 'warrantee' : 'warranty'
      // The newest 200 traces (by start) match nothing; the others in one span or both.
      const newest = (i * 7919) % traces >= traces - 200
      specs.push({ trace: `t${i}`, span: `${i}a`, startMs: start, kind: 'workflow', text: newest ? 'plain words' : `claim ${word} now` })
      specs.push({ trace: `t${i}`, span: `${i}b`, parent: `${i}a`, startMs: start + 1, kind: 'llm', text: newest ? 'other text' : i % 2 === 0 ? 'the warranty holds' : 'a warranty claim' })
    }
    for (let i = 0; i < specs.length; i += 1000) {
      const b = newBatch()
      b.spans.push(...specs.slice(i, i + 1000).map(newSpan))
      store.commit(b)
    }
    const api = queryApi(store)
    const startOf = (s: Spec): bigint => BigInt(s.startMs) * 1_000_000n
    const byStartDesc = (a: Spec, b: Spec): number => startOf(a) !== startOf(b) ? (startOf(a) > startOf(b) ? -1 : 1) : a.trace !== b.trace ? (a.trace > b.trace ? -1 : 1) : (a.span > b.span ? -1 : 1)

    for (const [q, matches] of [['warranty', (t: string) => /\bwarranty\b/.test(t)], ['warrant*', (t: string) => /\bwarrant/.test(t)]] as const) {
      const expected = specs.filter((s) => matches(s.text)).sort(byStartDesc).map((s) => `${s.trace}/${s.span}`)
      assert.ok(expected.length >= FTS_SPARSE, `the data must take the dense path (${expected.length} matches for ${q})`)
      const got: string[] = []
      let cursor: string | null = null
      for (let page = 0; page < 3; page++) {
        const url = new URL(`http://x/?limit=100${cursor === null ? '' : `&cursor=${cursor}`}`)
        const p = api.spans.list({ q }, listParams(url, 'spans', ['start']))
        for (const r of p.rows) {
          got.push(`${r.trace_id as string}/${r.span_id as string}`)
          assert.match(r.snippet as string, /<mark>warrant/i, `snippet of ${q}`)
        }
        cursor = p.nextCursor
      }
      assert.deepEqual(got, expected.slice(0, 300), `spans matching ${q}, newest first`)

      const expectedTraces = [...new Set(specs.filter((s) => matches(s.text)).map((s) => s.trace))]
        .map((t) => specs.find((s) => s.trace === t && s.kind === 'workflow') as Spec).sort(byStartDesc).map((s) => s.trace)
      const tp = api.traces.list({ q }, listParams(new URL('http://x/?limit=150'), 'traces', ['start']))
      assert.deepEqual(tp.rows.map((r) => r.trace_id), expectedTraces.slice(0, 150), `traces matching ${q}, newest first`)
      assert.equal(tp.more, true)
      for (const r of tp.rows) assert.match(r.snippet as string, /<mark>warrant/i)
    }
    // A prefix no word has: nothing, not everything.
    assert.deepEqual(api.spans.list({ q: 'warrantzz*' }, listParams(new URL('http://x/'), 'spans', ['start'])).rows, [])
  } finally {
    store.close()
  }
})
