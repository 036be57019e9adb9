import { log } from '../diag/logger.js'
import type { Store } from './store.js'

/** Limits of a bounded store; 0 turns one off. */
export interface RetentionLimits {
  maxAgeMs: number
  maxSpans: number
  maxBytes: number
}

export const RETENTION_DEFAULTS: RetentionLimits = {
  maxAgeMs: 7 * 24 * 3600 * 1000,
  maxSpans: 1_000_000,
  maxBytes: 1024 ** 3,
}

/** Rows removed per table per step: small enough that a step never stalls requests noticeably. */
export const RETENTION_BATCH = 500
/** Between steps when the store is within its limits. */
const IDLE_MS = 5000
/** Between steps while catching up. */
const BUSY_MS = 50

export interface RetentionStep { spans: number, evaluations: number, chunks: number, more: boolean }

/**
 * Keeps the store within its limits by removing the oldest data (arrival order) in small
 * batches on an unref'd timer: spans past the span count, older than maxAge, or while the pages
 * in use exceed maxBytes; evaluations and APM chunk summaries older than maxAge (and those of
 * removed traces). Freed pages are reused by SQLite; the file is never VACUUMed on the request
 * path. What it removes is counted (retention_removed_*).
 */
export class Retention {
  private timer: NodeJS.Timeout | undefined
  private stopped = false

  constructor (private readonly store: Store, readonly limits: RetentionLimits) {}

  start (): void {
    if (this.stopped || !this.enabled) return
    this.schedule(IDLE_MS)
  }

  stop (): void {
    this.stopped = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  get enabled (): boolean {
    return this.limits.maxAgeMs > 0 || this.limits.maxSpans > 0 || this.limits.maxBytes > 0
  }

  /** Bytes of the pages in use (file size minus free pages). */
  usedBytes (): number {
    const db = this.store.db
    const pageSize = db.pragma('page_size', { simple: true }) as number
    const pages = db.pragma('page_count', { simple: true }) as number
    const free = db.pragma('freelist_count', { simple: true }) as number
    return (pages - free) * pageSize
  }

  /** One batch; `more` when a limit is still exceeded. For the timer and for tests. */
  step (now: number = Date.now()): RetentionStep {
    const out: RetentionStep = { spans: 0, evaluations: 0, chunks: 0, more: false }
    if (!this.store.isOpen || !this.enabled) return out
    const { maxAgeMs, maxSpans, maxBytes } = this.limits
    const cutoff = maxAgeMs > 0 ? now - maxAgeMs : -Infinity
    const overBytes = maxBytes > 0 && this.usedBytes() > maxBytes
    const excess = maxSpans > 0 ? Math.max(0, this.store.spanCount - maxSpans) : 0
    const db = this.store.db
    const oldest = db.prepare('SELECT id, trace_id, received_at FROM llmobs_spans ORDER BY id LIMIT ?').all(RETENTION_BATCH) as Array<{ id: number, trace_id: string, received_at: number }>
    let take = 0
    while (take < oldest.length && (overBytes || take < excess || oldest[take].received_at < cutoff)) take++
    const removed = this.store.removeSpans(oldest.slice(0, take))
    out.spans = removed.spans
    out.evaluations = removed.evaluations
    // Evaluations and chunks by age (and, over the byte limit, the oldest chunks too).
    out.evaluations += this.removeOld('evaluations', cutoff, false)
    out.chunks = this.removeOld('apm_chunks', cutoff, overBytes)
    if (out.spans > 0) this.store.bump('retention_removed_spans', out.spans)
    if (out.evaluations > 0) this.store.bump('retention_removed_evaluations', out.evaluations)
    if (out.chunks > 0) this.store.bump('retention_removed_chunks', out.chunks)
    out.more = (take === RETENTION_BATCH && maxAgeMs > 0) || (overBytes && out.spans + out.chunks > 0) || (maxSpans > 0 && this.store.spanCount > maxSpans)
    return out
  }

  private removeOld (table: 'evaluations' | 'apm_chunks', cutoff: number, all: boolean): number {
    const rows = this.store.db.prepare(`SELECT id, received_at FROM ${table} ORDER BY id LIMIT ?`).all(RETENTION_BATCH) as Array<{ id: number, received_at: number }>
    let take = 0
    while (take < rows.length && (all || rows[take].received_at < cutoff)) take++
    if (take === 0) return 0
    return this.store.db.prepare(`DELETE FROM ${table} WHERE id <= ?`).run(rows[take - 1].id).changes
  }

  private schedule (ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = undefined
      let more = false
      try {
        more = this.step().more
      } catch (err) {
        log.internalError('local agent retention', err)
      }
      if (!this.stopped) this.schedule(more ? BUSY_MS : IDLE_MS)
    }, ms)
    this.timer.unref()
  }
}
