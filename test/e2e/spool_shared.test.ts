import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { decodeSegment } from '../../src/spool/record_codec.js'
import { deadPort, invariantHolds, recordedIds, setFault, spoolFiles, startChild, storedCounts, type ChildLine } from '../helpers/spool_child.js'

function tempSpool (): { tmp: string, dir: string, side: string } {
  const tmp = mkdtempSync(join(tmpdir(), 'spool-e2e-'))
  return { tmp, dir: join(tmp, 'spool'), side: join(tmp, 'recorded.txt') }
}

/** Complete records in the newest segment of the one owner directory under `dir`. */
function recordsIn (dir: string): number {
  const owner = readdirSync(dir).find((n) => n.startsWith('owner-'))
  if (owner === undefined) return 0
  const segs = readdirSync(join(dir, owner)).filter((n) => n.endsWith('.log')).sort()
  if (segs.length === 0) return 0
  const buf = readFileSync(join(dir, owner, segs[segs.length - 1]))
  let n = 0
  for (let pos = 0; pos + 8 <= buf.length && pos + 8 + buf.readUInt32LE(pos) <= buf.length; pos += 8 + buf.readUInt32LE(pos)) n++
  return n
}

function assertAllStoredOnce (agent: LocalAgent, side: string): void {
  const recorded = recordedIds(side)
  assert.ok(recorded.length > 0, 'spans were recorded')
  const stored = storedCounts(agent)
  const missing = recorded.filter((id) => !stored.has(id))
  assert.equal(missing.length, 0, `${missing.length} of ${recorded.length} recorded spans never reached the agent`)
  assert.equal([...stored.values()].filter((n) => n > 1).length, 0, 'stored twice')
}

function assertSettled (l: ChildLine): void {
  const s = l.stats!
  assert.ok(invariantHolds(s), JSON.stringify(s))
  assert.ok(invariantHolds(s.evaluations), JSON.stringify(s.evaluations))
  assert.equal(s.pending, 0)
  assert.equal(s.evaluations.pending, 0)
}

test('two processes share a spool dir: the dead one\'s segments are adopted by exactly one newcomer, the live one\'s by no one until it dies', { timeout: 120_000 }, async () => {
  const { tmp, dir, side } = tempSpool()
  const agent = await startAgent({ port: 0, db: join(tmp, 'agent.db') })
  // Down for the loaded pair: their events stay unsettled in the spool.
  const down = `http://127.0.0.1:${await deadPort()}`
  try {
    // B lives on with the agent down while the newcomers run: a low rate keeps it under the
    // writer's buffer cap, past which events are dropped (a fate, so released from the spool).
    const slow = { SPOOL_TEST_RATE: '1' }
    const a = startChild('load', down, dir, side, [], slow)
    const b = startChild('load', down, dir, side, [], slow)
    await Promise.all([a.line('started'), b.line('started')])
    await sleep(300)
    a.proc.kill('SIGKILL')
    await a.done
    // Two newcomers at once race for the dead owner's directory.
    const c = startChild('replay', agent.url, dir, side)
    const d = startChild('replay', agent.url, dir, side)
    const [cl, dl] = await Promise.all([c.line('done'), d.line('done')])
    await Promise.all([c.done, d.done])
    assert.equal(cl.stats!.spool!.adoptedOwners + dl.stats!.spool!.adoptedOwners, 1, 'A\'s directory adopted once')
    assert.ok(cl.stats!.replayed + dl.stats!.replayed > 0, 'A\'s events replayed')
    assertSettled(cl)
    assertSettled(dl)
    assert.ok(spoolFiles(dir).some((f) => f.startsWith(`owner-${b.proc.pid}-`)), 'the live owner keeps its directory')

    b.proc.kill('SIGKILL')
    await b.done
    const e = startChild('replay', agent.url, dir, side)
    const el = await e.line('done')
    await e.done
    assert.equal(el.stats!.spool!.adoptedOwners, 1, 'B\'s directory, once B died')
    assertSettled(el)
    assertAllStoredOnce(agent, side)
    assert.deepEqual(spoolFiles(dir), [])
  } finally {
    await agent.close()
    rmSync(tmp, { recursive: true, force: true })
  }
})

/**
 * Exit with the spool on (issue 15 item 4): the agent holds every LLMObs request for 60 s, so
 * nothing can be delivered before the exit. shutdown() and SIGTERM end without reaching their
 * deadline (no "deadline reached with data still pending" warning: what is pending is on disk),
 * and the next process delivers all of it. LLMObs-only mode: no APM payload to wait for.
 */
for (const mode of ['shutdown', 'sigterm', 'natural'] as const) {
  test(`exit with the spool on (${mode}): does not wait for a stalled destination, and loses nothing`, { timeout: 120_000 }, async () => {
    const { tmp, dir, side } = tempSpool()
    const agent = await startAgent({ port: 0, db: join(tmp, 'agent.db') })
    try {
      await setFault(agent, { path: '/evp_proxy/', delayMs: 60_000, count: 1000 })
      const child = startChild(mode, agent.url, dir, side, ['20'], { SPOOL_TEST_APM: 'false' })
      if (mode === 'sigterm') {
        await child.line('ready')
        child.proc.kill('SIGTERM')
      }
      const run = await child.done
      assert.equal(run.code, mode === 'sigterm' ? 143 : 0, run.stderr)
      assert.doesNotMatch(run.stderr, /deadline/, 'the exit did not run into its deadline')
      const exit = run.lines.find((l) => l.event === 'exit')!
      assert.ok(exit.stats!.pending > 0, 'the destination answered nothing before the exit')
      assert.ok(exit.stats!.spool!.segments > 0, 'what was pending stayed on disk')

      await setFault(agent, { clear: true })
      const replay = startChild('replay', agent.url, dir, side)
      const done = await replay.line('done')
      await replay.done
      assert.equal(done.stats!.replayed, exit.stats!.pending, 'every pending event replayed')
      assertSettled(done)
      assertAllStoredOnce(agent, side)
      assert.deepEqual(spoolFiles(dir), [])
    } finally {
      await agent.close()
      rmSync(tmp, { recursive: true, force: true })
    }
  })
}

test('a dead process\'s segment torn at its tail, or with a flipped byte: the replay cuts it at the last good record, counts it, and delivers the rest', { timeout: 120_000 }, async () => {
  for (const damage of ['torn', 'flipped'] as const) {
    const { tmp, dir, side } = tempSpool()
    const agent = await startAgent({ port: 0, db: join(tmp, 'agent.db') })
    const down = `http://127.0.0.1:${await deadPort()}`
    try {
      const a = startChild('load', down, dir, side)
      await a.line('started')
      // Killed once it has spans on disk (it records them past the durability point), however
      // slowly a loaded machine runs it: a fixed sleep could kill it before its first write.
      // The flip goes into the first record: with one write per loop turn, a file may hold only
      // a few records, and a flip in the last one is a torn tail, not corruption.
      while (recordedIds(side).length < 10 || (damage === 'flipped' && recordsIn(dir) < 2)) await sleep(20)
      a.proc.kill('SIGKILL')
      const killed = await a.done
      assert.equal(killed.signal, 'SIGKILL', killed.stderr)
      const owner = readdirSync(dir).find((n) => n.startsWith('owner-'))
      assert.ok(owner !== undefined, `the killed child left its directory: ${JSON.stringify(spoolFiles(dir))}`)
      const segs = readdirSync(join(dir, owner)).filter((n) => n.endsWith('.log')).sort()
      const file = join(dir, owner, segs[segs.length - 1])
      const buf = readFileSync(file)
      if (damage === 'torn') truncateSync(file, buf.length - 3)
      else { buf[12] ^= 0xff; writeFileSync(file, buf) }
      const expected = decodeSegment(readFileSync(file))
      assert.equal(expected.damage, damage === 'torn' ? 'torn' : 'corrupt')

      const replay = startChild('replay', agent.url, dir, side)
      const done = await replay.line('done')
      const run = await replay.done
      assert.equal(run.code, 0, run.stderr)
      const s = done.stats!
      assertSettled(done)
      assert.equal(damage === 'torn' ? s.spool!.tornTails : s.spool!.corruptSegments, 1)
      // Earlier segments (if any) are whole: the damaged one gives its good records.
      assert.ok(s.replayed + s.spool!.evaluationsReplayed >= expected.unsettled.length)
      const stored = storedCounts(agent)
      for (const u of expected.unsettled.filter((x) => x.kind === 'span')) {
        const e = JSON.parse(u.json) as { trace_id: string, span_id: string }
        assert.equal(stored.get(`${e.trace_id}:${e.span_id}`), 1)
      }
      const left = spoolFiles(dir)
      assert.deepEqual(left, damage === 'torn' ? [] : left.filter((f) => f.endsWith('.corrupt')), 'only the moved-aside copy stays')
      if (damage === 'flipped') assert.equal(left.length, 1)
    } finally {
      await agent.close()
      rmSync(tmp, { recursive: true, force: true })
    }
  }
})
