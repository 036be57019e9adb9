import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { startAgent } from '../../src/agent/start_agent.js'
import { log } from '../../src/diag/logger.js'
import { closeRigs, rig } from '../helpers/llmobs_setup.js'

after(closeRigs)

const INDEX = new URL('../../src/index.js', import.meta.url).href
const REGISTER = new URL('../../src/register.js', import.meta.url).href

function run (args: string[], env: Record<string, string>): Promise<{ code: number | null, out: string, err: string }> {
  const clean: Record<string, string | undefined> = { ...process.env }
  for (const k of Object.keys(clean)) if (k.startsWith('DD_')) delete clean[k]
  const child = spawn(process.execPath, args, { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })))
}

test('DD_TRACE_DEBUG=true: one startup block, the export mode once resolved, and what each flush sent', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const script = `import { tracer, llmobs } from ${JSON.stringify(INDEX)}
llmobs.enable({ mlApp: 'dbg-app' })
await llmobs.trace({ kind: 'workflow', name: 'wf' }, () => llmobs.trace({ kind: 'llm', name: 'chat' }, () => {}))
await tracer.flush()
await llmobs.flush()
await tracer.shutdown()`
    const r = await run(['--input-type=module', '-e', script], {
      DD_TRACE_DEBUG: 'true',
      DD_TRACE_AGENT_URL: agent.url,
      DD_SERVICE: 'dbg-svc',
      DD_ENV: 'dbg-env',
      DD_VERSION: '4.5.6',
      DD_TRACE_SAMPLING_RULES: '[{"sample_rate":0.5,"service":"dbg-*"}]',
      DD_TRACE_SAMPLE_RATE: '1',
    })
    assert.equal(r.code, 0, r.err)
    assert.equal(r.err.match(/starting \(node/g)?.length, 1, r.err)
    assert.match(r.err, /service: dbg-svc {2}env: dbg-env {2}version: 4\.5\.6/)
    assert.ok(r.err.includes(`agent: ${agent.url}`), r.err)
    assert.match(r.err, /sampling: service=dbg-\* at 0\.5; everything at 1; rate limit 100\/s/)
    assert.match(r.err, /integrations: no automatic instrumentation/)
    assert.equal(r.err.match(/export mode apm_agent/g)?.length, 1, r.err)
    // Two spans in one chunk in one payload, acknowledged by the agent.
    assert.match(r.err, /sent trace payload v0\.4: 1 chunk\(s\), 2 span\(s\), \d+ bytes to \/v0\.4\/traces \(HTTP 200\)/)
    assert.equal(r.out, '', 'diagnostics never go to stdout')
  } finally {
    await agent.close()
  }
})

test('without DD_TRACE_DEBUG the tracer prints nothing', async () => {
  const script = `import { tracer } from ${JSON.stringify(INDEX)}
tracer.trace('x', () => {})
await tracer.shutdown(200)`
  const r = await run(['--input-type=module', '-e', script], { DD_TRACE_AGENT_URL: 'http://127.0.0.1:9' })
  assert.doesNotMatch(r.err, /starting|sent trace payload/)
})

test('llmobs-ts/register without DD_LLMOBS_ENABLED says once that LLM Observability is off and how to turn it on', async () => {
  const script = `const { tracer } = await import(${JSON.stringify(INDEX)}); await import(${JSON.stringify(REGISTER)}); tracer.trace('x', () => {})`
  const off = await run(['--import', REGISTER, '--input-type=module', '-e', script], { DD_TRACE_ENABLED: 'false' })
  assert.equal(off.code, 0, off.err)
  assert.equal(off.err.match(/LLM Observability is off/g)?.length, 1, off.err)
  assert.match(off.err, /DD_LLMOBS_ENABLED=true/)
  assert.match(off.err, /llmobs\.enable\(\)/)
  for (const value of ['true', 'false']) {
    const r = await run(['--import', REGISTER, '--input-type=module', '-e', script], { DD_TRACE_ENABLED: 'false', DD_LLMOBS_ENABLED: value, DD_LLMOBS_ML_APP: 'x' })
    assert.doesNotMatch(r.err, /LLM Observability is off/, `DD_LLMOBS_ENABLED=${value}: set on purpose`)
  }
})

test('with DD_TRACE_DEBUG the startup block names the automatic instrumentation of llmobs-ts/register', async () => {
  const script = `import { tracer } from ${JSON.stringify(INDEX)}; tracer.trace('x', () => {})`
  const r = await run(['--import', REGISTER, '--input-type=module', '-e', script], { DD_TRACE_ENABLED: 'false', DD_TRACE_DEBUG: '1', DD_LLMOBS_ENABLED: 'false' })
  assert.match(r.err, /integrations: automatic \(llmobs-ts\/register\): openai, @anthropic-ai\/sdk, ai/)
})

test('a bad metrics annotation warns once, naming every offending key (cut short)', async () => {
  const lines: string[] = []
  log.resetWarnings()
  log.configure({ sink: (_l, m) => lines.push(m) })
  try {
    const r = await rig()
    const bad: Record<string, unknown> = { inputTokens: 3, cost: 'cheap', latency: Number.NaN, ['k'.repeat(500)]: Infinity }
    for (let i = 0; i < 10; i++) bad[`extra${i}`] = null
    r.llmobs.trace({ kind: 'llm', name: 'chat' }, (span) => {
      r.llmobs.annotate(span, { metrics: bad as Record<string, number> })
      r.llmobs.annotate(span, { metrics: { again: 'x' } as unknown as Record<string, number> })
    })
    const warned = lines.filter((l) => l.includes('not a finite number'))
    assert.equal(warned.length, 1, lines.join('\n'))
    const w = warned[0]
    for (const k of ['"cost" ("cheap")', '"latency" (NaN)', 'Infinity', '"extra0" (null)', 'and 5 more']) assert.ok(w.includes(k), `${k} in ${w}`)
    assert.ok(!w.includes('inputTokens'), 'a good metric is not named')
    assert.ok(w.length < 600, 'a 500-character key is cut short')
  } finally {
    log.configure({ sink: () => {} })
  }
})
