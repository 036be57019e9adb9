import { test } from 'node:test'
import assert from 'node:assert/strict'
import { RateLimiter } from '../../src/sampling/rate_limiter.js'
import { log } from '../../src/diag/logger.js'

function clock (start = 0): { now: () => number, set: (t: number) => void } {
  let t = start
  return { now: () => t, set: (v) => { t = v } }
}

function allowedOf (limiter: RateLimiter, n: number): number {
  let allowed = 0
  for (let i = 0; i < n; i++) if (limiter.isAllowed()) allowed++
  return allowed
}

test('100/s lets 100 through, rejects the rest of the second, then opens again', () => {
  const c = clock(5000)
  const limiter = new RateLimiter(100, c.now)
  assert.equal(limiter.effectiveRate(), 1, 'nothing asked yet')
  assert.equal(allowedOf(limiter, 100), 100)
  assert.equal(limiter.effectiveRate(), 1)
  assert.equal(limiter.isAllowed(), false)
  assert.equal(limiter.effectiveRate(), 100 / 101)
  c.set(5999)
  assert.equal(limiter.isAllowed(), false, 'same window, bucket nearly refilled but window spent')
  c.set(6000)
  assert.equal(limiter.isAllowed(), true, 'new window, bucket refilled')
  // Previous window (100 of 102) and this one (1 of 1) together.
  assert.equal(limiter.effectiveRate(), 101 / 103)
  assert.equal(allowedOf(limiter, 200), 99)
})

test('the token bucket stops a burst straddling two windows', () => {
  const c = clock(0)
  const limiter = new RateLimiter(10, c.now)
  assert.equal(limiter.isAllowed(), true) // opens the window at 0
  c.set(999)
  assert.equal(allowedOf(limiter, 9), 9) // window full: 10
  c.set(1000)
  // New window, but only ~1 token has dripped in since the burst at 999.
  assert.equal(allowedOf(limiter, 10), 1)
  c.set(1100)
  assert.equal(allowedOf(limiter, 10), 1) // 100 ms at 10/s drips one token
  c.set(2000)
  // A new window opens (the last began at 1000); 900 ms dripped 9 tokens, so 9 of its 10 pass.
  assert.equal(allowedOf(limiter, 20), 9)
})

test('limit 0 keeps nothing and reports 0; a negative limit keeps everything and reports 1', () => {
  const none = new RateLimiter(0, () => 0)
  assert.equal(allowedOf(none, 5), 0)
  assert.equal(none.effectiveRate(), 0)
  const all = new RateLimiter(-1, () => 0)
  assert.equal(allowedOf(all, 10_000), 10_000)
  assert.equal(all.effectiveRate(), 1)
  assert.equal(allowedOf(new RateLimiter(Number.POSITIVE_INFINITY, () => 0), 1000), 1000)
  assert.equal(allowedOf(new RateLimiter(-0.5, () => 0), 3), 0, 'truncates to 0')
})

test('fractional limits are truncated; NaN falls back to the default with one warning', () => {
  assert.equal(allowedOf(new RateLimiter(2.9, () => 0), 10), 2)
  const warnings: string[] = []
  log.resetWarnings()
  log.configure({ sink: (level, message) => { if (level === 'warn') warnings.push(message) } })
  try {
    assert.equal(allowedOf(new RateLimiter(Number.NaN, () => 0), 150), 100)
    assert.equal(allowedOf(new RateLimiter(Number.NaN, () => 0), 1), 1)
  } finally {
    log.configure({ sink: () => {} })
    log.resetWarnings()
  }
  assert.equal(warnings.length, 1)
  assert.match(warnings[0] ?? '', /rate limit/)
})

test('a clock that goes backwards opens a new window instead of freezing the limiter', () => {
  const c = clock(10_000)
  const limiter = new RateLimiter(1, c.now)
  assert.equal(limiter.isAllowed(), true)
  assert.equal(limiter.isAllowed(), false)
  c.set(9_000)
  assert.equal(limiter.isAllowed(), false, 'a new window, but no token dripped yet')
  c.set(10_000)
  // A limiter anchored on the old window start would stay shut until 11000.
  assert.equal(limiter.isAllowed(), true)
})
