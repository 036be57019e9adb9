import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { startAgent } from '../../src/agent/start_agent.js'
import { deadPort, invariantHolds, prng, recordedIds, setFault, spoolFiles, startChild, storedCounts } from '../helpers/spool_child.js'

/**
 * Durable delivery (issue 15): a child under LLM load is killed with SIGKILL at random moments,
 * with the agent up, down and slow in turn; each new child adopts what the dead ones left. At
 * the end one child with the agent up replays the rest. Every span a child recorded (after its
 * finish and a turn of the loop, the spool's durability point) is stored at the agent exactly
 * once, the replaying process's ledger balances with nothing pending, and no spool file is left.
 *
 * The kill moments are random (seeded, printed) and the waits before each kill are what makes
 * them so: nothing here asserts how long anything took.
 */
const KILLS = 21
const CONDITIONS = ['up', 'down', 'slow'] as const

test(`kill -9 at ${KILLS} random moments under load (agent up / down / slow): every recorded span stored exactly once after a replay`, { timeout: 120_000 }, async (t) => {
  const seed = Number(process.env.SPOOL_SEED ?? Date.now() % 1_000_000)
  t.diagnostic(`seed ${seed} (SPOOL_SEED=${seed} reproduces the kill moments)`)
  const random = prng(seed)
  const tmp = mkdtempSync(join(tmpdir(), 'spool-kill-'))
  const dir = join(tmp, 'spool')
  const side = join(tmp, 'recorded.txt')
  const agent = await startAgent({ port: 0, db: join(tmp, 'agent.db') })
  const down = `http://127.0.0.1:${await deadPort()}`
  try {
    for (let k = 0; k < KILLS; k++) {
      const condition = CONDITIONS[k % CONDITIONS.length]
      // Slow: every request waits, payloads are in flight when the kill comes.
      if (condition === 'slow') await setFault(agent, { path: '/', delayMs: 400, count: 10_000 })
      const child = startChild('load', condition === 'down' ? down : agent.url, dir, side)
      await child.line('started')
      await sleep(40 + Math.floor(random() * 400))
      child.proc.kill('SIGKILL')
      const run = await child.done
      assert.equal(run.signal, 'SIGKILL', `kill ${k} (${condition}): the child died of the kill, not of itself: ${run.stderr.slice(0, 1000)}`)
      if (condition === 'slow') await setFault(agent, { clear: true })
    }
    const recorded = recordedIds(side)
    assert.ok(recorded.length > KILLS * 10, `load produced spans (${recorded.length})`)

    const replay = startChild('replay', agent.url, dir, side)
    const done = await replay.line('done')
    const run = await replay.done
    assert.equal(run.code, 0, run.stderr)
    const stats = done.stats!
    t.diagnostic(`recorded ${recorded.length} spans; the last child replayed ${stats.replayed} span events, ${stats.spool?.evaluationsReplayed} evaluations; adopted ${stats.spool?.adoptedOwners} owners; torn tails ${stats.spool?.tornTails}`)
    assert.ok(stats.replayed > 0, 'the last child replayed what the dead ones left')
    assert.ok(invariantHolds(stats), `span ledger balances: ${JSON.stringify(stats)}`)
    assert.ok(invariantHolds(stats.evaluations), `evaluation ledger balances: ${JSON.stringify(stats.evaluations)}`)
    assert.equal(stats.pending, 0)
    assert.equal(stats.evaluations.pending, 0)
    assert.deepEqual(stats.dropped, {})

    const stored = storedCounts(agent)
    const missing = recorded.filter((id) => !stored.has(id))
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} of ${recorded.length} recorded spans never reached the agent`)
    const twice = [...stored.values()].filter((n) => n > 1).length
    assert.equal(twice, 0, 'stored twice')
    assert.equal(new Set(recorded).size, recorded.length, 'each span recorded once by its child')
    assert.deepEqual(spoolFiles(dir), [], 'every spool file is gone once everything settled')
  } finally {
    await agent.close()
    rmSync(tmp, { recursive: true, force: true })
  }
})
