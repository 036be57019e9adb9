import { test } from 'node:test'
import assert from 'node:assert/strict'
import { AgentSampler, chunkPriority } from '../../src/agent/agent_sampler.js'

interface S { error: number, metrics: Record<string, number> }
const span = (metrics: Record<string, number> = {}, error = 0): S => ({ error, metrics })
const chunk = (priority: number | undefined, error = false): S[] =>
  [span(priority === undefined ? {} : { _sampling_priority_v1: priority }), span({}, error ? 1 : 0)]

test('priority comes from the first span that carries it, truncated like int32(float64)', () => {
  assert.equal(chunkPriority([span(), span({ _sampling_priority_v1: 2 }), span({ _sampling_priority_v1: -1 })]), 2)
  assert.equal(chunkPriority([span({ _sampling_priority_v1: 0.9 })]), 0)
  assert.equal(chunkPriority([span({ _sampling_priority_v1: -0.5 })]), 0)
  assert.equal(chunkPriority([span({ _sampling_priority_v1: -1.7 })]), -1)
  assert.equal(chunkPriority([span({ _sampling_priority_v1: NaN })]), undefined)
  assert.equal(chunkPriority([span(), span()]), undefined)
})

test('>0 kept, <0 dropped even with an error, 0 dropped without an error, no priority kept', () => {
  const pass = new AgentSampler(10).begin(1_000)
  assert.deepEqual(pass.decide(chunk(1)), { priority: 1, kept: true, keptByErrors: false })
  assert.deepEqual(pass.decide(chunk(2, true)), { priority: 2, kept: true, keptByErrors: false })
  assert.deepEqual(pass.decide(chunk(-1, true)), { priority: -1, kept: false, keptByErrors: false })
  assert.deepEqual(pass.decide(chunk(0)), { priority: 0, kept: false, keptByErrors: false })
  assert.deepEqual(pass.decide(chunk(undefined)), { priority: undefined, kept: true, keptByErrors: false })
})

test('errors sampler keeps at most N priority-0 error chunks per fixed 1-second window', () => {
  const sampler = new AgentSampler(3)
  const a = sampler.begin(5_000)
  const kept = [0, 1, 2, 3, 4].map(() => a.decide(chunk(0, true)).kept)
  assert.deepEqual(kept, [true, true, true, false, false])
  a.commit()
  // Same window, budget spent by the committed pass.
  assert.equal(sampler.begin(5_999).decide(chunk(0, true)).kept, false)
  // Next window: a fresh budget.
  const b = sampler.begin(6_000)
  assert.equal(b.decide(chunk(0, true)).keptByErrors, true)
})

test('an uncommitted pass (rejected request) does not spend the errors budget', () => {
  const sampler = new AgentSampler(1)
  assert.equal(sampler.begin(1_000).decide(chunk(0, true)).kept, true)
  assert.equal(sampler.begin(1_000).decide(chunk(0, true)).kept, true)
  const p = sampler.begin(1_000)
  p.decide(chunk(0, true))
  p.commit()
  assert.equal(sampler.begin(1_500).decide(chunk(0, true)).kept, false)
})

test('errorsPerSecond 0 keeps no priority-0 chunk', () => {
  assert.equal(new AgentSampler(0).begin(0).decide(chunk(0, true)).kept, false)
})
