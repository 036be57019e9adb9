import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'

/**
 * The OTLP intake under mutated input, at scale: scripts/fuzz.mjs `--only=otlp` in a child process
 * of its own — the decode + mapping of protobuf and OTLP/JSON bodies in process (framing-level
 * byte and character mutations, and structure-level ones: wrong types, missing or duplicated
 * fields, `__proto__` keys, deep values), then /v1/traces over HTTP on a real agent's OTLP port.
 * Only results or 4xx with a reason (a google.rpc.Status), never a crash, a 5xx or a hang.
 */
const SCRIPT = new URL('../../../scripts/fuzz.mjs', import.meta.url).pathname
const PER_DECODER = 20_000
const HTTP_PER_ENDPOINT = 3000
const SEED = 13_013_013

interface Row { failures: string[], accepted: number, rejected: number }
interface Report { ok: boolean, seed: number, decoders: Array<Row & { decoder: string, payloads: number }>, http: { rows: Array<Row & { endpoint: string, requests: number }>, rssGrowthMiB: number } }

test(`OTLP intake fuzz: ${PER_DECODER} mutated bodies per encoding in process, ${HTTP_PER_ENDPOINT} per encoding over HTTP — 0 crashes, 0 5xx`, { timeout: 560_000 }, async (t) => {
  const { code, out, stderr } = await new Promise<{ code: number | null, out: string, stderr: string }>((resolve) => {
    const child = spawn(process.execPath, [SCRIPT, `--per-decoder=${PER_DECODER}`, `--http=${HTTP_PER_ENDPOINT}`, `--seed=${SEED}`, '--json', '--call-budget-ms=off', '--only=otlp'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let o = ''
    let e = ''
    child.stdout.on('data', (d: Buffer) => { o += d.toString() })
    child.stderr.on('data', (d: Buffer) => { e += d.toString() })
    child.on('close', (c) => resolve({ code: c, out: o, stderr: e }))
  })
  let report: Report | undefined
  try { report = JSON.parse(out.trim().split('\n').pop() ?? '') as Report } catch { report = undefined }
  assert.ok(report !== undefined, `no JSON report (exit ${code}): ${stderr.slice(-2000)}`)
  t.diagnostic(stderr.trim())
  assert.deepEqual(report.decoders.map((d) => d.decoder), ['OTLP intake (protobuf)', 'OTLP intake (JSON)'])
  for (const d of report.decoders) {
    assert.equal(d.payloads, PER_DECODER)
    assert.deepEqual(d.failures, [], `${d.decoder} (seed ${report.seed})`)
    assert.ok(d.accepted > 0 && d.rejected > d.payloads / 10, `${d.decoder}: accepted ${d.accepted}, rejected ${d.rejected}`)
  }
  assert.equal(report.http.rows.length, 2)
  for (const h of report.http.rows) {
    assert.deepEqual(h.failures, [], h.endpoint)
    assert.equal(h.accepted + h.rejected, h.requests, `${h.endpoint}: every request answered 2xx or 4xx`)
    assert.ok(h.accepted > 0 && h.rejected > 0, `${h.endpoint}: both outcomes`)
  }
  assert.equal(code, 0)
})
