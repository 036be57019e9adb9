import { test } from 'node:test'
import assert from 'node:assert/strict'
import { PrioritySampler } from '../../src/sampling/priority_sampler.js'
import { applyManualDecision } from '../../src/sampling/manual.js'
import { parseSamplingRules } from '../../src/sampling/rules.js'
import type { SamplingRule } from '../../src/sampling/rules.js'
import { ZERO_ID } from '../../src/model/span_data.js'
import type { SpanData } from '../../src/model/span_data.js'
import { newTraceState } from '../../src/model/trace_state.js'
import type { TraceState } from '../../src/model/trace_state.js'

// Trace ids chosen by their Knuth hash (computed with BigInt, independently of the sampler):
// hash 0 is kept at any rate > 0, hash 2^64 - 1 is dropped at any rate < 1.
const MOD = 1n << 64n
const K = 1111111111111111111n
let kInverse = K
for (let i = 0; i < 6; i++) kInverse = (kInverse * (2n - K * kInverse)) % MOD
kInverse = (kInverse + MOD) % MOD
const idForHash = (h: bigint): string => ((h * kInverse) % MOD).toString(16).padStart(16, '0')
const LOW_HASH_ID = idForHash(0n)
const HIGH_HASH_ID = idForHash(MOD - 1n)
const HALF_HASH_ID = idForHash(1n << 63n) // kept at exactly 0.5, dropped below

function root (overrides: Partial<SpanData> = {}): SpanData {
  return {
    traceId: LOW_HASH_ID,
    spanId: '00000000000000bb',
    parentId: ZERO_ID,
    name: 'web.request',
    service: 'checkout',
    resource: 'GET /cart',
    type: 'web',
    startSec: 0,
    startNsec: 0,
    duration: 1,
    error: 0,
    meta: {},
    metrics: {},
    metaStruct: undefined,
    ...overrides,
  }
}

function trace (low = LOW_HASH_ID): TraceState {
  return newTraceState('0000000000000000', low)
}

function sampler (rules: SamplingRule[] = [], rateLimit = 100, now = (): number => 0): PrioritySampler {
  return new PrioritySampler({ rules, rateLimit, now })
}

test('default (no rule, no agent rates yet): AUTO_KEEP, mechanism 0, _dd.agent_psr 1', () => {
  const t = trace(HIGH_HASH_ID)
  sampler().decide(t, root(), 'prod')
  assert.equal(t.samplingPriority, 1)
  assert.equal(t.mechanism, 0)
  assert.deepEqual(t.tags, { '_dd.p.dm': '-0' })
  assert.deepEqual(t.pendingMetrics, { '_dd.agent_psr': 1 })
})

test('rule keep: USER_KEEP, mechanism 3, rule and limit rates, _dd.p.dm -3', () => {
  const t = trace(LOW_HASH_ID)
  sampler([{ sampleRate: 0.5, service: 'checkout' }]).decide(t, root(), 'prod')
  assert.equal(t.samplingPriority, 2)
  assert.equal(t.mechanism, 3)
  assert.deepEqual(t.tags, { '_dd.p.dm': '-3', '_dd.p.ksr': '0.5' })
  assert.deepEqual(t.pendingMetrics, { '_dd.rule_psr': 0.5, '_dd.limit_psr': 1 })
})

test('rule reject by hash: USER_REJECT, no _dd.p.dm, limiter not consulted', () => {
  const t = trace(HIGH_HASH_ID)
  sampler([{ sampleRate: 0.5 }]).decide(t, root(), 'prod')
  assert.equal(t.samplingPriority, -1)
  assert.equal(t.mechanism, 3)
  assert.equal(t.tags['_dd.p.dm'], undefined)
  assert.deepEqual(t.pendingMetrics, { '_dd.rule_psr': 0.5 })
})

test('rule rate is applied with the exact Knuth boundary', () => {
  const s = sampler([{ sampleRate: 0.5 }])
  const atHalf = trace(HALF_HASH_ID)
  s.decide(atHalf, root(), undefined)
  assert.equal(atHalf.samplingPriority, 2)
  const lower = sampler([{ sampleRate: 0.4999999 }])
  const t = trace(HALF_HASH_ID)
  lower.decide(t, root(), undefined)
  assert.equal(t.samplingPriority, -1)
})

test('first matching rule wins; non-matching rules fall through to the agent rates', () => {
  const rules = parseSamplingRules(JSON.stringify([
    { sample_rate: 0, service: 'checkout', resource: 'GET *' },
    { sample_rate: 1, service: 'check*' },
    { sample_rate: 1, tags: { tier: 'gold' } },
  ])).rules
  const s = sampler(rules)
  s.updateAgentRates({ 'service:billing,env:prod': 0 })

  const first = trace(LOW_HASH_ID)
  s.decide(first, root(), 'prod')
  assert.equal(first.samplingPriority, -1, 'rate 0 rule matched first, even for hash 0')
  assert.equal(first.pendingMetrics?.['_dd.rule_psr'], 0)

  const second = trace(HIGH_HASH_ID)
  s.decide(second, root({ resource: 'POST /cart' }), 'prod')
  assert.equal(second.samplingPriority, 2, 'second rule')
  assert.equal(second.pendingMetrics?.['_dd.rule_psr'], 1)

  const third = trace(HIGH_HASH_ID)
  s.decide(third, root({ service: 'billing', meta: { tier: 'GOLD' } }), 'prod')
  assert.equal(third.samplingPriority, 2, 'tag rule')

  const none = trace(LOW_HASH_ID)
  s.decide(none, root({ service: 'billing' }), 'prod')
  assert.equal(none.samplingPriority, 0, 'agent rate 0 for billing/prod')
  assert.equal(none.mechanism, 1)
})

test('rate limiter: 100/s of rule keeps pass, the rest become USER_REJECT with _dd.limit_psr', () => {
  let now = 0
  const s = sampler([{ sampleRate: 1 }], 100, () => now)
  for (let i = 0; i < 100; i++) {
    const t = trace(HIGH_HASH_ID)
    s.decide(t, root(), 'prod')
    assert.equal(t.samplingPriority, 2, `trace ${i}`)
  }
  const limited = trace(HIGH_HASH_ID)
  s.decide(limited, root(), 'prod')
  assert.equal(limited.samplingPriority, -1)
  assert.equal(limited.mechanism, 3)
  assert.equal(limited.tags['_dd.p.dm'], undefined)
  assert.deepEqual(limited.pendingMetrics, { '_dd.rule_psr': 1, '_dd.limit_psr': 100 / 101 })

  // Hash-rejected traces do not spend tokens or count as requests.
  const s2 = sampler([{ sampleRate: 0.5 }], 1, () => now)
  for (let i = 0; i < 5; i++) s2.decide(trace(HIGH_HASH_ID), root(), 'prod')
  const kept = trace(LOW_HASH_ID)
  s2.decide(kept, root(), 'prod')
  assert.equal(kept.samplingPriority, 2)
  assert.equal(kept.pendingMetrics?.['_dd.limit_psr'], 1)

  now = 1000
  const next = trace(HIGH_HASH_ID)
  s.decide(next, root(), 'prod')
  assert.equal(next.samplingPriority, 2, 'a new second')
})

test('rate limit 0 rejects every rule keep; a negative limit keeps all', () => {
  const zero = trace(LOW_HASH_ID)
  sampler([{ sampleRate: 1 }], 0).decide(zero, root(), undefined)
  assert.equal(zero.samplingPriority, -1)
  assert.equal(zero.pendingMetrics?.['_dd.limit_psr'], 0)
  const s = sampler([{ sampleRate: 1 }], -1)
  for (let i = 0; i < 500; i++) {
    const t = trace(LOW_HASH_ID)
    s.decide(t, root(), undefined)
    assert.equal(t.samplingPriority, 2)
  }
})

test('the limiter does not apply to agent-rate decisions', () => {
  const s = sampler([], 0)
  s.updateAgentRates({ 'service:,env:': 1 })
  const t = trace(HIGH_HASH_ID)
  s.decide(t, root(), 'prod')
  assert.equal(t.samplingPriority, 1)
  assert.equal(t.pendingMetrics?.['_dd.limit_psr'], undefined)
})

test('agent rates: service/env key, then the default key', () => {
  const s = sampler()
  s.updateAgentRates({ 'service:checkout,env:prod': 0.5, 'service:,env:': 0 })

  const kept = trace(LOW_HASH_ID)
  s.decide(kept, root(), 'prod')
  assert.equal(kept.samplingPriority, 1)
  assert.equal(kept.mechanism, 1)
  assert.deepEqual(kept.tags, { '_dd.p.dm': '-1', '_dd.p.ksr': '0.5' })
  assert.deepEqual(kept.pendingMetrics, { '_dd.agent_psr': 0.5 })

  const dropped = trace(HIGH_HASH_ID)
  s.decide(dropped, root(), 'prod')
  assert.equal(dropped.samplingPriority, 0)
  assert.equal(dropped.mechanism, 1)
  assert.deepEqual(dropped.tags, { '_dd.p.ksr': '0.5' })
  assert.deepEqual(dropped.pendingMetrics, { '_dd.agent_psr': 0.5 })

  const otherEnv = trace(LOW_HASH_ID)
  s.decide(otherEnv, root(), 'staging')
  assert.equal(otherEnv.samplingPriority, 0, 'default key, rate 0')
  assert.equal(otherEnv.mechanism, 1)
  assert.deepEqual(otherEnv.pendingMetrics, { '_dd.agent_psr': 0 })
})

test('agent rates: an unset env looks up "env:" (empty)', () => {
  const s = sampler()
  s.updateAgentRates({ 'service:checkout,env:': 0 })
  const t = trace(LOW_HASH_ID)
  s.decide(t, root(), undefined)
  assert.equal(t.samplingPriority, 0)
  assert.equal(t.mechanism, 1)
})

test('agent rates: updates replace the previous table; no entry and no default means keep', () => {
  const s = sampler()
  s.updateAgentRates({ 'service:checkout,env:prod': 0 })
  const before = trace(LOW_HASH_ID)
  s.decide(before, root(), 'prod')
  assert.equal(before.samplingPriority, 0)

  s.updateAgentRates({ 'service:other,env:prod': 0 })
  const after = trace(LOW_HASH_ID)
  s.decide(after, root(), 'prod')
  assert.equal(after.samplingPriority, 1)
  assert.equal(after.mechanism, 0)
  assert.deepEqual(after.tags, { '_dd.p.dm': '-0' })
  assert.deepEqual(after.pendingMetrics, { '_dd.agent_psr': 1 })
})

test('agent rates: non-numbers are skipped and rates are clamped to [0, 1]', () => {
  const s = sampler()
  const raw = JSON.parse('{"service:checkout,env:prod":"0","service:billing,env:prod":-0.2,"service:,env:":1.5}')
  s.updateAgentRates(raw as Record<string, number>)
  const t = trace(HIGH_HASH_ID)
  s.decide(t, root(), 'prod')
  assert.equal(t.samplingPriority, 1, 'string rate skipped; default clamped to 1 keeps even hash max')
  assert.equal(t.mechanism, 1)
  assert.equal(t.pendingMetrics?.['_dd.agent_psr'], 1)
  const billing = trace(LOW_HASH_ID)
  s.decide(billing, root({ service: 'billing' }), 'prod')
  assert.equal(billing.samplingPriority, 0, 'clamped to 0 drops even hash 0')
  assert.equal(billing.pendingMetrics?.['_dd.agent_psr'], 0)
})

test('upstream priority is honoured: decide changes nothing', () => {
  const s = sampler([{ sampleRate: 1 }])
  s.updateAgentRates({ 'service:,env:': 1 })
  for (const priority of [-1, 0, 1, 2]) {
    const t = trace(LOW_HASH_ID)
    t.samplingPriority = priority
    t.tags['_dd.p.dm'] = '-3'
    s.decide(t, root(), 'prod')
    assert.equal(t.samplingPriority, priority)
    assert.equal(t.mechanism, undefined)
    assert.deepEqual(t.tags, { '_dd.p.dm': '-3' })
    assert.equal(t.pendingMetrics, undefined)
  }
})

test('decide runs once per trace: a second call spends no limiter token', () => {
  const s = sampler([{ sampleRate: 1 }], 1)
  const t = trace(LOW_HASH_ID)
  s.decide(t, root(), 'prod')
  s.decide(t, root(), 'prod')
  assert.equal(t.samplingPriority, 2)
  assert.deepEqual(t.pendingMetrics, { '_dd.rule_psr': 1, '_dd.limit_psr': 1 })
})

test('decide adds to metrics already pending', () => {
  const t = trace(LOW_HASH_ID)
  t.pendingMetrics = { other: 7 }
  sampler().decide(t, root(), 'prod')
  assert.deepEqual(t.pendingMetrics, { other: 7, '_dd.agent_psr': 1 })
})

test('manual keep and drop: USER_KEEP / USER_REJECT, mechanism 4', () => {
  const kept = trace()
  applyManualDecision(kept, true)
  assert.equal(kept.samplingPriority, 2)
  assert.equal(kept.mechanism, 4)
  assert.deepEqual(kept.tags, { '_dd.p.dm': '-4' })

  applyManualDecision(kept, false)
  assert.equal(kept.samplingPriority, -1)
  assert.equal(kept.mechanism, 4)
  assert.deepEqual(kept.tags, {}, '_dd.p.dm removed on drop')

  // After a manual decision the sampler leaves the trace alone.
  sampler().decide(kept, root(), 'prod')
  assert.equal(kept.samplingPriority, -1)
  assert.equal(kept.pendingMetrics, undefined)
})

test('manual keep overrides an automatic reject, keeps an existing decision maker', () => {
  const s = sampler()
  s.updateAgentRates({ 'service:,env:': 0 })
  const t = trace(LOW_HASH_ID)
  s.decide(t, root(), 'prod')
  assert.equal(t.samplingPriority, 0)
  applyManualDecision(t, true)
  assert.equal(t.samplingPriority, 2)
  assert.equal(t.tags['_dd.p.dm'], '-4')

  // Upstream already kept it via a rule: dd-trace-js leaves `-3` in place.
  const upstream = trace()
  upstream.samplingPriority = 2
  upstream.tags['_dd.p.dm'] = '-3'
  applyManualDecision(upstream, true)
  assert.equal(upstream.samplingPriority, 2)
  assert.equal(upstream.mechanism, 4)
  assert.equal(upstream.tags['_dd.p.dm'], '-3')
})
