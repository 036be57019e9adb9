import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startFakeAnthropic } from '../helpers/fake_anthropic.js'
import { startFakeOpenAI } from '../helpers/fake_openai.js'
import { capture, compare, matches, type Capture, type Diff, type Expected } from '../helpers/parity_compare.js'
import { PARITY_WORKLOAD } from '../helpers/parity_workload.js'
import { startSink, type Sink } from '../helpers/sink.js'
import { EXPECTED_DIFFERENCES } from './ddtrace_parity_expected.js'

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** Events both sides send for the workload (dd-trace adds the AI SDK's generateText workflow). */
const DD_EVENTS = 11
const OUR_EVENTS = 10

async function run (mode: 'dd' | 'ours', sink: Sink, fakes: { openai: string, anthropic: string }): Promise<void> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    PARITY_MODE: mode,
    PARITY_REPO: REPO_ROOT,
    FAKE_OPENAI: fakes.openai,
    FAKE_ANTHROPIC: fakes.anthropic,
    DD_TRACE_AGENT_URL: sink.url,
    DD_LLMOBS_ENABLED: '1',
    DD_LLMOBS_ML_APP: 'parity-app',
    DD_SERVICE: 'parity-svc',
    DD_ENV: 'test',
    // Set, so neither side's package.json fallback decides it.
    DD_VERSION: '1.2.3',
    DD_TRACE_STARTUP_LOGS: 'false',
    DD_TELEMETRY_ENABLED: 'false',
    DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false',
    DD_REMOTE_CONFIGURATION_ENABLED: 'false',
  }
  const args = mode === 'dd' ? ['-e', PARITY_WORKLOAD] : ['-r', `${REPO_ROOT}dist/src/register.js`, '-e', PARITY_WORKLOAD]
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  assert.equal(code, 0, `${mode} workload failed: ${out}`)
  assert.match(out, /DONE/)
}

function render (d: Diff): string {
  return `{ span: ${JSON.stringify(d.span)}, field: ${JSON.stringify(d.field)}, dd: ${JSON.stringify(d.dd)}, ours: ${JSON.stringify(d.ours)} }`
}

test('dd-trace 5 and llmobs-ts on one workload: events and their APM spans match field by field, but for the documented differences', async () => {
  const [openai, anthropic, ddSink, ourSink] = await Promise.all([startFakeOpenAI(), startFakeAnthropic(), startSink(), startSink()])
  try {
    const fakes = { openai: openai.url, anthropic: anthropic.url }
    await Promise.all([run('dd', ddSink, fakes), run('ours', ourSink, fakes)])
    // The dd-trace child exits right after its flush; what it sent may still be arriving.
    let dd: Capture = capture(ddSink)
    await ddSink.waitFor(() => { dd = capture(ddSink); return dd.events.length >= DD_EVENTS && dd.events.every((e) => dd.spans.some((s) => String(s.span_id) === String(e.span_id))) }, 30_000)
    const ours = capture(ourSink)
    assert.equal(dd.events.length, DD_EVENTS, 'dd-trace events')
    assert.equal(ours.events.length, OUR_EVENTS, 'llmobs-ts events')

    const diffs = compare(dd, ours)
    // PARITY_DUMP=<file>: every difference found, rendered as table rows, to review and document.
    if (process.env.PARITY_DUMP !== undefined) writeFileSync(process.env.PARITY_DUMP, diffs.map(render).join('\n') + '\n')
    const unexpected = diffs.filter((d) => !EXPECTED_DIFFERENCES.some((e) => matches(e, d)))
    const stale = EXPECTED_DIFFERENCES.filter((e: Expected) => !diffs.some((d) => matches(e, d)))
    assert.deepEqual(unexpected.map(render), [], 'differences from dd-trace not in the documented table')
    assert.deepEqual(stale.map((e) => `${e.span} ${e.field}`), [], 'documented differences that no longer occur: remove them from the table (and the README)')
    // The comparison itself must see the workload: every name the table is about was paired.
    const names = new Set(diffs.map((d) => d.span))
    for (const n of ['OpenAI.createChatCompletion', 'OpenAI.createEmbedding', 'OpenAI.createResponse', 'anthropic.request', 'doGenerate', 'manual-flow']) {
      assert.ok(dd.events.some((e) => e.name === n) && ours.events.some((e) => e.name === n), `${n} on both sides`)
    }
    assert.ok(names.size > 0)
  } finally {
    await Promise.all([openai.close(), anthropic.close(), ddSink.close(), ourSink.close()])
  }
})
