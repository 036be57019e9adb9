import { inspect } from 'node:util'
import { DEFAULTS } from '../config/defaults.js'
import type { LlmobsConfig } from '../config/llmobs_config.js'
import { log } from '../diag/logger.js'
import type { BatchFailure, BatchWriter } from '../export/batch_writer.js'
import type { DeliveryLedger, DropReason, EventRecord, Route } from '../export/ledger.js'
import type { TraceFailureReason } from '../export/payload_fate.js'
import type { Span } from '../trace/span.js'
import type { Tracer } from '../root/tracer.js'
import { serializeEvent, toMetaStruct, type LlmobsSpanEvent } from './event.js'
import { writeGenAiTags } from './apm_tags.js'
import { buildEvent, eventTags, tagList, tagUnits, type EventContext } from './event_builder.js'
import { eventProblem } from './event_check.js'
import type { EventOwner } from './event_owner.js'
import { discoverEvpProxy, ridesTraces, type ExportMode } from './export_mode.js'
import { agentDestinations, agentlessDestinations, evalWriter, isAgentlessMode, spanWriter, type Destinations } from './exporters.js'
import { META_STRUCT_KEY, SUBMITTED_TAG, type LlmobsSpanState } from './span_state.js'
import { stateMayExceed } from './size_gate.js'
import { LlmobsHooks, type HookedCore } from './tracer_hooks.js'
import { noteTraceRecord } from './trace_flush.js'
import { truncateToFit } from './truncate.js'
import type { Spool, SpoolRef } from '../spool/spool.js'
import type { EventKind } from '../spool/record_codec.js'

/** A user hook over finished events: return the (edited) event, or null to drop it. */
export type EventProcessor = (event: LlmobsSpanEvent) => LlmobsSpanEvent | null | undefined

/**
 * The ledgers an SDK keeps across enable/disable cycles: one truthful account, whichever core
 * did the work; and the durable spool behind them, when one is on.
 */
export interface Ledgers { spans: DeliveryLedger, evals: DeliveryLedger, spool?: Spool }

/** OTLP mode: a failed export has no rescue path; the event's drop says why the export failed. */
const OTLP_DROP_REASON: Record<TraceFailureReason, DropReason> = {
  buffer_full: 'buffer_full',
  encoding_error: 'encoding_error',
  too_large: 'refused',
  refused: 'refused',
  retries_exhausted: 'retries_exhausted',
  shutdown: 'shutdown',
  not_exported: 'refused',
}

const DROP_REASON: Record<BatchFailure, DropReason> = {
  buffer_full: 'buffer_full',
  retries_exhausted: 'retries_exhausted',
  refused: 'refused',
  no_destination: 'no_evp_proxy',
  shutdown: 'shutdown',
}

/**
 * The plumbing behind one `llmobs.enable()`: builds events at span finish, attaches them to
 * their APM span (or ships them directly), and follows every event it created to its fate.
 *
 * Lifecycle: enabled → draining (after `disable()`: no new spans, but spans it started still
 * build their events, and events in flight are still followed) → retired, once every span it
 * started has finished and every event and evaluation it created is settled; only then are its
 * writers closed and it detaches from the tracer's hooks. So a disable with events in open
 * traces loses nothing, and enable/disable cycles never leave a second set of listeners.
 */
export class LlmobsCore implements EventOwner, HookedCore {
  readonly spans: BatchWriter<EventRecord>
  readonly evals: BatchWriter<EventRecord>
  readonly rescues: boolean
  readonly ready: Promise<void>
  private readonly destinations: Destinations
  private readonly hooks: LlmobsHooks
  private readonly ctx: EventContext
  private readonly undo: Array<() => void> = []
  /** Events and evaluations this core created whose fate is not settled yet. */
  private owned = 0
  /** LLM spans this core started that have not finished. */
  private openSpans = 0
  private phase: 'enabled' | 'draining' | 'retired' = 'enabled'

  constructor (
    readonly tracer: Tracer,
    readonly config: LlmobsConfig,
    readonly mode: ExportMode,
    private readonly ledgers: Ledgers,
    /** The SDK's list, shared: a processor registered once applies to every later enable. */
    readonly processors: EventProcessor[],
    private readonly onRetired: (core: LlmobsCore) => void,
  ) {
    const globalTags = tracer.config.tags
    this.ctx = { service: tracer.config.service, env: tracer.config.env, version: tracer.config.version, globalTags, globalTagsUnits: tagUnits(globalTags) }
    this.rescues = mode === 'apm_agent'
    this.spans = spanWriter<EventRecord>({
      onDelivered: (records) => { for (const r of records) this.settle(this.ledgers.spans.deliver(r)) },
      onFailed: (records, reason) => { for (const r of records) this.settle(this.ledgers.spans.drop(r, DROP_REASON[reason])) },
    }, config.flushIntervalMs)
    this.evals = evalWriter<EventRecord>({
      onDelivered: (records) => { for (const r of records) this.settle(this.ledgers.evals.deliver(r)) },
      onFailed: (records, reason) => { for (const r of records) this.settle(this.ledgers.evals.drop(r, DROP_REASON[reason])) },
    }, config.flushIntervalMs)
    this.destinations = isAgentlessMode(mode) ? agentlessDestinations(config) : agentDestinations(tracer.config.agent)

    const writer = tracer.writer
    if (ridesTraces(mode) && writer !== undefined && mode !== 'otlp') {
      if (writer.version === 'v0.5') {
        log.warnOnce('llmobs.v05', 'LLM Observability requires v0.4 to transmit meta_struct payloads; sending v0.4 instead of the configured v0.5')
        writer.setApiVersion('v0.4')
      }
      const traces = this.destinations.traces
      if (mode === 'apm_agentless' && traces !== undefined) {
        // No Agent sampler between us and the trace intake, which keeps LLMObs data of unsampled
        // traces: every chunk goes there as JSON with _llmobs inline, and no rescue runs. Undone
        // at retirement, not at disable: chunks still carrying our events must go there too.
        writer.useAgentless(traces)
        this.undo.push(() => { if (writer.agentlessDestination === traces) writer.useAgentless(undefined) })
      }
    }
    if (!config.apmTracingEnabled) tracer.setApmExport(false)
    this.hooks = LlmobsHooks.for(tracer)
    this.hooks.attach(this)
    this.ready = this.resolveDestinations()
  }

  // Holds the API key (config, destination headers): never print or serialise it.
  [inspect.custom] (): string { return `LlmobsCore { mode: ${this.mode} }` }
  toJSON (): Record<string, unknown> { return { mode: this.mode } }

  get spanRetries (): number { return this.destinations.spanRetries() }
  get evalRetries (): number { return this.destinations.evalRetries() }

  noteSpanStarted (): void { this.openSpans++ }

  /** Direct modes ship at finish; riding modes attach meta_struct and let the pipeline decide. */
  onSpanFinish (span: Span, st: LlmobsSpanState): void {
    this.openSpans--
    try {
      this.buildAndRoute(span, st)
    } finally {
      if (this.phase === 'draining') this.retireIfIdle()
    }
  }

  private buildAndRoute (span: Span, st: LlmobsSpanState): void {
    try {
      this.route(span, st)
    } catch (err) {
      // Counted, not lost silently: whatever broke (a getter in user data, an id overwritten by
      // user code), the event exists in the ledger and leaves it with a reason.
      log.internalError('llmobs.event', err)
      const record = st.record ?? (st.record = this.created(undefined))
      if (!record.settled && record.claim === 'free') this.settle(this.ledgers.spans.drop(record, 'encoding_error'))
    } finally {
      // The event owns what is sent; a cut event must not leave the uncut strings reachable
      // from a span the application may keep for long.
      st.input = st.output = st.metadata = st.toolDefinitions = undefined
    }
  }

  private route (span: Span, st: LlmobsSpanState): void {
    let tagMap = eventTags(span, st, this.ctx)
    const hasProcessors = this.processors.length > 0
    let event: LlmobsSpanEvent = buildEvent(span, st, hasProcessors ? tagList(tagMap) : [])
    writeGenAiTags(span, st)
    for (const p of this.processors) {
      try {
        const out = p(event)
        if (out === null) {
          this.settle(this.ledgers.spans.drop(this.created(undefined), 'user_processor'))
          return
        }
        if (typeof out === 'object') event = out
        else if (out !== undefined) log.warnOnce('llmobs.processor.return', 'an LLMObs processor returned something that is not an event; the event it was given is sent instead')
      } catch (err) {
        log.internalError('llmobs processor (event kept as it was)', err)
      }
    }
    if (hasProcessors) {
      // What is checked is the object that will be sent, whatever the processor returned or
      // edited in place: one event the intake refuses would take its whole batch with it.
      const problem = safeProblem(event)
      if (problem !== undefined) {
        log.warnOnce('llmobs.processor.shape', `an LLMObs processor left an event the intake would refuse (${problem}); that event is dropped (counted as encoding_error), the others are sent`)
        this.settle(this.ledgers.spans.drop(this.created(undefined), 'encoding_error'))
        return
      }
      tagMap = tagsToMap(event.tags)
    }
    let tagsRendered = hasProcessors
    const record = st.record = this.created(event)
    noteTraceRecord(span.trace, record)
    let mlApp = st.mlApp
    // The state bounds everything users supplied: an event known small skips the walk entirely.
    const limit = DEFAULTS.llmobs.eventSizeLimit
    if (hasProcessors || stateMayExceed(span, st, this.ctx, limit)) {
      // The limit applies to the event as sent, tags included.
      if (!tagsRendered) { event.tags = tagList(tagMap); tagsRendered = true }
      // Without processors the event is ours, plain JSON: the walk's arithmetic is its size.
      const outcome = truncateToFit(event, limit, !hasProcessors)
      if (outcome === 'too_large') { this.settle(this.ledgers.spans.drop(record, 'encoding_error')); return }
      if (outcome === 'truncated') {
        this.ledgers.spans.noteTruncated()
        // meta_struct carries tags as a map and ml_app apart: both from the cut event.
        tagMap = tagsToMap(event.tags)
        mlApp = tagMap.ml_app ?? mlApp
      }
    }
    // A processor may have put values JSON cannot carry (BigInt, cycles): find out now, while
    // the event is one, rather than in a batch.
    if (hasProcessors) record.json = serializeEvent(event)
    const spool = this.ledgers.spool
    if (spool !== undefined) {
      // Spooled now, whatever its route: in the JSON the LLMObs writer would send, which is
      // what a replay sends.
      if (!tagsRendered) { event.tags = tagList(tagMap); tagsRendered = true }
      record.json ??= serializeEvent(event)
      record.spool = spool.append('span', record.json)
    }
    if (!tagsRendered) record.tagMap = tagMap
    if (ridesTraces(this.mode) && this.tracer.traceSink !== undefined) {
      span.writeMetaStruct(META_STRUCT_KEY, toMetaStruct(event, mlApp, tagMap))
      // Serialised already: a riding record needs its JSON only (if it is rescued).
      if (record.json !== undefined) record.event = undefined
    } else {
      span.meta[SUBMITTED_TAG] = '1'
      this.ship(record, 'direct')
    }
  }

  private created (event: LlmobsSpanEvent | undefined): EventRecord {
    this.owned++
    return this.ledgers.spans.create(event, this)
  }

  noteRide (): void { this.ledgers.spans.route('rodeTrace') }

  deliver (record: EventRecord): void { this.settle(this.ledgers.spans.deliver(record)) }

  /**
   * Through the Agent a failed trace payload's events are rescued through the LLMObs writer. In
   * OTLP mode there is no other destination: the OTLP exporter already retried as the spec
   * allows, so the event is dropped with the export's reason.
   */
  payloadFailed (record: EventRecord, reason: string): void {
    if (this.mode !== 'otlp') { this.ship(record, 'rescuedPayloadFailed'); return }
    if (record.settled) return
    this.settle(this.ledgers.spans.drop(record, OTLP_DROP_REASON[reason as TraceFailureReason] ?? 'retries_exhausted'))
  }

  /** Hands an event to the LLMObs span writer, serialising it once; never twice. */
  ship (record: EventRecord, route: Route): void {
    if (record.claim === 'shipped' || record.settled) return
    record.claim = 'shipped'
    this.ledgers.spans.route(route)
    if (record.json === undefined) {
      try {
        const event = record.event as LlmobsSpanEvent
        if (record.tagMap !== undefined) { event.tags = tagList(record.tagMap); record.tagMap = undefined }
        record.json = serializeEvent(event)
      } catch (err) {
        log.internalError('llmobs.serialize', err)
        this.settle(this.ledgers.spans.drop(record, 'encoding_error'))
        return
      }
    }
    record.event = undefined
    this.spans.enqueue(record, record.json)
  }

  /** An evaluation metric, as its JSON; its identity is its join key, label, ml_app and timestamp. */
  submitEvaluationJson (json: string): void {
    this.owned++
    const record = this.ledgers.evals.create(undefined, this, json)
    const spool = this.ledgers.spool
    if (spool !== undefined) record.spool = spool.append('eval', json)
    this.evals.enqueue(record, json)
  }

  /**
   * An unsettled event from a dead process's spool: it joins this process's ledger (so the
   * invariant holds here too) and goes through the LLMObs writer whatever route it had, since
   * whether its trace payload got through is unknown; intake de-duplication keeps it once.
   * False once this core is no longer enabled: the rest stays on disk for a successor.
   */
  replayEvent (kind: EventKind, json: string, ref: SpoolRef): boolean {
    if (this.phase !== 'enabled') return false
    this.owned++
    if (kind === 'eval') {
      const record = this.ledgers.evals.create(undefined, this, json)
      record.spool = ref
      this.evals.enqueue(record, json)
      return true
    }
    const record = this.ledgers.spans.create(undefined, this, json)
    record.spool = ref
    record.claim = 'shipped'
    this.ledgers.spans.route('replayed')
    this.spans.enqueue(record, json)
    return true
  }

  /**
   * For the exit paths: with the spool on, what is safe on disk is not pending for the exit
   * (the next process replays it), so exits do not wait for the destination.
   */
  hasPending (): boolean { return this.owned > 0 && !this.heldOnDisk() }

  /**
   * The exit paths' flush (the tracer's downstream stage). With a spool holding everything
   * pending, it sends what is queued without waiting for an answer and resolves once the
   * spool is written and fsynced; otherwise it waits for the writers as `llmobs.flush()` does
   * (`timeoutMs` is the exit's deadline, not ours to extend).
   */
  flushWriters (timeoutMs: number): Promise<void> {
    const spool = this.ledgers.spool
    if (spool !== undefined) {
      spool.syncNow()
      if (this.heldOnDisk()) {
        // Sent now, not waited for: a zero deadline starts the posts and holds no timer, so
        // the exit is not held either. An answer that comes in time still settles the events.
        void this.deliverWriters(0)
        return Promise.resolve()
      }
    }
    return this.deliverWriters(timeoutMs)
  }

  private heldOnDisk (): boolean {
    const spool = this.ledgers.spool
    return spool !== undefined && spool.holdsAll(this.ledgers.spans.pending + this.ledgers.evals.pending)
  }

  private deliverWriters (timeoutMs: number): Promise<void> {
    return Promise.all([this.spans.flush(timeoutMs), this.evals.flush(timeoutMs)]).then(() => {})
  }

  /**
   * One deadline for the whole flush: discovery, events of spans in open traces taken out of
   * them, trace payloads (their fates may hand events to the span writer), then the writers.
   */
  async flush (timeoutMs: number): Promise<void> {
    const end = Date.now() + timeoutMs
    const left = (): number => Math.max(0, end - Date.now())
    let timer: NodeJS.Timeout | undefined
    await Promise.race([this.ready, new Promise((resolve) => { timer = setTimeout(resolve, left()) })])
    clearTimeout(timer)
    this.hooks.takeOutOpenTraces()
    await this.tracer.flush(left())
    await this.deliverWriters(left())
  }

  /** `disable()`: no new spans; what this core started or holds is still delivered, then it retires. */
  disable (): void {
    if (this.phase !== 'enabled') return
    this.phase = 'draining'
    // Direct modes ship at finish, so APM export can come back now.
    if (!this.config.apmTracingEnabled) this.tracer.setApmExport(true)
    this.retireIfIdle()
  }

  get retired (): boolean { return this.phase === 'retired' }

  private settle (settled: boolean): void {
    if (!settled) return
    this.owned--
    if (this.phase === 'draining') this.retireIfIdle()
  }

  private retireIfIdle (): void {
    if (this.phase !== 'draining' || this.owned > 0 || this.openSpans > 0) return
    this.phase = 'retired'
    this.hooks.detach(this)
    for (const u of this.undo) u()
    // Nothing is held any more: closing cannot lose an item.
    void Promise.all([this.spans.shutdown(0), this.evals.shutdown(0)])
      .finally(() => this.destinations.close())
      .catch((err: unknown) => log.internalError('llmobs.retire', err))
    this.onRetired(this)
  }

  private async resolveDestinations (): Promise<void> {
    const dest = this.destinations
    if (this.mode === 'otlp') {
      // No Agent, no EVP proxy: what would need the LLMObs writer (evaluations, spool replays)
      // has no destination here and is counted as no_evp_proxy.
      log.debug(() => 'LLM Observability enabled: export mode otlp (events ride their spans as GenAI attributes over OTLP; evaluations have no destination)')
      this.spans.setDestination(null)
      this.evals.setDestination(null)
      return
    }
    if (!isAgentlessMode(this.mode)) {
      const found = await discoverEvpProxy(dest.spans.transport, 2000).catch(() => 'unreachable' as const)
      log.debug(() => `LLM Observability enabled: export mode ${this.mode}${this.rescues ? ' (events ride APM traces; those of dropped traces are sent directly)' : ''}; agent EVP proxy: ${String(found)}`)
      if (found === 'missing') {
        log.warnOnce('llmobs.no_evp', 'the agent has no EVP proxy (/evp_proxy/v2/): LLM Observability events that cannot ride a trace will be dropped (counted as no_evp_proxy). Upgrade the Datadog Agent.')
        this.spans.setDestination(null)
        this.evals.setDestination(null)
        return
      }
    } else log.debug(() => `LLM Observability enabled: export mode ${this.mode} (straight to the intake at ${this.config.intakeUrl})`)
    this.spans.setDestination(dest.spans)
    this.evals.setDestination(dest.evals)
  }
}

function safeProblem (event: LlmobsSpanEvent): string | undefined {
  try {
    return eventProblem(event)
  } catch {
    // A processor's Proxy or getter that throws: the event cannot be read, so it cannot be sent.
    return 'unreadable (a getter or proxy threw)'
  }
}

function tagsToMap (tags: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const t of tags) {
    const i = t.indexOf(':')
    if (i > 0) out[t.slice(0, i)] = t.slice(i + 1)
  }
  return out
}
