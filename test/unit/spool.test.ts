import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { setImmediate as turn } from 'node:timers/promises'
import { startAgent } from '../../src/agent/start_agent.js'
import { log } from '../../src/diag/logger.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { Tracer } from '../../src/root/tracer.js'
import { encodeAppend, encodeRelease, type EventKind } from '../../src/spool/record_codec.js'
import { Spool, type SpoolRef } from '../../src/spool/spool.js'
import { spoolFiles, invariantHolds } from '../helpers/spool_child.js'

function tmp (): string { return mkdtempSync(join(tmpdir(), 'spool-unit-')) }

function segFiles (dir: string): string[] { return spoolFiles(dir).filter((f) => f.endsWith('.log')) }

/** A pid that was used and is free now: the owner of a "dead" directory. */
function deadPid (): number { return spawnSync(process.execPath, ['-e', '']).pid! }

/** An owner directory as a dead process leaves it, with the given segment bodies. */
function deadOwner (spoolDir: string, segments: Buffer[], pid = deadPid(), start: string | null = 'gone'): string {
  const dir = join(spoolDir, `owner-${pid}-x-${start ?? 'unknown'}`)
  mkdirSync(dir, { recursive: true })
  writeFileSync(join(dir, 'lock'), JSON.stringify({ pid, start: start ?? undefined, host: hostname() }))
  segments.forEach((b, i) => writeFileSync(join(dir, `seg-00000${i + 1}.log`), b))
  return dir
}

function config (dir: string, maxBytes = 1 << 20): { dir: string, maxBytes: number, fsync: 'always' } {
  return { dir, maxBytes, fsync: 'always' }
}

async function replayAll (spool: Spool): Promise<Array<{ kind: EventKind, json: string, ref: SpoolRef }>> {
  const got: Array<{ kind: EventKind, json: string, ref: SpoolRef }> = []
  await spool.replay((kind, json, ref) => { got.push({ kind, json, ref }); return true })
  return got
}

test('spool: files 0600 in a 0700 directory; a segment whose events are all released is deleted', async () => {
  const root = tmp()
  const dir = join(root, 'spool')
  try {
    const spool = Spool.open(config(dir))!
    const refs = [spool.append('span', '{"a":1}')!, spool.append('eval', '{"b":2}')!]
    await turn()
    const [seg] = segFiles(dir)
    assert.ok(seg !== undefined, 'written once the loop turned')
    assert.equal(statSync(dir).mode & 0o777, 0o700)
    assert.equal(statSync(spool.ownDir).mode & 0o777, 0o700)
    assert.equal(statSync(join(dir, seg)).mode & 0o777, 0o600)
    assert.equal(statSync(join(spool.ownDir, 'lock')).mode & 0o777, 0o600)
    spool.release(refs[0])
    await turn()
    assert.equal(segFiles(dir).length, 1, 'one event still owed')
    spool.release(refs[1])
    assert.deepEqual(segFiles(dir), [])
    assert.equal(spool.stats().bytes, 0)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('spool: full at maxBytes — the event is not spooled (counted), and space comes back as events settle', async () => {
  const root = tmp()
  try {
    const spool = Spool.open(config(root, 300))!
    const json = JSON.stringify({ pad: 'x'.repeat(100) })
    const a = spool.append('span', json)
    const b = spool.append('span', json)
    assert.ok(a !== undefined && b !== undefined)
    assert.equal(spool.append('span', json), undefined, 'over the budget')
    assert.equal(spool.stats().full, 1)
    assert.equal(spool.holdsAll(3), false, 'an event not spooled is not safe on disk')
    spool.release(a)
    spool.release(b)
    assert.ok(spool.append('span', json) !== undefined, 'room again')
    await turn()
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('spool: a dead owner\'s directory is adopted once; its unsettled events replayed; a torn tail cut; then everything removed', async () => {
  const root = tmp()
  try {
    const seg1 = Buffer.concat([encodeAppend(1, 'span', '{"s":1}'), encodeAppend(2, 'span', '{"s":2}'), encodeRelease([1]), encodeAppend(3, 'eval', '{"e":3}')])
    const torn = encodeAppend(4, 'span', '{"s":4}')
    const seg2 = Buffer.concat([encodeAppend(5, 'span', '{"s":5}'), torn.subarray(0, torn.length - 3)])
    deadOwner(root, [seg1, seg2])
    const spool = Spool.open(config(root))!
    const got = await replayAll(spool)
    assert.deepEqual(got.map((g) => [g.kind, g.json]), [['span', '{"s":2}'], ['eval', '{"e":3}'], ['span', '{"s":5}']])
    const s = spool.stats()
    assert.equal(s.adoptedOwners, 1)
    assert.equal(s.tornTails, 1)
    assert.equal(s.corruptSegments, 0)
    // A second process (here: a second spool) finds nothing left to adopt.
    const other = Spool.open(config(root))!
    assert.deepEqual(await replayAll(other), [])
    for (const g of got) spool.release(g.ref)
    assert.deepEqual(segFiles(root), [], 'adopted segments deleted once settled')
    assert.ok(!readdirSync(spool.ownDir).some((n) => n.startsWith('adopted-')), 'the adopted tree is removed')
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('spool: a corrupted segment is moved aside (.corrupt) and its good prefix replayed; releases after the cut stay readable', async () => {
  const root = tmp()
  try {
    const good = Buffer.concat([encodeAppend(1, 'span', '{"s":1}'), encodeAppend(2, 'span', '{"s":2}')])
    const bad = Buffer.concat([good, encodeAppend(3, 'span', '{"s":3}'), encodeAppend(4, 'span', '{"s":4}')])
    bad[good.length + 12] ^= 0xff
    deadOwner(root, [bad])
    const spool = Spool.open(config(root))!
    const got = await replayAll(spool)
    assert.deepEqual(got.map((g) => g.json), ['{"s":1}', '{"s":2}'])
    assert.equal(spool.stats().corruptSegments, 1)
    const aside = readdirSync(root).filter((n) => n.endsWith('.corrupt'))
    assert.equal(aside.length, 1)
    assert.deepEqual(readFileSync(join(root, aside[0])), bad, 'the damaged original kept for inspection')
    // This process dies with one of them settled: its successor replays only the other.
    spool.release(got[0].ref)
    await turn()
    const adopted = segFiles(root)
    assert.equal(adopted.length, 1)
    const dir = join(root, `owner-${deadPid()}-y-dead`)
    mkdirSync(dir)
    writeFileSync(join(dir, 'lock'), JSON.stringify({ pid: deadPid(), start: 'gone', host: hostname() }))
    writeFileSync(join(dir, 'seg-000001.log'), readFileSync(join(root, adopted[0])))
    const next = Spool.open(config(join(root)))!
    const again = await replayAll(next)
    assert.deepEqual(again.map((g) => g.json), ['{"s":2}'])
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('spool: a live owner is never adopted (this process, the parent process); a recycled pid is not its owner', async () => {
  const root = tmp()
  try {
    const mine = Spool.open(config(root))!
    mine.append('span', '{"live":1}')
    await turn()
    // The parent runs and its start time cannot be told apart: alive.
    deadOwner(root, [encodeAppend(1, 'span', '{"parent":1}')], process.ppid, null)
    const other = Spool.open(config(root))!
    assert.deepEqual(await replayAll(other), [])
    assert.equal(other.stats().adoptedOwners, 0)
    assert.ok(existsSync(mine.ownDir))
    // Same pid, another start time: the pid was recycled, its owner is dead.
    deadOwner(root, [encodeAppend(1, 'span', '{"recycled":1}')], process.ppid, 'not-its-start')
    const third = Spool.open(config(root))!
    assert.deepEqual((await replayAll(third)).map((g) => g.json), ['{"recycled":1}'])
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('spool: an unusable directory warns once and LLM Observability runs without a spool, delivering as before', async () => {
  const root = tmp()
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const warnings: string[] = []
  log.resetWarnings()
  log.configure({ sink: (level, m) => { if (level === 'warn') warnings.push(m) } })
  const tracer = new Tracer({ url: agent.url, flushIntervalMs: 50 })
  try {
    // A path under a regular file: no process, root included, can create it.
    writeFileSync(join(root, 'file'), '')
    const unusable = join(root, 'file', 'spool')
    const sdks = [new LLMObs(() => tracer), new LLMObs(() => tracer)]
    for (const llmobs of sdks) {
      assert.equal(llmobs.enable({ mlApp: 'ro', flushIntervalMs: 50, spool: { dir: unusable } }), true)
      llmobs.trace({ kind: 'llm', name: 'chat' }, () => {})
      await llmobs.flush()
      const s = llmobs.stats()
      assert.equal(s.spool, undefined)
      assert.equal(s.delivered, 1)
      assert.ok(invariantHolds(s))
      await llmobs.disable()
    }
    assert.equal(warnings.filter((w) => w.includes('spool')).length, 1, warnings.join('\n'))
    assert.match(warnings.find((w) => w.includes('spool'))!, /running without a spool/)
  } finally {
    log.configure({ sink: () => {} })
    log.resetWarnings()
    await tracer.shutdown()
    await agent.close()
    rmSync(root, { recursive: true, force: true })
  }
})

test('spool: a directory it cannot write gives no spool (the tracer runs without one)', async () => {
  // /proc/self exists and refuses new files even to root; a chmod 0500 directory is the everyday
  // case, but permissions do not stop root (CI runs as root), so it is checked only for others.
  assert.equal(Spool.open(config('/proc/self')), undefined)
  if (process.getuid?.() === 0) return
  const root = tmp()
  try {
    const { chmodSync } = await import('node:fs')
    chmodSync(root, 0o500)
    assert.equal(Spool.open(config(root)), undefined)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})

test('spool: with LLM Observability, every event and evaluation is spooled until acknowledged; a full spool still delivers (spool.full)', async () => {
  const root = tmp()
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const tracer = new Tracer({ url: agent.url, flushIntervalMs: 50 })
  try {
    const llmobs = new LLMObs(() => tracer)
    llmobs.enable({ mlApp: 'sp', flushIntervalMs: 50, spool: { dir: root, maxBytes: 4096, fsync: 'never' } })
    for (let i = 0; i < 20; i++) {
      llmobs.trace({ kind: 'llm', name: 'chat' }, (span) => {
        llmobs.annotate(span, { inputData: 'q'.repeat(200), outputData: 'a' })
        llmobs.submitEvaluation(llmobs.exportSpan(span), { label: 'l', metricType: 'boolean', value: true })
      })
    }
    await turn()
    const before = llmobs.stats()
    assert.ok(before.spooled > 0 && before.spooled < 20, `some spooled (${before.spooled}), the rest past maxBytes`)
    assert.ok(before.spool!.full > 0)
    assert.ok(segFiles(root).length > 0)
    await llmobs.flush()
    const s = llmobs.stats()
    assert.equal(s.delivered, 20, 'spooled or not, every event delivered')
    assert.equal(s.evaluations.delivered, 20)
    assert.ok(invariantHolds(s) && invariantHolds(s.evaluations))
    assert.equal(s.pending, 0)
    assert.deepEqual(segFiles(root), [], 'released once acknowledged')
    assert.equal(agent.store.queries.listSpans({ limit: 100 }).length, 20)
  } finally {
    await tracer.shutdown()
    await agent.close()
    rmSync(root, { recursive: true, force: true })
  }
})
