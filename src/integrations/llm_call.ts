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
  name: string
  provider: string
}

/**
 * One provider call traced as one LLM Observability span. The span is opened by
 * `llmobs.trace()` around the provider call and held open by a promise this object settles, so
 * it can end later than the call returns (when a stream finishes). Ending is idempotent.
 */
export class LlmCall {
  private ended = false
  private ttftSec: number | undefined
  private readonly t0 = performance.now()
  private readonly recording: boolean

  constructor (readonly span: Span, private readonly spec: CallSpec, private readonly settle: (err?: { error: unknown }) => void) {
    this.recording = getState(span) !== undefined
  }

  get isEnded (): boolean { return this.ended }

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
    this.spec.llmobs.annotate(this.span, {
      outputData: result.output,
      metrics,
      metadata,
    })
  }

  /**
   * The event's model name is the one that answered (`gpt-4o-mini-2024-07-18`), not the alias
   * requested; annotations have no field for it, so it is written on the span's state directly.
   */
  private setModel (model: string): void {
    const st = getState(this.span)
    if (st === undefined) return
    st.modelName = model
    this.span.meta['llmobs.model_name'] = model
  }
}

/**
 * Runs `invoke` (the provider call) inside a new span and returns its result together with the
 * call handle. Whatever the instrumentation does, the caller gets exactly what `invoke`
 * returned or threw; if the instrumentation itself fails before `invoke` ran, `invoke` runs
 * untraced.
 */
export function startCall<T> (spec: CallSpec, start: () => CallStart, invoke: () => T): { call: LlmCall | undefined, result: T } {
  let invoked = false
  let thrown: { error: unknown } | undefined
  let result!: T
  let call: LlmCall | undefined
  try {
    const done = spec.llmobs.trace({ kind: spec.kind, name: spec.name, modelProvider: spec.provider }, (span: Span) => {
      let settle!: (err?: { error: unknown }) => void
      const held = new Promise<void>((resolve, reject) => {
        settle = (err) => { if (err === undefined) resolve(); else reject(err.error) }
      })
      // When the provider throws synchronously the tracer sees the throw, not this promise.
      held.catch(() => {})
      const c = new LlmCall(span, spec, settle)
      call = c
      try {
        c.begin(start())
      } catch (err) {
        log.internalError(`integration ${spec.integration} request`, err)
      }
      invoked = true
      try {
        result = runTraced(spec.integration, invoke)
      } catch (err) {
        thrown = { error: err }
        c.fail(err)
        throw err
      }
      return held
    }) as unknown
    // The span's promise only carries the outcome to the tracer; nobody else awaits it.
    if (done instanceof Promise) done.catch(() => {})
  } catch (err) {
    if (thrown !== undefined) throw thrown.error
    log.internalError(`integration ${spec.integration}`, err)
    if (!invoked) return { call: undefined, result: invoke() }
  }
  return { call, result }
}
