import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'

/**
 * The soak (issue 7), short: bench/soak/soak.mjs --short, the `npm run soak` program at a lower
 * rate with shorter scenarios, in a child process (run with --expose-gc) against the local agent
 * in a grandchild process that it kills and restarts. The promise it checks, per scenario:
 * nothing stored twice; lost 0 when the outage fits the buffer and retry budget; whatever is
 * lost counted as dropped with a reason; duplicates at the agent only where a timeout or a crash
 * explains them; the ledger settled (pending 0).
 */
const SOAK = new URL('../../../bench/soak/soak.mjs', import.meta.url).pathname
const EXPECTED = ['down-at-start', 'restart', '5xx', '429', '413', 'slow', 'resets']

interface ScenarioResult {
  slug: string
  scenario: string
  requests: number
  created: number
  unique: number
  storedTwice: number
  duplicatesSuppressed: number
  delivered: number
  pending: number
  lost: number
  dropped: Record<string, number>
  routes: { rodeTrace: number, rescuedPredictedDrop: number, rescuedPayloadFailed: number }
  fits: boolean
  violations: string[]
}
interface Report { ok: boolean, elapsedS: number, results: ScenarioResult[], internalErrors: Array<[string, number]>, heapGrowth: number }

function runSoak (): Promise<{ code: number | null, report: Report | undefined, stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', SOAK, '--short', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('close', (code) => { // 'close': stdout fully read ('exit' can come first)
      let report: Report | undefined
      try { report = JSON.parse(out.trim().split('\n').pop() ?? '') as Report } catch { report = undefined }
      resolve({ code, report, stderr })
    })
  })
}

test('short soak: steady LLM traffic at mixed sampling through agent outages, restarts, 5xx, 429, 413, stalls and resets keeps the promise', { timeout: 480_000 }, async (t) => { // a hang guard, not a budget
  const { code, report, stderr } = await runSoak()
  assert.ok(report !== undefined, `no JSON report (exit ${code}): ${stderr.slice(-3000)}`)
  t.diagnostic(stderr.trim())
  assert.deepEqual(report.results.map((r) => r.slug), EXPECTED)
  for (const r of report.results) {
    const where = `${r.scenario}: ${JSON.stringify(r)}`
    assert.deepEqual(r.violations, [], where)
    assert.ok(r.requests > 0 && r.created === r.requests * 3, where)
    assert.equal(r.storedTwice, 0, where)
    assert.equal(r.pending, 0, where)
    // Every scenario of the short soak fits the buffer and the retry budget: nothing lost.
    assert.equal(r.fits, true, where)
    assert.equal(r.lost, 0, where)
    assert.equal(r.unique, r.created, where)
    assert.deepEqual(r.dropped, {}, where)
    assert.equal(r.delivered, r.created, where)
    // Mixed sampling: events ride kept traces and are rescued from dropped ones in every scenario.
    assert.ok(r.routes.rodeTrace > 0 && r.routes.rescuedPredictedDrop > 0, where)
  }
  // The faults really hit: payloads failed and were rescued where the agent was down or refused.
  const failedOver = report.results.filter((r) => r.routes.rescuedPayloadFailed > 0).map((r) => r.slug)
  assert.ok(failedOver.includes('down-at-start') && failedOver.includes('restart'), failedOver.join(','))
  assert.ok(report.results.find((r) => r.slug === 'slow')!.duplicatesSuppressed > 0, 'the stalls outlived the client timeouts')
  assert.deepEqual(report.internalErrors, [])
  assert.equal(report.ok, true)
  assert.equal(code, 0)
})
