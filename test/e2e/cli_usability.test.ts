import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import net, { type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { AGENT_OPTIONS } from '../../src/cli/agent.js'
import { DEMO_OPTIONS, parseDemoArgs } from '../../src/cli/demo/demo.js'

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url))
const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }

function runCli (args: string[], cwd = tmpdir()): ReturnType<typeof spawnSync> & { stdout: string, stderr: string } {
  return spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', timeout: 60_000 }) as ReturnType<typeof spawnSync> & { stdout: string, stderr: string }
}

/** A running CLI child, its output so far, and a wait for a line (capped only against a hang). */
function startCli (args: string[], cwd: string): { child: ChildProcess, out: () => string, waitFor: (re: RegExp) => Promise<RegExpMatchArray>, exited: Promise<number | null> } {
  const child = spawn(process.execPath, [cli, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  child.stdout?.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr?.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)))
  return {
    child,
    out: () => out,
    exited,
    waitFor: async (re) => {
      const end = Date.now() + 60_000
      for (;;) {
        const m = out.match(re)
        if (m !== null) return m
        if (Date.now() > end || child.exitCode !== null) throw new Error(`no ${String(re)} in: ${out}`)
        await new Promise((r) => setTimeout(r, 20))
      }
    },
  }
}

test('--version prints the package version; --help lists every command and every option', () => {
  const v = runCli(['--version'])
  assert.equal(v.status, 0)
  assert.equal(v.stdout, `llmobs-ts ${pkg.version}\n`)
  const h = runCli(['--help'])
  assert.equal(h.status, 0)
  for (const command of ['agent', 'demo']) assert.match(h.stdout, new RegExp(`^ {2}${command} `, 'm'))
  for (const option of [...AGENT_OPTIONS, ...DEMO_OPTIONS, '--version', '--help']) assert.ok(h.stdout.includes(option), `--help names ${option}`)
  const bad = runCli(['serve'])
  assert.equal(bad.status, 2)
  assert.match(bad.stderr, /unknown command "serve" \(commands: agent, demo/)
})

test('demo options: errors give the valid range', () => {
  assert.equal(parseDemoArgs(['--sample-rate', '1.5']), '--sample-rate must be a number from 0 to 1, got "1.5"')
  assert.equal(parseDemoArgs(['--requests=0']), '--requests must be an integer from 1 to 100000, got "0"')
  assert.equal(parseDemoArgs(['--concurrency', '2.5']), '--concurrency must be an integer from 1 to 256, got "2.5"')
  assert.equal(parseDemoArgs(['--seed', 'x']), '--seed must be an integer, got "x"')
  assert.equal(parseDemoArgs(['--requests']), '--requests needs a value')
  assert.equal(parseDemoArgs(['--toString', '1']), 'unknown option "--toString"')
  assert.deepEqual(parseDemoArgs(['--once', '--sample-rate=0', '--requests', '3']), { once: true, sampleRate: 0, requests: 3, concurrency: 8, seed: 42 })
  const r = runCli(['demo', '--sample-rate', '7'])
  assert.equal(r.status, 2)
  assert.match(r.stderr, /--sample-rate must be a number from 0 to 1, got "7"/)
  const p = runCli(['agent', '--port', '99999'])
  assert.equal(p.status, 2)
  assert.match(p.stderr, /--port must be 0-65535/)
})

test('agent: a port in use says so and suggests --port 0', async () => {
  const blocker = net.createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  try {
    const port = (blocker.address() as AddressInfo).port
    const r = runCli(['agent', '--port', String(port), '--db', ':memory:'])
    assert.equal(r.status, 1)
    assert.match(r.stderr, new RegExp(`port ${port} is already in use on 127\\.0\\.0\\.1.*--port 0 for a free one`))
  } finally {
    await new Promise((resolve) => blocker.close(resolve))
  }
})

test('agent: --db in a missing directory is an error, and no directory is created', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-db-'))
  try {
    const target = join(dir, 'no', 'such', 'agent.db')
    const r = runCli(['agent', '--port', '0', '--db', target], dir)
    assert.equal(r.status, 2)
    assert.match(r.stderr, /directory .*no[/\\]such does not exist/)
    assert.equal(existsSync(join(dir, 'no')), false)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('agent --host 0.0.0.0 prints the address it listens on', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-host-'))
  const c = startCli(['agent', '--host', '0.0.0.0', '--port', '0', '--db', ':memory:'], dir)
  try {
    const m = await c.waitFor(/bound to 0\.0\.0\.0:(\d+) \(every interface\)/)
    assert.ok(c.out().includes(`listening on http://127.0.0.1:${m[1]}`), c.out())
    c.child.kill('SIGTERM')
    assert.equal(await c.exited, 0)
  } finally {
    c.child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})

test('demo: Ctrl-C says it stopped', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cli-demo-'))
  const c = startCli(['demo', '--requests', '4', '--concurrency', '2'], dir)
  try {
    await c.waitFor(/press Ctrl-C to stop/)
    c.child.kill('SIGINT')
    assert.equal(await c.exited, 0, c.out())
    assert.match(c.out(), /llmobs-ts demo: SIGINT, stopped/)
  } finally {
    c.child.kill('SIGKILL')
    rmSync(dir, { recursive: true, force: true })
  }
})
