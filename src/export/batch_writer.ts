import { log } from '../diag/logger.js'
import type { Transport, TransportResult } from '../transport/result.js'

/** Where a batch goes; `undefined` while export-mode discovery is running (items wait). */
export interface BatchDestination {
  transport: Transport
  path: string
  headers: Record<string, string>
}

export type BatchFailure = 'retries_exhausted' | 'refused' | 'no_destination' | 'buffer_full' | 'shutdown'

export interface BatchWriterOptions<T> {
  name: string
  flushIntervalMs: number
  payloadMaxBytes: number
  maxItems: number
  maxBytes: number
  requestTimeoutMs: number
  /**
   * How long an item may keep being retried across payloads after its first attempt. A payload
   * that exhausted its own retries puts its items back in the queue until then, so the buffer
   * rides out an outage of many seconds instead of dropping after one payload's attempts.
   */
  itemDeadlineMs: number
  /** Bytes `assemble` adds around each item (envelope, separator), counted against the payload limit. */
  itemOverheadBytes: number
  /** Builds a request body from serialised items. */
  assemble: (items: string[]) => string
  onDelivered: (items: T[]) => void
  onFailed: (items: T[], reason: BatchFailure, detail: string) => void
}

interface Queued<T> { item: T, json: string, bytes: number, firstTry: number, seq: number }

/**
 * A bounded JSON batch exporter: items are serialised by the caller, buffered up to a count and
 * a byte cap, and sent every interval (or sooner when a payload's worth waits) to a destination
 * that may be decided later. Every item enqueued gets exactly one callback: delivered or failed.
 *
 * The caps count items held anywhere — queued, in flight, or waiting to be retried — because
 * during an outage that is where memory goes.
 */
export class BatchWriter<T> {
  private queue: Array<Queued<T>> = []
  private heldItems = 0
  private heldBytes = 0
  private queuedBytes = 0
  private seq = 0
  private destination: BatchDestination | null | undefined
  /** In-flight posts with the lowest item sequence number each carries (flush waits by it). */
  private readonly inflight = new Map<Promise<void>, number>()
  /** The items each in-flight post carries (request-scoped flushes wait for theirs only). */
  private readonly carrying = new Map<Promise<void>, Array<Queued<T>>>()
  /** A request-scoped flush found every slot taken: send the queue when a post settles. */
  private sendWhenSlotFrees = false
  private timer: NodeJS.Timeout | undefined
  private waiters: Array<() => void> = []
  private closed = false
  /** Set when a shutdown deadline passed: stop re-sending. */
  private closedHard = false

  constructor (private readonly opts: BatchWriterOptions<T>) {}

  /** `null`: there is nowhere to send (items fail with `no_destination`). */
  setDestination (dest: BatchDestination | null): void {
    this.destination = dest
    for (const w of this.waiters.splice(0)) w()
    if (this.queue.length > 0) this.arm(true)
  }

  enqueue (item: T, json: string): void {
    const bytes = Buffer.byteLength(json) + this.opts.itemOverheadBytes
    if (this.closed) {
      this.opts.onFailed([item], 'shutdown', `${this.opts.name} writer shut down`)
      return
    }
    if (this.heldItems >= this.opts.maxItems || this.heldBytes + bytes > this.opts.maxBytes) {
      this.opts.onFailed([item], 'buffer_full', `${this.opts.name} buffer full (${this.opts.maxItems} items / ${this.opts.maxBytes} bytes)`)
      return
    }
    this.queue.push({ item, json, bytes, firstTry: 0, seq: ++this.seq })
    this.heldItems++
    this.heldBytes += bytes
    this.queuedBytes += bytes
    this.arm(this.queuedBytes >= this.opts.payloadMaxBytes)
  }

  /**
   * Sends what is queued now (waiting for the destination to be known) and resolves when every
   * item that was held at the call has been delivered or given up on, or `timeoutMs` passed.
   * Items enqueued after the call are not waited for, so sustained traffic cannot hold it open.
   */
  async flush (timeoutMs = Infinity): Promise<void> {
    const target = this.seq
    let expired = false
    let hold: NodeJS.Timeout | undefined
    const deadline = new Promise<void>((resolve) => {
      hold = Number.isFinite(timeoutMs) ? setTimeout(() => { expired = true; resolve() }, timeoutMs) : setInterval(() => {}, 1 << 30)
    })
    const work = (async () => {
      if (this.destination === undefined && this.queue.length > 0) {
        await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), deadline])
      }
      // Items put back after a failed payload are sent again, a little later, until each is
      // delivered or past its own deadline; the loop ends because those deadlines do.
      const olderQueued = (): boolean => this.queue.some((q) => q.seq <= target)
      for (let round = 0; !expired; round++) {
        if (olderQueued()) this.send()
        const older = [...this.inflight].filter(([, minSeq]) => minSeq <= target).map(([p]) => p)
        if (older.length > 0) await Promise.race([Promise.all(older), deadline])
        if (!olderQueued()) {
          if ([...this.inflight.values()].some((minSeq) => minSeq <= target)) continue
          break
        }
        if (this.closedHard) break
        await Promise.race([sleep(Math.min(1000, 100 * 2 ** round)), deadline])
      }
    })()
    try {
      await Promise.race([work, deadline])
    } finally {
      expired = true
      clearTimeout(hold)
      clearInterval(hold)
    }
  }

  /**
   * Request-scoped flush: sends the queue now if it holds any of `items`, and resolves once each
   * of them is delivered or given up on (one put back after a failed post is sent again, with
   * flush()'s backoff), or after `timeoutMs`. Posts carrying none of them are not waited for.
   */
  async flushItems (items: ReadonlySet<T>, timeoutMs: number): Promise<void> {
    if (items.size === 0) return
    let expired = false
    let hold: NodeJS.Timeout | undefined
    // Ref'ed: the caller awaiting its flush wants the process held.
    const deadline = new Promise<void>((resolve) => { hold = setTimeout(() => { expired = true; resolve() }, timeoutMs) })
    const queued = (): boolean => this.queue.some((q) => items.has(q.item))
    const posts = (): Array<Promise<void>> => {
      const out: Array<Promise<void>> = []
      for (const [p, batch] of this.carrying) if (batch.some((q) => items.has(q.item))) out.push(p)
      return out
    }
    const work = (async () => {
      if (this.destination === undefined && queued()) {
        await Promise.race([new Promise<void>((resolve) => this.waiters.push(resolve)), deadline])
      }
      for (let round = 0; !expired; round++) {
        if (queued() && this.destination !== undefined) {
          if (this.inflight.size < FLUSH_CONCURRENCY) {
            this.send()
          } else {
            // Every slot taken: this queue leaves with the next free one, together with the
            // items of every request that flushes meanwhile.
            this.sendWhenSlotFrees = true
            await Promise.race([Promise.race([...this.inflight.keys()]), deadline])
            continue
          }
        }
        const mine = posts()
        if (mine.length > 0) await Promise.race([Promise.all(mine), deadline])
        if (!queued()) {
          if (posts().length > 0) continue
          break
        }
        if (this.closedHard) break
        await Promise.race([sleep(Math.min(1000, 100 * 2 ** round)), deadline])
      }
    })()
    try {
      await Promise.race([work, deadline])
    } finally {
      expired = true
      clearTimeout(hold)
    }
  }

  async shutdown (timeoutMs = Infinity): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.closed = true
    await this.flush(timeoutMs)
    this.closedHard = true
  }

  /** Items held: queued, in flight or waiting to be retried. */
  get size (): number { return this.heldItems }

  private arm (now: boolean): void {
    if (this.destination === undefined) return
    if (now) { this.send(); return }
    if (this.timer !== undefined) return
    this.timer = setTimeout(() => { this.timer = undefined; this.send() }, this.opts.flushIntervalMs)
    this.timer.unref()
  }

  private send (): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined }
    this.sendWhenSlotFrees = false
    if (this.queue.length === 0 || this.destination === undefined) return
    const queue = this.queue
    this.queue = []
    this.queuedBytes = 0
    const dest = this.destination
    if (dest === null) {
      this.settle(queue)
      this.opts.onFailed(queue.map((q) => q.item), 'no_destination', 'no destination for this export mode')
      return
    }
    let start = 0
    let bytes = 0
    for (let i = 0; i < queue.length; i++) {
      if (i > start && bytes + queue[i].bytes > this.opts.payloadMaxBytes) {
        this.track(queue.slice(start, i), dest)
        start = i
        bytes = 0
      }
      bytes += queue[i].bytes
    }
    this.track(start === 0 ? queue : queue.slice(start), dest)
  }

  private track (batch: Array<Queued<T>>, dest: BatchDestination): void {
    let minSeq = Infinity
    for (const q of batch) if (q.seq < minSeq) minSeq = q.seq
    const p = this.post(dest, batch)
    this.inflight.set(p, minSeq)
    this.carrying.set(p, batch)
    void p.finally(() => {
      this.inflight.delete(p)
      this.carrying.delete(p)
      if (this.sendWhenSlotFrees) this.safe(() => this.send())
    })
  }

  /**
   * `splitsLeft`: a 400/422 refuses the whole batch for what may be one bad item; halving
   * isolates it so its batch-mates still go through. Bounded (at most 2^6 parts, 126 extra
   * requests), because a destination that refuses everything would otherwise get two requests
   * per item.
   */
  private async post (dest: BatchDestination, batch: Array<Queued<T>>, splitsLeft = CONTENT_SPLITS): Promise<void> {
    let result: TransportResult
    const start = Date.now()
    for (const q of batch) if (q.firstTry === 0) q.firstTry = start
    let bytes = 0
    try {
      const body = this.opts.assemble(batch.map((q) => q.json))
      bytes = Buffer.byteLength(body)
      result = await dest.transport.send({
        method: 'POST',
        path: dest.path,
        headers: { 'Content-Type': 'application/json', ...dest.headers },
        body,
        timeoutMs: this.opts.requestTimeoutMs,
      })
    } catch (err) {
      result = { kind: 'failed', reason: `transport threw: ${(err as Error)?.message}` }
    }
    if (result.kind === 'ok') {
      const status = result.status
      log.debug(() => `sent ${this.opts.name} payload: ${batch.length} item(s), ${bytes} bytes to ${dest.path} (HTTP ${status})`)
      this.settle(batch)
      this.safe(() => this.opts.onDelivered(batch.map((q) => q.item)))
      return
    }
    if (result.status === 413 && batch.length > 1) {
      const mid = batch.length >> 1
      await Promise.all([this.post(dest, batch.slice(0, mid), splitsLeft), this.post(dest, batch.slice(mid), splitsLeft)])
      return
    }
    if ((result.status === 400 || result.status === 422) && batch.length > 1 && splitsLeft > 0) {
      const mid = batch.length >> 1
      await Promise.all([this.post(dest, batch.slice(0, mid), splitsLeft - 1), this.post(dest, batch.slice(mid), splitsLeft - 1)])
      return
    }
    const given = isTransient(result.status) ? this.requeue(batch) : batch
    if (given.length === 0) return
    this.settle(given)
    const reason: BatchFailure = isTransient(result.status) ? 'retries_exhausted' : 'refused'
    log.warnOnce(`${this.opts.name}.failed.${reason}`, `${this.opts.name} payload not delivered (${result.reason}); further failures are counted silently`)
    const detail = result.reason
    this.safe(() => this.opts.onFailed(given.map((q) => q.item), reason, detail))
  }

  /** Puts back the items still within their deadline; returns the ones given up on. */
  private requeue (batch: Array<Queued<T>>): Array<Queued<T>> {
    const now = Date.now()
    const expired: Array<Queued<T>> = []
    const back: Array<Queued<T>> = []
    for (const q of batch) {
      if (!this.closedHard && now - q.firstTry < this.opts.itemDeadlineMs) back.push(q)
      else expired.push(q)
    }
    if (back.length > 0) {
      this.queue = back.concat(this.queue)
      for (const q of back) this.queuedBytes += q.bytes
      this.arm(false)
    }
    return expired
  }

  /** Items leave the writer's hands (delivered or given up on): free their share of the caps. */
  private settle (batch: Array<Queued<T>>): void {
    this.heldItems -= batch.length
    for (const q of batch) this.heldBytes -= q.bytes
  }

  private safe (fn: () => void): void {
    try { fn() } catch (err) { log.internalError(`${this.opts.name}.callback`, err) }
  }
}

const CONTENT_SPLITS = 6

/** Posts in flight past which request-scoped flushes coalesce (see TraceWriter's equivalent). */
const FLUSH_CONCURRENCY = 4

/** Network errors, 408, 429 and 5xx: the destination may come back. */
function isTransient (status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, ms).unref() })
}
