import { log } from '../diag/logger.js'

/**
 * DESIGN §4's reasons, plus `refused`: the destination answered a 4xx other than 408/413/429,
 * which no retry can fix (e.g. a wrong API key) and which `retries_exhausted` would misname.
 */
export type DropReason = 'buffer_full' | 'retries_exhausted' | 'no_evp_proxy' | 'user_processor' | 'encoding_error' | 'refused'

/** The route an event was handed to; an event may take two (rode a failed payload, then rescued). */
export type Route = 'rodeTrace' | 'rescuedPredictedDrop' | 'rescuedPayloadFailed' | 'direct'

/**
 * One LLMObs event under the ledger's ownership, from creation until its fate is settled.
 * `event` is dropped once serialised so a record in a buffer costs its JSON text only.
 */
export interface EventRecord {
  event: object | undefined
  json: string | undefined
  settled: boolean
  /** Tags still to be rendered into the event's sorted list when it is serialised. */
  tagMap: Record<string, string> | undefined
}

export interface LlmobsStats {
  created: number
  rodeTrace: number
  rescuedPredictedDrop: number
  rescuedPayloadFailed: number
  direct: number
  delivered: number
  pending: number
  retried: number
  truncated: number
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
  private readonly routes: Record<Route, number> = { rodeTrace: 0, rescuedPredictedDrop: 0, rescuedPayloadFailed: 0, direct: 0 }
  private readonly dropped: Partial<Record<DropReason, number>> = {}
  private droppedTotal = 0
  /** Retries the writers performed, read from them at stats time. */
  retriedSource: () => number = () => 0

  create (event: object): EventRecord {
    this.created++
    return { event, json: undefined, settled: false, tagMap: undefined }
  }

  noteTruncated (): void { this.truncated++ }

  route (route: Route, count = 1): void { this.routes[route] += count }

  deliver (record: EventRecord): void {
    if (this.settle(record)) this.delivered++
  }

  drop (record: EventRecord, reason: DropReason): void {
    if (!this.settle(record)) return
    this.dropped[reason] = (this.dropped[reason] ?? 0) + 1
    this.droppedTotal++
    log.warnOnce(`llmobs.dropped.${reason}`, `LLM Observability event dropped (${reason}); see llmobs.stats() for counts`)
  }

  stats (): LlmobsStats {
    return {
      created: this.created,
      ...this.routes,
      delivered: this.delivered,
      pending: this.created - this.delivered - this.droppedTotal,
      retried: this.retriedSource(),
      truncated: this.truncated,
      dropped: { ...this.dropped },
    }
  }

  private settle (record: EventRecord): boolean {
    if (record.settled) {
      log.internalError('ledger.settle', new Error('an event was settled twice'))
      return false
    }
    record.settled = true
    record.event = undefined
    record.json = undefined
    record.tagMap = undefined
    return true
  }
}
