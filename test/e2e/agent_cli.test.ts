import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseAgentArgs } from '../../src/cli/agent.js'
import { startAgent } from '../../src/agent/start_agent.js'
import { request, spanEvent } from '../helpers/agent_client.js'

const CLI_MODULE = new URL('../../src/cli/agent.js', import.meta.url).href

test('llmobs-ts agent: prints its URL, serves, stops cleanly on SIGTERM, never prints the API key', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-cli-'))
  // No --db: the default ./.llmobs/agent.db, relative to the working directory.
  const db = join(dir, '.llmobs', 'agent.db')
  try {
    const script = `import { runAgentCommand } from ${JSON.stringify(CLI_MODULE)}; process.exitCode = await runAgentCommand(process.argv.slice(1))`
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, '--', '--port', '0', '--api-key', 'TOPSECRET'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code))) // after stdout is read
    const end = Date.now() + 30_000 // a cap for a hung child, not a speed budget
    while (!/listening on (http:\/\/\S+)/.test(out)) {
      if (Date.now() > end) throw new Error(`no URL printed: ${out} ${err}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    const url = (/listening on (http:\/\/\S+)/.exec(out) ?? [])[1]
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal((await request(url, '/info')).status, 200)
    const body = JSON.stringify([{ spans: [spanEvent('cli', '1')] }])
    const headers = { 'Content-Type': 'application/json' }
    assert.equal((await request(url, '/api/v2/llmobs', { method: 'POST', headers: { ...headers, 'DD-API-KEY': 'wrong' }, body })).status, 403)
    assert.equal((await request(url, '/api/v2/llmobs', { method: 'POST', headers: { ...headers, 'DD-API-KEY': 'TOPSECRET' }, body })).status, 202)
    // The key guards the query API (and so the UI's data); the UI link names no key.
    assert.equal((await request(url, '/api/counters')).status, 401)
    assert.equal((await request(url, '/api/counters', { headers: { 'DD-API-KEY': 'TOPSECRET' } })).status, 200)
    assert.match(out, /web UI: http:\/\/127\.0\.0\.1:\d+\/#key=<your API key>/)
    child.kill('SIGTERM')
    assert.equal(await exited, 0)
    assert.match(out, /SIGTERM, stopped/)
    assert.doesNotMatch(out + err, /TOPSECRET/)
    assert.ok(existsSync(db))
    // The data outlives the process.
    const again = await startAgent({ port: 0, db })
    try {
      assert.equal(again.store.queries.countSpans(), 1)
      assert.equal(again.counters().requests_rejected, 2)
    } finally {
      await again.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('agent arguments: values, --flag=value, help, and refusals', () => {
  assert.deepEqual(parseAgentArgs(['--host', '127.0.0.1', '--port=0', '--db', ':memory:', '--api-key', 'k']),
    { ok: true, help: false, options: { host: '127.0.0.1', port: 0, db: ':memory:', apiKey: 'k' } })
  assert.deepEqual(parseAgentArgs(['--allowed-host', 'agent.internal', '--allowed-host=devbox.lan']),
    { ok: true, help: false, options: { allowedHosts: ['agent.internal', 'devbox.lan'] } })
  assert.deepEqual(parseAgentArgs(['--allowed-host']), { ok: false, error: '--allowed-host needs a value' })
  assert.deepEqual(parseAgentArgs(['-h']), { ok: true, help: true, options: {} })
  assert.deepEqual(parseAgentArgs(['--port', '70000']), { ok: false, error: '--port must be 0-65535, got "70000"' })
  assert.deepEqual(parseAgentArgs(['--port', 'x']), { ok: false, error: '--port must be 0-65535, got "x"' })
  assert.deepEqual(parseAgentArgs(['--db']), { ok: false, error: '--db needs a value' })
  assert.deepEqual(parseAgentArgs(['--verbose']), { ok: false, error: 'unknown option "--verbose"' })
})

test('startAgent: a non-loopback host is warned about once; bad options fall back with a warning; close is idempotent', async () => {
  const warnings: string[] = []
  const logger = { info: () => {}, warn: (m: string) => { warnings.push(m) } }
  const agent = await startAgent({ host: '0.0.0.0', port: 0, db: ':memory:', logger, errorsPerSecond: -3 as number, allowedHosts: ['ok', 'not a host'] })
  try {
    assert.match(agent.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    assert.equal((await request(agent.url, '/info')).status, 200)
    assert.equal(warnings.length, 3)
    assert.ok(warnings.some((w) => /bound to 0\.0\.0\.0/.test(w)))
    assert.ok(warnings.some((w) => /invalid option errorsPerSecond/.test(w)))
    assert.ok(warnings.some((w) => /invalid option allowedHosts/.test(w)))
  } finally {
    await Promise.all([agent.close(), agent.close()])
    await agent.close()
  }
  const quiet: string[] = []
  const local = await startAgent({ host: '127.0.0.1', port: 0, db: ':memory:', logger: { info: () => {}, warn: (m) => { quiet.push(m) } } })
  await local.close()
  assert.deepEqual(quiet, [])
  // A taken port rejects (and leaves nothing open).
  const a = await startAgent({ port: 0, db: ':memory:' })
  try {
    await assert.rejects(startAgent({ port: a.port, db: ':memory:' }), /EADDRINUSE/)
  } finally {
    await a.close()
  }
})
