import { log } from '../diag/logger.js'

/** `DD_TRACE_RATE_LIMIT` default: rule-kept traces per second. */
export const DEFAULT_RATE_LIMIT = 100

const WINDOW_MS = 1000

/**
 * Caps how many traces sampling rules may keep per second, with the semantics of dd-trace-js
 * (which wraps the `limiter` npm package): a limit below 0 lets everything through, 0 lets nothing
 * through, N allows at most N per one-second window *and* draws each pass from a token bucket of
 * N that refills continuously at N per second. The bucket is what stops a burst at the end of one
 * window and another at the start of the next from passing 2N within a few milliseconds.
 *
 * A window opens at the first request after the previous one has lasted a full second.
 */
export class RateLimiter {
  private readonly limit: number
  private readonly now: () => number

  private windowStart: number
  private allowedThisWindow = 0
  private requestedThisWindow = 0
  private allowedPrevWindow = 0
  private requestedPrevWindow = 0

  private tokens: number
  private lastRefill: number

  /**
   * @param limitPerSecond fractional limits are truncated; NaN falls back to the default with a
   *   warning; ±Infinity means unlimited.
   * @param now milliseconds from a monotonic clock (injectable for tests).
   */
  constructor (limitPerSecond: number, now: () => number = () => performance.now()) {
    this.limit = normalizeLimit(limitPerSecond)
    this.now = now
    const t = now()
    this.windowStart = t
    this.lastRefill = t
    this.tokens = Math.max(this.limit, 0)
  }

  /** Whether one more trace may be kept now; counts the request either way. */
  isAllowed (): boolean {
    if (this.limit < 0) return true
    if (this.limit === 0) return false

    const t = this.now()
    // A clock that went backwards (a test double, a suspended VM) opens a window too.
    if (t - this.windowStart >= WINDOW_MS || t < this.windowStart) {
      this.allowedPrevWindow = this.allowedThisWindow
      this.requestedPrevWindow = this.requestedThisWindow
      this.allowedThisWindow = 0
      this.requestedThisWindow = 0
      this.windowStart = t
    }
    this.requestedThisWindow++

    const elapsed = Math.max(t - this.lastRefill, 0)
    this.lastRefill = t
    this.tokens = Math.min(this.tokens + elapsed * (this.limit / WINDOW_MS), this.limit)

    if (this.allowedThisWindow >= this.limit || this.tokens < 1) return false
    this.tokens -= 1
    this.allowedThisWindow++
    return true
  }

  /**
   * Share of requests allowed over this window and the previous active one, for `_dd.limit_psr`
   * (1 when unlimited or nothing was asked yet, 0 when the limit is 0).
   */
  effectiveRate (): number {
    if (this.limit < 0) return 1
    if (this.limit === 0) return 0
    if (this.requestedThisWindow === 0) return 1
    const allowed = this.allowedPrevWindow + this.allowedThisWindow
    return allowed / (this.requestedPrevWindow + this.requestedThisWindow)
  }
}

function normalizeLimit (limit: number): number {
  if (Number.isNaN(limit)) {
    log.warnOnce('sampling:rate-limit-nan', `trace rate limit is not a number; using ${DEFAULT_RATE_LIMIT} per second`)
    return DEFAULT_RATE_LIMIT
  }
  if (!Number.isFinite(limit)) return -1
  // Math.trunc(-0.5) is -0, which compares equal to 0: "none", as in dd-trace-js.
  return Math.trunc(limit)
}
