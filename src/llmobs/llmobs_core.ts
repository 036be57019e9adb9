import { inspect } from 'node:util'
import { DEFAULTS } from '../config/defaults.js'
import type { LlmobsConfig } from '../config/llmobs_config.js'
import { log } from '../diag/logger.js'
import { registerExitFlush } from '../diag/exit_flush.js'
import type { BatchFailure, BatchWriter } from '../export/batch_writer.js'
import { DeliveryLedger, type DropReason, type EventRecord, type Route } from '../export/ledger.js'
import type { PayloadFate } from '../export/payload_fate.js'
import type { Span } from '../trace/span.js'
import type { Tracer } from '../trace/tracer.js'
import { serializeEvent, toMetaStruct, type LlmobsSpanEvent } from './event.js'
import { buildEvent, eventTags, tagList, type EventContext } from './event_builder.js'
import { discoverEvpProxy, ridesTraces, type ExportMode } from './export_mode.js'
import { agentDestinations, agentlessDestinations, evalWriter, isAgentlessMode, spanWriter, type Destinations } from './exporters.js'
import { LlmobsRescueProcessor } from './rescue_processor.js'
import { getState, META_STRUCT_KEY, SUBMITTED_TAG } from './span_state.js'
import { stateMayExceed } from './size_gate.js'
import { truncateToFit } from './truncate.js'

/** A user hook over finished events: return the (edited) event, or null to drop it. */
export type EventProcessor = (event: LlmobsSpanEvent) => LlmobsSpanEvent | null | undefined

const DROP_REASON: Record<BatchFailure, DropReason> = {
  buffer_full: 'buffer_full',
  retries_exhausted: 'retries_exhausted',
  refused: 'refused',
  no_destination: 'no_evp_proxy',
}

/**
 * The plumbing behind an enabled `llmobs`: builds events at span finish, attaches them to their
 * APM span (or ships them directly), follows every event to its fate through the rescue
 * processor, the trace writer's payload fates and the LLMObs writers, and keeps the ledger.
 */
export class LlmobsCore {
  readonly ledger = new DeliveryLedger()
  readonly spans: BatchWriter<EventRecord>
  readonly evals: BatchWriter<string>
  readonly processors: EventProcessor[] = []
  private readonly destinations: Destinations
  private readonly rescue: LlmobsRescueProcessor | undefined
  private readonly unsubscribe: Array<() => void> = []
  private readonly ctx: EventContext
  private readonly removeExitFlush: () => void
  private readonly removeFinishHook: () => void
  readonly ready: Promise<void>

  constructor (readonly tracer: Tracer, readonly config: LlmobsConfig, readonly mode: ExportMode) {
    this.ctx = { service: tracer.config.service, env: tracer.config.env, version: tracer.config.version }
    this.spans = spanWriter<EventRecord>({
      onDelivered: (records) => { for (const r of records) this.ledger.deliver(r) },
      onFailed: (records, reason) => { for (const r of records) this.ledger.drop(r, DROP_REASON[reason]) },
    }, config.flushIntervalMs)
    this.evals = evalWriter<string>({
      onDelivered: () => {},
      onFailed: (items, reason) => log.warnOnce(`llmobs.eval.dropped.${reason}`, `${items.length} evaluation(s) not delivered (${reason}); further ones are dropped silently`),
    }, config.flushIntervalMs)
    this.destinations = isAgentlessMode(mode) ? agentlessDestinations(config) : agentDestinations(tracer.config.agent)
    this.ledger.retriedSource = this.destinations.retries

    if (ridesTraces(mode) && tracer.writer !== undefined) {
      if (tracer.writer.version === 'v0.5') {
        log.warnOnce('llmobs.v05', 'LLM Observability requires v0.4 to transmit meta_struct payloads; sending v0.4 instead of the configured v0.5')
        tracer.writer.setApiVersion('v0.4')
      }
      if (mode === 'apm_agentless' && this.destinations.traces !== undefined) {
        // No Agent sampler between us and the trace intake, which keeps LLMObs data of unsampled
        // traces: every chunk goes there as JSON with _llmobs inline, and no rescue runs.
        const writer = tracer.writer
        writer.useAgentless(this.destinations.traces)
        this.unsubscribe.push(() => writer.useAgentless(undefined))
      }
      this.rescue = new LlmobsRescueProcessor((r, route) => this.ship(r, route), (n) => this.ledger.route('rodeTrace', n), mode === 'apm_agent')
      tracer.chain.setLlmobsProcessor(this.rescue)
      this.unsubscribe.push(tracer.chain.onChunkDropped((chunk) => {
        for (const span of chunk.spans) this.rescue?.rescue(span as Span)
      }))
      this.unsubscribe.push(tracer.writer.onPayloadSettled((fate) => this.onPayloadSettled(fate)))
    }
    if (!config.apmTracingEnabled) {
      tracer.setApmExport(false)
      this.unsubscribe.push(() => tracer.setApmExport(true))
    }
    this.removeFinishHook = tracer.addFinishHook((span) => this.onSpanFinish(span))
    this.ready = this.resolveDestinations()
    const onSigterm = (timeoutMs: number): Promise<void> => this.flush(timeoutMs)
    tracer.beforeSigtermExit.add(onSigterm)
    this.unsubscribe.push(() => tracer.beforeSigtermExit.delete(onSigterm))
    this.removeExitFlush = registerExitFlush(() => {
      if (this.spans.busy || this.evals.busy) void this.flush(DEFAULTS.exitFlushTimeoutMs)
    })
  }

  // Holds the API key (config, destination headers): never print or serialise it.
  [inspect.custom] (): string { return `LlmobsCore { mode: ${this.mode} }` }
  toJSON (): Record<string, unknown> { return { mode: this.mode } }

  /** Direct modes ship at finish; riding modes attach meta_struct and let the pipeline decide. */
  private onSpanFinish (span: Span): void {
    const st = getState(span)
    if (st === undefined || st.record !== undefined) return
    let tagMap = eventTags(span, st, this.ctx)
    const hasProcessors = this.processors.length > 0
    let event: LlmobsSpanEvent = buildEvent(span, st, hasProcessors ? tagList(tagMap) : [])
    let dropped = false
    for (const p of this.processors) {
      try {
        const out = p(event)
        if (out === null) { dropped = true; break }
        if (isEventShaped(out)) event = out
        else if (out !== undefined) log.warnOnce('llmobs.processor.shape', 'an LLMObs processor returned something that is not an event (tags must stay a list of "k:v", meta and metrics objects); the event it was given is sent instead')
      } catch (err) {
        log.internalError('llmobs processor (event kept as it was)', err)
      }
    }
    if (dropped) {
      const record = this.ledger.create({})
      this.ledger.drop(record, 'user_processor')
      return
    }
    if (hasProcessors) tagMap = tagsToMap(event.tags)
    let tagsRendered = hasProcessors
    const record = this.ledger.create(event)
    let mlApp = st.mlApp
    try {
      // The state bounds everything users supplied: an event known small skips the walk entirely.
      const limit = DEFAULTS.llmobs.eventSizeLimit
      if (hasProcessors || stateMayExceed(span, st, this.ctx, limit)) {
        // The limit applies to the event as sent, tags included.
        if (!tagsRendered) { event.tags = tagList(tagMap); tagsRendered = true }
        const outcome = truncateToFit(event, limit)
        if (outcome === 'too_large') { this.ledger.drop(record, 'encoding_error'); return }
        if (outcome === 'truncated') {
          this.ledger.noteTruncated()
          // meta_struct carries tags as a map and ml_app apart: both from the cut event.
          tagMap = tagsToMap(event.tags)
          mlApp = tagMap.ml_app ?? mlApp
        }
      }
    } catch (err) {
      // Counted, not lost silently: the event exists in the ledger and leaves it with a reason.
      log.internalError('llmobs.truncate', err)
      this.ledger.drop(record, 'encoding_error')
      return
    }
    if (!tagsRendered) record.tagMap = tagMap
    st.record = record
    if (ridesTraces(this.mode) && this.rescue !== undefined) {
      span.writeMetaStruct(META_STRUCT_KEY, toMetaStruct(event, mlApp, tagMap))
    } else {
      span.meta[SUBMITTED_TAG] = '1'
      this.ship(record, 'direct')
    }
  }

  private onPayloadSettled (fate: PayloadFate): void {
    for (const rider of fate.riders) {
      const record = rider as EventRecord
      if (record.settled) continue
      if (fate.acknowledged) this.ledger.deliver(record)
      else this.ship(record, 'rescuedPayloadFailed')
    }
  }

  /** Hands an event to the LLMObs span writer, serialising it once. */
  ship (record: EventRecord, route: Route): void {
    this.ledger.route(route)
    if (record.json === undefined) {
      try {
        const event = record.event as LlmobsSpanEvent
        if (record.tagMap !== undefined) { event.tags = tagList(record.tagMap); record.tagMap = undefined }
        record.json = serializeEvent(event)
      } catch (err) {
        log.internalError('llmobs.serialize', err)
        this.ledger.drop(record, 'encoding_error')
        return
      }
      record.event = undefined
    }
    this.spans.enqueue(record, record.json)
  }

  submitEvaluationJson (json: string): void {
    this.evals.enqueue(json, json)
  }

  private async resolveDestinations (): Promise<void> {
    const dest = this.destinations
    if (!isAgentlessMode(this.mode)) {
      const found = await discoverEvpProxy(dest.spans.transport, 2000).catch(() => 'unreachable' as const)
      if (found === 'missing') {
        log.warnOnce('llmobs.no_evp', 'the agent has no EVP proxy (/evp_proxy/v2/): LLM Observability events that cannot ride a trace will be dropped (counted as no_evp_proxy). Upgrade the Datadog Agent.')
        this.spans.setDestination(null)
        this.evals.setDestination(null)
        return
      }
    }
    this.spans.setDestination(dest.spans)
    this.evals.setDestination(dest.evals)
  }

  /** One deadline for the whole flush: the steps share it rather than each getting its own. */
  async flush (timeoutMs?: number): Promise<void> {
    const end = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs
    const left = (): number | undefined => timeoutMs === undefined ? undefined : Math.max(0, end - Date.now())
    // Trace payloads first: their fates may hand events to the span writer.
    await this.tracer.flush(left())
    await Promise.all([this.spans.flush(left()), this.evals.flush(left())])
  }

  /**
   * Stops creating events, then delivers what the ledger holds: trace payloads first (their
   * fates may rescue events), then the LLMObs writers. Events still riding traces that are open
   * keep the rescue and the writers alive until they settle: tearing those down now would let a
   * later predicted drop take the events with it.
   */
  async shutdown (): Promise<void> {
    this.removeFinishHook()
    this.removeExitFlush()
    const end = Date.now() + DEFAULTS.shutdownTimeoutMs
    await this.flush(DEFAULTS.shutdownTimeoutMs)
    if (this.ledger.stats().pending > 0) {
      log.debug(() => `llmobs disabled with ${this.ledger.stats().pending} event(s) still in open traces; delivery continues`)
      return
    }
    for (const u of this.unsubscribe) u()
    this.tracer.chain.setLlmobsProcessor(undefined)
    const left = Math.max(0, end - Date.now())
    await Promise.all([this.spans.shutdown(left), this.evals.shutdown(left)])
    this.destinations.close()
  }
}

function isEventShaped (v: unknown): v is LlmobsSpanEvent {
  if (v === null || typeof v !== 'object') return false
  const e = v as Partial<LlmobsSpanEvent>
  return Array.isArray(e.tags) && e.tags.every((t) => typeof t === 'string') &&
    e.meta !== null && typeof e.meta === 'object' && e.metrics !== null && typeof e.metrics === 'object' &&
    typeof e.span_id === 'string' && typeof e.trace_id === 'string'
}

function tagsToMap (tags: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const t of tags) {
    const i = t.indexOf(':')
    if (i > 0) out[t.slice(0, i)] = t.slice(i + 1)
  }
  return out
}
