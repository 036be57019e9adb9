import { log } from '../diag/logger.js'

/**
 * DESIGN §4's reasons, plus `refused`: the destination answered a 4xx other than 408/413/429,
 * which no retry can fix (e.g. a wrong API key) and which `retries_exhausted` would misname;
 * and `shutdown`: handed to a writer that had already been shut down.
 */
export type DropReason = 'buffer_full' | 'retries_exhausted' | 'no_evp_proxy' | 'user_processor' | 'encoding_error' | 'refused' | 'shutdown'

/**
 * The route an event was handed to; an event may take two (rode a failed payload, then rescued).
 * `rescuedOpenTrace`: `llmobs.flush()` found its span finished in a trace that is still open,
 * and sent the event through the LLMObs writer rather than wait for the trace.
 * `replayed`: found unsettled in the spool of a process that died, sent through the LLMObs writer.
 */
export type Route = 'rodeTrace' | 'rescuedPredictedDrop' | 'rescuedPayloadFailed' | 'rescuedOpenTrace' | 'direct' | 'replayed'

/**
 * One LLMObs event under the ledger's ownership, from creation until its fate is settled.
 * `event` is dropped once serialised so a record in a buffer costs its JSON text only.
 */
export interface EventRecord {
  event: object | undefined
  json: string | undefined
  settled: boolean
  /**
   * Which path holds the event: none yet, a trace payload (riding), or the LLMObs writer
   * (shipped). An event takes at most one ride and is shipped at most once, whatever happens to
   * the spans that carry it (a processor may copy a span, or re-emit it in a later chunk).
   */
  claim: 'free' | 'riding' | 'shipped'
  /** Tags still to be rendered into the event's sorted list when it is serialised. */
  tagMap: Record<string, string> | undefined
  /** Who follows this record to its fate (the LLMObs core that created it). */
  readonly owner: unknown
  /** Its place in the durable spool, released when its fate is settled; undefined when not spooled. */
  spool: object | undefined
}

export interface LlmobsStats {
  created: number
  rodeTrace: number
  rescuedPredictedDrop: number
  rescuedPayloadFailed: number
  rescuedOpenTrace: number
  direct: number
  /** Unsettled events adopted from a dead process's spool and sent again. */
  replayed: number
  delivered: number
  pending: number
  retried: number
  truncated: number
  dropped: Partial<Record<DropReason, number>>
  /** Span events appended to the durable spool (0 without one). */
  spooled: number
  /** Evaluations, accounted separately with the same invariant. */
  evaluations: DeliveryTotals
  /** The durable spool's own counters; undefined when it is off. */
  spool?: SpoolCounters
}

/** What the durable spool did so far (`llmobs.stats().spool`, present when the spool is on). */
export interface SpoolCounters {
  /** Span events appended (evaluations: `evaluationsSpooled`). */
  spooled: number
  evaluationsSpooled: number
  /** Events not spooled because the spool was at maxBytes (they still travel in memory). */
  full: number
  /** fs errors caught (a failed write also turns the spool off for the process). */
  errors: number
  /** Bytes written to segment files (appends and releases) since the spool opened. */
  bytesWritten: number
  /** Bytes and segment files the spool holds now (its own and adopted). */
  bytes: number
  segments: number
  adoptedOwners: number
  adoptedSegments: number
  tornTails: number
  corruptSegments: number
  evaluationsReplayed: number
  /** The spool stopped after an fs error. */
  broken: boolean
}

/** `created = delivered + pending + Σ dropped`, at every moment. */
export interface DeliveryTotals {
  created: number
  delivered: number
  pending: number
  retried: number
  dropped: Partial<Record<DropReason, number>>
}

/**
 * Delivery accounting (DESIGN §4). Every event has exactly one final fate — delivered, or
 * dropped with a reason — and `created = delivered + pending + Σ dropped` holds at every moment
 * because `pending` is derived, never counted separately. Settling twice is a bug we refuse
 * (and count) rather than let double-count.
 */
export class DeliveryLedger {
  private created = 0
  private delivered = 0
  private truncated = 0
  private readonly routes: Record<Route, number> = { rodeTrace: 0, rescuedPredictedDrop: 0, rescuedPayloadFailed: 0, rescuedOpenTrace: 0, direct: 0, replayed: 0 }
  /** Set when a spool is on: a settled record's place in it is released, whatever the fate. */
  onRelease: ((spoolRef: object) => void) | undefined
  private readonly dropped: Partial<Record<DropReason, number>> = {}
  private droppedTotal = 0

  /** `what` names the items in the warning given on the first drop of each reason. */
  constructor (private readonly what = 'LLM Observability event') {}

  create (event: object | undefined, owner: unknown, json?: string): EventRecord {
    this.created++
    return { event, json, settled: false, claim: 'free', tagMap: undefined, owner, spool: undefined }
  }

  noteTruncated (): void { this.truncated++ }

  route (route: Route): void { this.routes[route]++ }

  /** Returns false when the record was already settled (refused, counted as an internal error). */
  deliver (record: EventRecord): boolean {
    if (!this.settle(record)) return false
    this.delivered++
    return true
  }

  drop (record: EventRecord, reason: DropReason): boolean {
    if (!this.settle(record)) return false
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1
    this.droppedTotal++
    log.warnOnce(`llmobs.dropped.${this.what}.${reason}`, `${this.what} dropped (${reason}); see llmobs.stats() for counts`)
    return true
  }

  get pending (): number { return this.created - this.delivered - this.droppedTotal }

  totals (retried: number): DeliveryTotals {
    return { created: this.created, delivered: this.delivered, pending: this.pending, retried, dropped: { ...this.dropped } }
  }

  routeCounts (): Record<Route, number> { return { ...this.routes } }

  get truncatedCount (): number { return this.truncated }

  private settle (record: EventRecord): boolean {
    if (record.settled) {
      log.internalError('ledger.settle', new Error('an event was settled twice'))
      return false
    }
    record.settled = true
    if (record.spool !== undefined) {
      const ref = record.spool
      record.spool = undefined
      this.onRelease?.(ref)
    }
    record.event = undefined
    record.json = undefined
    record.tagMap = undefined
    return true
  }
}
