import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'

/**
 * The local agent's fuzz at scale (issue 7): scripts/fuzz.mjs — the `npm run fuzz` program — run
 * smaller, in a child process of its own so its memory figures are its own. Each decoder gets
 * PER_DECODER mutated inputs (framing-level byte and character mutations, and structure-level
 * ones: fields of the wrong type, missing, duplicated, `__proto__` keys, huge or deep values);
 * then every data endpoint gets HTTP_PER_ENDPOINT of them through a real agent.
 * The OTLP intake's half (its decoders and /v1/traces) runs in agent_otlp_fuzz.test.ts.
 */
const SCRIPT = new URL('../../../scripts/fuzz.mjs', import.meta.url).pathname
const PER_DECODER = 20_000
const HTTP_PER_ENDPOINT = 3000
const SEED = 7_770_777
const DECODERS = 8
const ENDPOINTS = 6

interface Row { failures: string[], accepted: number, rejected: number }
interface DecoderRow extends Row { decoder: string, payloads: number, slowestMs: number }
interface HttpRow extends Row { endpoint: string, requests: number }
interface Report { ok: boolean, seed: number, elapsedS: number, decoders: DecoderRow[], http: { rows: HttpRow[], rssGrowthMiB: number } }

function runFuzz (): Promise<{ code: number | null, report: Report | undefined, stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [SCRIPT, `--per-decoder=${PER_DECODER}`, `--http=${HTTP_PER_ENDPOINT}`, `--seed=${SEED}`, '--json', '--call-budget-ms=off', '--only=datadog'], { stdio: ['ignore', 'pipe', 'pipe'] })
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

test(`fuzz at scale: ${PER_DECODER} mutated inputs per decoder, ${HTTP_PER_ENDPOINT} per HTTP endpoint — only results or 4xx, never a hang, memory bounded`, { timeout: 480_000 }, async (t) => { // a hang guard: CPU-bound, it runs long on a shared machine
  const { code, report, stderr } = await runFuzz()
  assert.ok(report !== undefined, `no JSON report (exit ${code}): ${stderr.slice(-2000)}`)
  t.diagnostic(stderr.trim())
  assert.equal(report.decoders.length, DECODERS)
  for (const d of report.decoders) {
    assert.ok(d.payloads >= 10_000, d.decoder)
    assert.deepEqual(d.failures, [], `${d.decoder} (seed ${report.seed})`)
    // Both outcomes, or the mutations prove little: semantic checks reached and framing broken.
    assert.ok(d.accepted > 0 && d.rejected > d.payloads / 10, `${d.decoder}: accepted ${d.accepted}, rejected ${d.rejected}`)
  }
  assert.equal(report.http.rows.length, ENDPOINTS)
  for (const h of report.http.rows) {
    assert.deepEqual(h.failures, [], h.endpoint)
    assert.equal(h.accepted + h.rejected, h.requests, `${h.endpoint}: every request answered 2xx or 4xx`)
  }
  assert.ok(report.http.rssGrowthMiB < 512, `rss grew ${report.http.rssGrowthMiB} MiB`)
  assert.equal(code, 0)
})
