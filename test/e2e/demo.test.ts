import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, existsSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))

test('npm start -- --once: the demo prints a ledger with nothing lost and no duplicate arrival, and exits 0', { timeout: 90_000 }, () => {
  const cwd = mkdtempSync(join(tmpdir(), 'llmobs-demo-'))
  try {
    const r = spawnSync(process.execPath, [cli, 'demo', '--once', '--requests', '60', '--sample-rate', '0.25'], { cwd, encoding: 'utf8', timeout: 80_000 })
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`)
    const value = (label: string): number => {
      const m = r.stdout.match(new RegExp(`^  ${label}: (\\d+)$`, 'm'))
      assert.ok(m !== null, `ledger line "${label}" in:\n${r.stdout}`)
      return Number(m[1])
    }
    const created = value('created')
    assert.ok(created >= 60 * 4, `created ${created}`)
    assert.equal(value('delivered'), created)
    assert.equal(value('lost'), 0)
    // The agent's duplicates_suppressed, read over the query API: a double send would show here.
    assert.equal(value('duplicate arrivals'), 0)
    assert.doesNotMatch(r.stdout, /^ {2}duplicates: /m, 'no "stored twice" figure: the store\'s UNIQUE key makes it 0 by construction')
    assert.match(r.stdout, /duplicate arrivals:\n? +spans that reached the agent again/)
    assert.ok(value('rescued') > 0, 'at 25% sampling most traces are predicted drops')
    assert.ok(value('rode the trace') > 0)
    assert.equal(value('rode the trace') + value('rescued') + value('direct') >= created, true)
    assert.match(r.stdout, /UI: http:\/\/127\.0\.0\.1:\d+\//)
    assert.ok(existsSync(join(cwd, '.llmobs', 'demo.db')), 'its own file store, created on demand')
    assert.ok(!existsSync(join(cwd, '.llmobs', 'agent.db')), 'the agent\'s store is not touched')
    assert.ok(!existsSync(join(cwd, '.llmobs', 'demo.db.lock')), 'the lock is released')
  } finally {
    rmSync(cwd, { recursive: true, force: true })
  }
})

test('a second demo in the same directory refuses with a clear message instead of clearing the first one\'s store', { timeout: 30_000 }, () => {
  const cwd = mkdtempSync(join(tmpdir(), 'llmobs-demo-'))
  try {
    mkdirSync(join(cwd, '.llmobs'))
    // A live process (this test runner) holds the lock.
    writeFileSync(join(cwd, '.llmobs', 'demo.db.lock'), String(process.pid))
    const r = spawnSync(process.execPath, [cli, 'demo', '--once', '--requests', '1'], { cwd, encoding: 'utf8', timeout: 25_000 })
    assert.equal(r.status, 1, `${r.stdout}\n${r.stderr}`)
    assert.match(r.stderr, new RegExp(`another demo \\(pid ${process.pid}\\) is using .*demo\\.db; stop it first`))
    assert.ok(!existsSync(join(cwd, '.llmobs', 'demo.db')), 'nothing opened')
  } finally {
    rmSync(cwd, { recursive: true, force: true })
  }
})
