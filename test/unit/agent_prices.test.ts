import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PriceTable, checkPriceRows, shippedPrices } from '../../src/agent/prices.js'
import { startAgent } from '../../src/agent/start_agent.js'
import { parseAgentArgs } from '../../src/cli/agent.js'
import { parseBytes, parseDurationMs, resolveAgentEnv } from '../../src/config/agent_config.js'
import { getJson } from '../helpers/agent_client.js'
import { llmEvent, postEvents } from '../helpers/llm_events.js'

test('the shipped price table: every row dated with a source; specific patterns win over general ones; unknown → no price', () => {
  const rows = shippedPrices()
  assert.ok(rows.length >= 20)
  for (const r of rows) {
    assert.match(r.date, /^20\d\d-\d\d-\d\d$/, r.pattern)
    assert.match(r.source, /^https:\/\//, r.pattern)
  }
  const t = new PriceTable(rows)
  assert.equal(t.lookup('gpt-4o-mini-2024-07-18')?.pattern, 'gpt-4o-mini*')
  assert.equal(t.lookup('GPT-4o-2024-08-06')?.pattern, 'gpt-4o*')
  assert.equal(t.lookup('openai/gpt-4.1-nano')?.pattern, 'gpt-4.1-nano*')
  assert.equal(t.lookup('claude-3-5-sonnet-20241022')?.provider, 'anthropic')
  assert.equal(t.lookup('models/gemini-2.0-flash-001')?.provider, 'google')
  assert.equal(t.lookup('llama-3-70b'), undefined)
  assert.equal(t.cost('llama-3-70b', { input: 10, output: 10, cacheRead: 0, reasoning: 0 }), null)
  // Cached input at its own price: 1000 input of which 400 cached, 100 output on gpt-4o ($2.50 / $1.25 / $10).
  assert.ok(Math.abs((t.cost('gpt-4o', { input: 1000, output: 100, cacheRead: 400, reasoning: 0 }) as number) - (600 * 2.5 + 400 * 1.25 + 100 * 10) / 1e6) < 1e-15)
})

test('price rows: user rows override shipped ones (option, file, env), bad rows are refused with reasons', async () => {
  const bad = checkPriceRows([{ pattern: 'x', input: -1, output: 1, date: '2025-01-01', source: 'me' }, { pattern: '/(/', input: 1, output: 1, date: '2025-01-01', source: 'me' }, { pattern: 'y', input: 1, output: 1, date: 'soon', source: 'me' }], 'test')
  assert.equal(bad.rows.length, 0)
  assert.match(bad.problems.join('\n'), /"input" must be a non-negative number[\s\S]*not a valid regex[\s\S]*"date" must be YYYY-MM-DD/)

  const dir = mkdtempSync(join(tmpdir(), 'llmobs-prices-'))
  const file = join(dir, 'prices.json')
  writeFileSync(file, JSON.stringify({ prices: [{ pattern: 'in-house-*', input: 1, output: 2, date: '2026-01-01', source: 'internal' }] }))
  const warnings: string[] = []
  const agent = await startAgent({ port: 0, db: ':memory:', prices: [{ pattern: '/^gpt-4o$/', input: 100, output: 100, date: '2026-01-01', source: 'negotiated' }, { pattern: 'oops' } as never], logger: { info: () => {}, warn: (m) => warnings.push(m) } })
  const fromFile = await startAgent({ port: 0, db: ':memory:', prices: file })
  try {
    assert.match(warnings.join('\n'), /prices: 1 row\(s\) ignored/)
    const ev = [llmEvent({ trace: 't', span: '1', startMs: 1_760_000_000_000, model: 'gpt-4o', metrics: { input_tokens: 1_000_000, output_tokens: 0 } }), llmEvent({ trace: 'u', span: '2', startMs: 1_760_000_000_000, model: 'in-house-7b', metrics: { input_tokens: 1_000_000, output_tokens: 1_000_000 } })]
    await postEvents(agent.url, ev)
    await postEvents(fromFile.url, ev)
    const cost = async (url: string, id: string): Promise<unknown> => (await getJson<{ cost_usd: unknown }>(url, `/api/traces/${id}`)).cost_usd
    assert.equal(await cost(agent.url, 't'), 100)
    assert.equal(await cost(agent.url, 'u'), null)
    assert.equal(await cost(fromFile.url, 't'), 2.5)
    assert.equal(await cost(fromFile.url, 'u'), 3)
  } finally {
    await agent.close()
    await fromFile.close()
    rmSync(dir, { recursive: true, force: true })
  }

  assert.deepEqual(resolveAgentEnv({ LLMOBS_AGENT_PRICES: '/x.json', LLMOBS_AGENT_RETENTION_MAX_AGE: '7d', LLMOBS_AGENT_RETENTION_MAX_SPANS: '5', LLMOBS_AGENT_RETENTION_MAX_BYTES: '2GiB' }),
    { prices: '/x.json', retention: { maxAgeMs: 7 * 86_400_000, maxSpans: 5, maxBytes: 2 * 1024 ** 3 } })
  assert.deepEqual(resolveAgentEnv({ LLMOBS_AGENT_RETENTION_MAX_AGE: 'forever' }).retention, {})
  assert.equal(parseDurationMs('15m'), 900_000)
  assert.equal(parseBytes('500MiB'), 500 * 1024 ** 2)
  assert.equal(parseBytes('5 parsecs'), undefined)
  assert.deepEqual(parseAgentArgs(['--prices', 'p.json', '--retention-max-age=12h', '--retention-max-spans', '10', '--retention-max-bytes', '1G']),
    { ok: true, help: false, options: { prices: 'p.json', retention: { maxAgeMs: 12 * 3_600_000, maxSpans: 10, maxBytes: 1024 ** 3 } } })
  assert.deepEqual(parseAgentArgs(['--retention-max-age', 'soon']), { ok: false, error: '--retention-max-age must be a duration (ms, or 30s, 15m, 12h, 7d), got "soon"' })
})
