import type { Transport, TransportRequest, TransportResult } from './result.js'

export interface RetryPolicy {
  maxAttempts: number
  baseDelayMs: number
  maxDelayMs: number
  /** Overall budget per request, attempts and waits included. */
  deadlineMs: number
}

/**
 * Retries retryable outcomes with exponential backoff and full jitter inside one deadline.
 * Full jitter (uniform in [0, cap]) spreads a fleet of tracers that failed together, so they do
 * not come back together. A `Retry-After` from the server wins over our own backoff, but never
 * past the deadline: then the request fails now rather than later.
 */
export class RetryingTransport implements Transport {
  /** Retries performed (attempts after the first), for delivery accounting. */
  retries = 0

  constructor (
    private readonly inner: Transport,
    private readonly policy: RetryPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  async send (req: TransportRequest): Promise<TransportResult> {
    const deadline = Date.now() + this.policy.deadlineMs
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now()
      const result = await this.inner.send({ ...req, timeoutMs: Math.max(1, Math.min(req.timeoutMs, remaining)) })
      if (result.kind !== 'retryable') return { ...result, attempts: attempt }
      if (attempt >= this.policy.maxAttempts) {
        return { kind: 'failed', status: result.status, reason: `retries exhausted after ${attempt} attempts (last: ${result.reason})`, attempts: attempt }
      }
      const backoffCap = Math.min(this.policy.maxDelayMs, this.policy.baseDelayMs * 2 ** (attempt - 1))
      const wait = result.retryAfterMs ?? Math.floor(this.random() * backoffCap)
      if (Date.now() + wait >= deadline) {
        return { kind: 'failed', status: result.status, reason: `retry deadline of ${this.policy.deadlineMs} ms reached after ${attempt} attempts (last: ${result.reason})`, attempts: attempt }
      }
      this.retries++
      await sleep(wait)
    }
  }
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, ms).unref() })
}
