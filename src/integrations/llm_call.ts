import { performance } from 'node:perf_hooks'
import { log } from '../diag/logger.js'
import type { LLMObs } from '../llmobs/sdk.js'
import { getState } from '../llmobs/span_state.js'
import type { Span } from '../trace/span.js'
import { runTraced } from './guard.js'
import { usageMetrics, type TokenUsage } from './usage.js'

/** How a streamed response ended. */
export type StreamEnd = 'completed' | 'cancelled' | 'aborted' | 'error'

/** What a provider call produced, in annotation terms. */
export interface CallResult {
  /** The model that answered (the response's name, e.g. a dated snapshot), when known. */
  model?: string
  /** Output messages (llm spans) or a value (embedding spans). */
  output?: unknown
  /** Undefined when the provider reported none. */
  usage?: TokenUsage
  metadata?: Record<string, unknown>
  /** Only for streams. */
  streamEnd?: StreamEnd
  /** The caller dropped the response or stream without finishing it (found by the garbage collector). */
  abandoned?: boolean
  /** Response tags of the APM span (`openai.response.id`, ...): strings go to meta, numbers to metrics. */
  apmTags?: ApmTags
}

export type ApmTags = Record<string, string | number | undefined>

/** The APM side of a provider call, as dd-trace names it (OTEL-FACTS §4.1–4.3). */
export interface ApmSpan {
  name: string
  resource: string
  /** Left empty where dd-trace sets none. */
  type: string
  /** Request tags: `component`, `span.kind`, `<provider>.request.*`. */
  tags: ApmTags
}

/** What is known when the call starts. */
export interface CallStart {
  model?: string
  input?: unknown
  metadata?: Record<string, unknown>
  toolDefinitions?: unknown[]
}

export interface CallSpec {
  llmobs: LLMObs
  /** Guard key: the integration that owns this call ('openai', 'anthropic', 'ai'). */
  integration: string
  kind: 'llm' | 'embedding'
  /** The LLMObs span name (`OpenAI.createChatCompletion`); the APM span is named by `apm`. */
  name: string
  provider: string
  apm?: ApmSpan
}

/**
 * A response promise or stream the caller dropped unfinished would hold its span open forever,
 * and with it every finished span of its trace in the aggregator. When such an object is
 * collected, its call ends as abandoned.
 */
const abandoned = new FinalizationRegistry<LlmCall>((call) => call.succeed({ abandoned: true }))

/**
 * One provider call traced as one LLM Observability span. The span is opened by
 * `llmobs.trace()` around the provider call and held open by a promise this object settles, so
 * it can end later than the call returns (when a stream finishes). Ending is idempotent.
 */
export class LlmCall {
  private ended = false
  private watchToken: object | undefined
  private ttftSec: number | undefined
  private readonly t0 = performance.now()
  private readonly recording: boolean

  constructor (readonly span: Span, private readonly spec: CallSpec, private readonly settle: (err?: { error: unknown }) => void) {
    this.recording = getState(span) !== undefined
  }

  /** Input side, recorded before the provider is called. */
  begin (start: CallStart): void {
    if (!this.recording) return
    if (start.model !== undefined) this.setModel(start.model)
    this.spec.llmobs.annotate(this.span, {
      inputData: start.input,
      metadata: start.metadata,
      toolDefinitions: start.toolDefinitions !== undefined && start.toolDefinitions.length > 0 ? start.toolDefinitions : undefined,
    })
  }

  /**
   * Ends the call as abandoned if `holder` (what the caller holds: the request promise, later
   * the stream) is garbage-collected first. A new holder replaces the previous one.
   */
  watch (holder: object): void {
    if (this.ended) return
    if (this.watchToken !== undefined) abandoned.unregister(this.watchToken)
    this.watchToken = {}
    abandoned.register(holder, this, this.watchToken)
  }

  /** The caller's code now owns the outcome (a parse in progress); nothing to watch. */
  unwatch (): void {
    if (this.watchToken !== undefined) abandoned.unregister(this.watchToken)
    this.watchToken = undefined
  }

  /** Streams: the first chunk that carried output. */
  firstToken (): void {
    if (this.ttftSec === undefined) this.ttftSec = (performance.now() - this.t0) / 1000
  }

  /** Ends the span successfully with what the provider returned. */
  succeed (result: CallResult): void {
    this.end(result, undefined)
  }

  /** Ends the span with the error the caller is about to see (and whatever arrived before it). */
  fail (error: unknown, partial: CallResult = {}): void {
    this.end(partial, { error })
  }

  private end (result: CallResult, failure: { error: unknown } | undefined): void {
    if (this.ended) return
    this.ended = true
    if (this.watchToken !== undefined) abandoned.unregister(this.watchToken)
    try {
      if (this.recording) this.record(result)
    } catch (err) {
      log.internalError(`integration ${this.spec.integration} result`, err)
    }
    this.settle(failure)
  }

  private record (result: CallResult): void {
    if (result.model !== undefined && result.model !== '') this.setModel(result.model)
    const usage = usageMetrics(result.usage)
    const metrics: Record<string, number> = { ...usage }
    const metadata: Record<string, unknown> = { ...result.metadata }
    if (usage === undefined) metadata.usage_source = 'missing'
    if (this.ttftSec !== undefined) metrics.timeToFirstToken = this.ttftSec
    if (result.streamEnd !== undefined) metadata.stream_status = result.streamEnd
    if (result.abandoned === true) metadata.abandoned = true
    if (result.apmTags !== undefined) setApmTags(this.span, result.apmTags)
    this.spec.llmobs.annotate(this.span, {
      outputData: result.output,
      metrics,
      metadata,
    })
  }

  /**
   * The event's model name is the one that answered (`gpt-4o-mini-2024-07-18`), not the alias
   * requested; annotations have no field for it, so it is written on the span's state directly
   * (the APM side gets it as `gen_ai.request.model` at finish, as dd-trace writes it).
   */
  private setModel (model: string): void {
    const st = getState(this.span)
    if (st !== undefined) st.modelName = model
  }
}

/**
 * Runs `invoke` (the provider call) inside a new span and returns its result together with the
 * call handle. Whatever the instrumentation does, the caller gets exactly what `invoke`
 * returned or threw; if the instrumentation itself fails before `invoke` ran, `invoke` runs
 * untraced.
 */
export function startCall<T> (spec: CallSpec, start: () => CallStart, invoke: () => T): { call: LlmCall | undefined, result: T } {
  // The result travels in a box emptied before returning: the span's promise chain keeps this
  // scope alive until the call ends, and must not keep the caller's response or stream alive
  // with it (that would defeat LlmCall.watch()).
  const box: { result?: T, invoked: boolean, thrown?: { error: unknown }, call?: LlmCall } = { invoked: false }
  try {
    const done = spec.llmobs.trace({ kind: spec.kind, name: spec.name, modelProvider: spec.provider }, (span: Span) => {
      const { held, settle } = deferred()
      try {
        nameProviderSpan(span, spec)
      } catch (err) {
        log.internalError(`integration ${spec.integration} span`, err)
      }
      const c = new LlmCall(span, spec, settle)
      box.call = c
      try {
        c.begin(start())
      } catch (err) {
        log.internalError(`integration ${spec.integration} request`, err)
      }
      box.invoked = true
      try {
        box.result = runTraced(spec.integration, invoke)
      } catch (err) {
        box.thrown = { error: err }
        c.fail(err)
        throw err
      }
      return held
    }) as unknown
    // The span's promise only carries the outcome to the tracer; nobody else awaits it.
    if (done instanceof Promise) done.catch(() => {})
  } catch (err) {
    if (box.thrown !== undefined) throw box.thrown.error
    log.internalError(`integration ${spec.integration}`, err)
    if (!box.invoked) return { call: undefined, result: invoke() }
  }
  const out = { call: box.call, result: box.result as T }
  box.result = undefined
  box.call = undefined
  return out
}

/** The APM span as dd-trace names it, and the event's `integration` tag. */
function nameProviderSpan (span: Span, spec: CallSpec): void {
  const st = getState(span)
  if (st !== undefined) st.tags.integration = spec.integration
  const apm = spec.apm
  if (apm === undefined) return
  span.name = apm.name
  span.resource = apm.resource
  span.type = apm.type
  span.meta['_dd.integration'] = spec.integration
  setApmTags(span, apm.tags)
}

function setApmTags (span: Span, tags: ApmTags): void {
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v === 'string') span.meta[k] = v
    else if (typeof v === 'number' && Number.isFinite(v)) span.metrics[k] = v
  }
}

/** The promise that holds a span open, and its settler; made here so it captures nothing else. */
function deferred (): { held: Promise<void>, settle: (err?: { error: unknown }) => void } {
  let settle!: (err?: { error: unknown }) => void
  const held = new Promise<void>((resolve, reject) => {
    settle = (err) => { if (err === undefined) resolve(); else reject(err.error) }
  })
  // When the provider throws synchronously the tracer sees the throw, not this promise.
  held.catch(() => {})
  return { held, settle }
}
