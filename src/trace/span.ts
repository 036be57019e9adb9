import { describeError, describeValue, log } from '../diag/logger.js'
import { applyManualDecision } from '../sampling/manual.js'
import { epochNsecOf, epochSecOf, monotonicFromEpochMs, monotonicNs } from '../model/clock.js'
import { SpanContext } from './span_context.js'
import type { SpanData } from '../model/span_data.js'
import type { TraceState } from '../model/trace_state.js'

/** Receives every span exactly once, when it finishes (the aggregator). */
export interface SpanSink {
  onSpanFinish (span: Span): void
}

export type TagValue = string | number | boolean | bigint | null | undefined | object

/**
 * A unit of work. Public fields are the wire shape (SpanData) so encoders read them directly;
 * mutators refuse politely once the span has finished (the chunk may already be encoded).
 */
export class Span implements SpanData {
  traceId: string
  spanId: string
  parentId: string
  name: string
  service: string
  resource: string
  type: string
  startSec: number
  startNsec: number
  duration = 0
  error: 0 | 1 = 0
  meta: Record<string, string> = {}
  metrics: Record<string, number> = {}
  metaStruct: Record<string, unknown> | undefined = undefined
  /** @internal LLM Observability's per-span state (owned by src/llmobs; undefined on other spans). */
  llmobs: unknown = undefined
  /**
   * @internal The OTel bridge's view of this span (owned by src/otel). A field declared here, not
   * a symbol added later: every span keeps one hidden class, so the pipeline stays monomorphic.
   */
  otelView: unknown = undefined

  /** @internal Shared per-trace state (ids, sampling, aggregation). */
  readonly trace: TraceState
  private readonly startMono: number
  private finished = false
  private readonly sink: SpanSink
  private ctx: SpanContext | undefined

  /** @internal Spans come from `tracer.startSpan()` / `tracer.trace()`. */
  constructor (sink: SpanSink, trace: TraceState, spanId: string, parentId: string, name: string, service: string, resource: string, type: string, startMono: number | undefined) {
    this.sink = sink
    this.trace = trace
    this.traceId = trace.traceIdLow
    this.spanId = spanId
    this.parentId = parentId
    this.name = name
    this.service = service
    this.resource = resource
    this.type = type
    this.startMono = startMono ?? monotonicNs()
    this.startSec = epochSecOf(this.startMono)
    this.startNsec = epochNsecOf(this.startMono)
    trace.open++
  }

  get isFinished (): boolean { return this.finished }

  context (): SpanContext {
    if (this.ctx === undefined) this.ctx = new SpanContext(this.trace, this.spanId, false)
    return this.ctx
  }

  setTag (key: string, value: TagValue): this {
    if (this.refuseAfterFinish('setTag')) return this
    if (typeof key !== 'string' || key === '') {
      log.warnOnce('span.setTag.key', 'span.setTag() needs a non-empty string key; ignored')
      return this
    }
    try {
      this.applyTag(key, value)
    } catch (err) {
      // A hostile value (a Proxy whose traps throw, say): the tag is lost, the span is not.
      log.warnOnce('span.setTag.value', () => `span.setTag(${describeValue(key)}) could not use its value (${describeError(err)}); ignored`)
    }
    return this
  }

  addTags (tags: Record<string, TagValue>): this {
    if (this.refuseAfterFinish('addTags')) return this
    const entries = readTags(tags, 'span.addTags')
    if (entries !== undefined) for (const [k, v] of entries) this.setTag(k, v)
    return this
  }

  /**
   * Attaches a structured document sent as its own msgpack document (meta_struct), e.g.
   * LLM Observability's `_llmobs`. Passing undefined removes it.
   */
  setMetaStruct (key: string, value: unknown): this {
    if (this.refuseAfterFinish('setMetaStruct')) return this
    this.writeMetaStruct(key, value)
    return this
  }

  /**
   * @internal
   * Pipeline-internal: the LLMObs rescue must tag and scrub a span that has already finished,
   * before it is encoded. Not for user code.
   */
  writeMetaStruct (key: string, value: unknown): void {
    if (value === undefined) {
      if (this.metaStruct !== undefined) {
        delete this.metaStruct[key]
        if (Object.keys(this.metaStruct).length === 0) this.metaStruct = undefined
      }
      return
    }
    if (this.metaStruct === undefined) this.metaStruct = {}
    this.metaStruct[key] = value
  }

  /** Records `err` on the span. Never throws, whatever was thrown (Proxies, throwing getters). */
  setError (err: unknown): this {
    if (this.refuseAfterFinish('setError')) return this
    this.error = 1
    let isError = false
    try { isError = err instanceof Error } catch { /* a Proxy's getPrototypeOf trap threw */ }
    if (isError) {
      const e = err as Error
      this.meta['error.message'] = textOf(() => e.message)
      const name = textOf(() => e.name)
      this.meta['error.type'] = name !== 'Error' && name !== '' ? name : (textOf(() => e.constructor?.name) || 'Error')
      const stack = textOf(() => typeof e.stack === 'string' ? e.stack : '')
      if (stack !== '') this.meta['error.stack'] = stack
    } else if (err !== undefined && err !== null) {
      this.meta['error.message'] = textOf(() => err)
      this.meta['error.type'] = typeof err
    }
    return this
  }

  /** Keeps the whole trace (USER_KEEP), overriding sampling. */
  keep (): this {
    applyManualDecision(this.trace, true)
    return this
  }

  /** Drops the whole trace from APM (USER_REJECT). LLM Observability events are still delivered. */
  drop (): this {
    applyManualDecision(this.trace, false)
    return this
  }

  /** Ends the span; `endTime` in epoch milliseconds. Finishing twice warns and does nothing. */
  finish (endTime?: number): void {
    if (this.finished) {
      log.warnOnce('span.finish.twice', () => `span ${describeValue(this.name)} finished more than once; later calls ignored`)
      return
    }
    this.finished = true
    const end = typeof endTime === 'number' && Number.isFinite(endTime)
      ? monotonicFromEpochMs(endTime)
      : monotonicNs()
    this.duration = end > this.startMono ? end - this.startMono : 0
    try {
      this.sink.onSpanFinish(this)
    } catch (err) {
      log.internalError('span.finish', err)
    }
  }

  private applyTag (key: string, value: TagValue): void {
    switch (key) {
      case 'service.name': if (typeof value === 'string' && value !== '') this.service = value; return
      case 'resource.name': if (typeof value === 'string' && value !== '') this.resource = value; return
      case 'span.type': if (typeof value === 'string') this.type = value; return
      case 'manual.keep': if (value !== false) this.keep(); return
      case 'manual.drop': if (value !== false) this.drop(); return
      case 'error':
        if (value instanceof Error) this.setError(value)
        else if (value === true || value === 1) this.error = 1
        else if (value === false || value === 0) this.error = 0
        return
    }
    this.writeTag(key, value)
  }

  private writeTag (key: string, value: TagValue): void {
    switch (typeof value) {
      case 'string': this.meta[key] = value; return
      case 'number':
        if (Number.isFinite(value)) this.metrics[key] = value
        else this.meta[key] = String(value)
        return
      case 'boolean': this.meta[key] = value ? 'true' : 'false'; return
      case 'bigint': this.meta[key] = value.toString(); return
      case 'undefined': return
      case 'object':
        if (value === null) return
        this.meta[key] = stringifyTag(key, value)
        return
      default:
        log.warnOnce('span.setTag.type', () => `span.setTag(${describeValue(key)}) got a ${typeof value}; ignored`)
    }
  }

  private refuseAfterFinish (what: string): boolean {
    if (!this.finished) return false
    log.warnOnce(`span.${what}.finished`, `span.${what}() called on a finished span; ignored`)
    return true
  }
}

/**
 * The own enumerable entries of a user's tags object, each read guarded: keys that cannot be read
 * (throwing getters, Proxy traps) are left out with one warning, so a span is never half-built.
 * Undefined (with a warning) when `tags` is not an object. `where` names the API for the warning.
 */
export function readTags (tags: unknown, where: string): Array<[string, TagValue]> | undefined {
  if (tags === null || typeof tags !== 'object') {
    log.warnOnce(`${where}.arg`, `${where}() needs an object of tags; ignored`)
    return undefined
  }
  let keys: string[]
  try {
    keys = Object.keys(tags)
  } catch (err) {
    log.warnOnce(`${where}.unreadable`, () => `${where}(): the tags object could not be read (${describeError(err)}); no tags set`)
    return undefined
  }
  const out: Array<[string, TagValue]> = []
  for (const key of keys) {
    try {
      out.push([key, (tags as Record<string, TagValue>)[key]])
    } catch (err) {
      log.warnOnce(`${where}.unreadable`, () => `${where}(): tag ${describeValue(key)} could not be read (${describeError(err)}); left out`)
    }
  }
  return out
}

/** String(...) of a user value that may throw or not be a string; a safe description then. */
function textOf (read: () => unknown): string {
  let v: unknown
  try { v = read() } catch (err) { return `[unreadable: ${describeError(err)}]` }
  if (typeof v === 'string') return v
  try { return String(v) } catch { return describeValue(v) }
}

function stringifyTag (key: string, value: object): string {
  try {
    return JSON.stringify(value, (_k, v: unknown) => typeof v === 'bigint' ? v.toString() : v) ?? String(value)
  } catch (err) {
    log.warnOnce('span.setTag.unserializable', () => `span.setTag(${describeValue(key)}): the value could not be serialised (${describeError(err)}); sent as "[unserializable]"`)
    return '[unserializable]'
  }
}
