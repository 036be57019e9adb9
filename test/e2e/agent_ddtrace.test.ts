import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startAgent } from '../../src/agent/start_agent.js'
import type { SpanRecord } from '../../src/agent/store_queries.js'
import { getJson, waitFor } from '../helpers/agent_client.js'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

// Runs in a child process: dd-trace patches modules globally and must not touch the test runner.
const CHILD = `
const tracer = require('dd-trace').init({ service: 'dd-child', env: 'test', flushInterval: 50 })
const llmobs = tracer.llmobs
let exported
llmobs.trace({ kind: 'workflow', name: 'dd-workflow', sessionId: 'dd-session' }, () => {
  llmobs.trace({ kind: 'llm', name: 'dd-chat', modelName: 'gpt-4o', modelProvider: 'openai' }, (span) => {
    llmobs.annotate(span, {
      inputData: [{ role: 'user', content: 'hi' }],
      outputData: [{ role: 'assistant', content: 'hello' }],
      metrics: { inputTokens: 1, outputTokens: 2, totalTokens: 3 },
    })
    exported = llmobs.exportSpan(span)
  })
  try {
    llmobs.trace({ kind: 'tool', name: 'dd-tool' }, () => { throw new TypeError('tool failed') })
  } catch {}
})
llmobs.submitEvaluation(exported, { label: 'quality', metricType: 'categorical', value: 'good' })
setTimeout(() => llmobs.flush(), 200)
setTimeout(() => process.exit(0), 120_000).unref() // a backstop only: the test kills the child
setInterval(() => {}, 1000)
`

test('dd-trace@5 as a client: its traces and EVP posts are accepted, its LLM spans are queryable, nothing rejected', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    DD_TRACE_AGENT_URL: agent.url,
    DD_LLMOBS_ENABLED: '1',
    DD_LLMOBS_ML_APP: 'dd-child-app',
    DD_TRACE_STARTUP_LOGS: 'false',
    // Left on, polling fast: remote config and telemetry must be answered quietly, not rejected.
    DD_REMOTE_CONFIG_POLL_INTERVAL_SECONDS: '0.2',
    DD_TELEMETRY_HEARTBEAT_INTERVAL: '0.2',
  }
  const child = spawn(process.execPath, ['-e', CHILD], { cwd: REPO_ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code))) // after stdout is read
  try {
    await waitFor(async () => {
      const c = agent.counters()
      return c.llmobs_evp >= 3 && c.evaluations >= 1 && c.chunks_received >= 1 && c.requests_quiet >= 1
    }, 60_000, `dd-trace data (stderr: ${stderr})`)
    const c = agent.counters()
    assert.equal(c.requests_rejected, 0)
    assert.equal(c.llmobs_evp, 3)
    assert.equal(c.duplicates_suppressed, 0)
    const { spans } = await getJson<{ spans: SpanRecord[] }>(agent.url, '/api/spans?ml_app=dd-child-app')
    const byName = new Map(spans.map((s) => [s.name, s]))
    assert.deepEqual([...byName.keys()].sort(), ['dd-chat', 'dd-tool', 'dd-workflow'])
    const chat = byName.get('dd-chat')
    assert.equal(chat?.kind, 'llm')
    assert.equal(chat?.path, 'evp')
    assert.equal(chat?.parent_id, byName.get('dd-workflow')?.span_id)
    assert.equal(byName.get('dd-tool')?.status, 'error')
    const event = chat?.event as { metrics: Record<string, number>, meta: { model_name?: string } }
    assert.deepEqual([event.metrics.input_tokens, event.metrics.output_tokens, event.metrics.total_tokens], [1, 2, 3])
    const { evaluations } = await getJson<{ evaluations: Array<{ span_id: string, label: string, value: unknown }> }>(agent.url, '/api/evaluations')
    assert.deepEqual(evaluations.map((e) => [e.span_id, e.label, e.value]), [[chat?.span_id, 'quality', 'good']])
    const { chunks } = await getJson<{ chunks: Array<{ endpoint: string, kept: boolean, priority: number }> }>(agent.url, '/api/chunks')
    assert.ok(chunks.every((ch) => ch.endpoint === '/v0.4/traces' && ch.kept && ch.priority === 1))
  } finally {
    child.kill('SIGKILL')
    await exited
    await agent.close()
  }
})
