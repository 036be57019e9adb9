import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAgent } from '../../src/agent/start_agent.js'
import { invariantHolds, recordedIds, spoolFiles, startChild, storedCounts, type ChildRun } from '../helpers/spool_child.js'
import { startSilentAgent } from '../helpers/silent_agent.js'

/**
 * Exit with the spool on (issue 15 item 4), proven without timing. Every deadline the child
 * could end its exit on (exit flush, shutdown, request timeout, retries, item deadline) is ten
 * minutes, and its agent accepts every payload and answers none. A child that ends by itself
 * within the helper's one-minute guard therefore did not wait for delivery: nothing else could
 * have released it. With the spool off, the same child must wait: the agent answers only once
 * the child has begun its exit with a payload observed in flight, and the child's own account
 * at exit shows those answers arrived, which a child that had not waited could not have seen.
 * LLMObs-only mode: no APM payload to wait for.
 */
const TEN_MINUTES = '600000'
const MODES = ['natural', 'sigterm', 'shutdown'] as const
const BEGUN = { natural: 'exiting', sigterm: 'sigterm', shutdown: 'shutting down' } as const

function exitStats (run: ChildRun): NonNullable<ChildRun['lines'][number]['stats']> {
  assert.equal(run.signal, null, `the child ended by itself, not by the test's guard: ${run.stderr.slice(0, 2000)}`)
  const exit = run.lines.find((l) => l.event === 'exit')
  assert.ok(exit?.stats !== undefined, run.stderr)
  return exit.stats
}

for (const mode of MODES) {
  test(`spool on, ${mode}: the exit ends while the agent answers nothing and every deadline is 10 min; a restart delivers it all exactly once`, { timeout: 120_000 }, async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'spool-exit-'))
    const dir = join(tmp, 'spool')
    const side = join(tmp, 'recorded.txt')
    const silent = await startSilentAgent()
    let agent: Awaited<ReturnType<typeof startAgent>> | undefined
    try {
      const child = startChild(mode, silent.url, dir, side, ['20'], { SPOOL_TEST_APM: 'false', SPOOL_TEST_DEADLINE_MS: TEN_MINUTES })
      if (mode === 'sigterm') {
        await child.line('ready')
        child.proc.kill('SIGTERM')
      }
      const run = await child.done
      const s = exitStats(run)
      assert.equal(run.code, mode === 'sigterm' ? 143 : 0, run.stderr)
      assert.equal(silent.answered, 0, 'the agent answered nothing')
      assert.ok(s.pending > 0, 'events were pending at the exit')
      assert.deepEqual(s.dropped, {}, 'nothing was given up on')
      assert.deepEqual(s.evaluations.dropped, {})
      assert.ok(s.spool!.segments > 0, 'what was pending stayed on disk')
      await silent.close()

      agent = await startAgent({ port: 0, db: ':memory:' })
      const replay = startChild('replay', agent.url, dir, side)
      const done = await replay.line('done')
      await replay.done
      const r = done.stats!
      assert.equal(r.replayed, s.pending, 'every pending span event replayed')
      assert.equal(r.spool!.evaluationsReplayed, s.evaluations.pending, 'every pending evaluation replayed')
      assert.ok(invariantHolds(r) && invariantHolds(r.evaluations), JSON.stringify(r))
      assert.equal(r.pending, 0)
      assert.equal(r.evaluations.pending, 0)
      const recorded = recordedIds(side)
      assert.equal(recorded.length, 40, 'the child recorded its 20 traces (two LLMObs spans each)')
      const stored = storedCounts(agent)
      assert.deepEqual(recorded.filter((id) => stored.get(id) !== 1), [], 'every recorded span stored exactly once')
      assert.deepEqual(spoolFiles(dir), [])
    } finally {
      await silent.close()
      await agent?.close()
      rmSync(tmp, { recursive: true, force: true })
    }
  })

  test(`spool off, ${mode}: the exit waits for the agent (a payload seen in flight after the exit began is answered, and the child saw the answer)`, { timeout: 120_000 }, async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'spool-exit-'))
    const silent = await startSilentAgent()
    try {
      const child = startChild(mode, silent.url, '-', join(tmp, 'recorded.txt'), ['20'], { SPOOL_TEST_APM: 'false', SPOOL_TEST_DEADLINE_MS: TEN_MINUTES })
      // A child that exits first fails the test now rather than leave it waiting for a payload.
      const received = (): Promise<void> => Promise.race([silent.receivedAtLeast(1), child.done.then((r) => {
        throw new Error(`the child exited (${r.code ?? r.signal}) before its first payload arrived: it did not wait`)
      })])
      if (mode === 'sigterm') {
        await child.line('ready')
        await received()
        child.proc.kill('SIGTERM')
      }
      await child.line(BEGUN[mode])
      await received()
      // The child is in its exit and a payload is in flight, unanswered: only a child that waits
      // is still there to receive what follows.
      assert.ok(silent.answerAll() >= 1, 'a payload was held unanswered')
      const run = await child.done
      const s = exitStats(run)
      assert.equal(run.code, mode === 'sigterm' ? 143 : 0, run.stderr)
      assert.equal(s.spool, undefined, 'no spool')
      assert.equal(s.pending, 0, 'the exit waited until every event was acknowledged')
      assert.equal(s.delivered, s.created)
      assert.equal(s.created, 40)
      assert.equal(s.evaluations.pending, 0)
      assert.equal(s.evaluations.delivered, s.evaluations.created)
    } finally {
      await silent.close()
      rmSync(tmp, { recursive: true, force: true })
    }
  })
}
