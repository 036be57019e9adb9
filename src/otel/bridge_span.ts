import type { Attributes, AttributeValue, Exception, Link, Span as OtelSpanApi, SpanContext as OtelSpanContext, SpanStatus, TimeInput } from '@opentelemetry/api'
import { describeError, describeValue, log } from '../diag/logger.js'
import type { Span } from '../trace/span.js'
import type { SpanContext } from '../trace/span_context.js'
import { mapOtelSpan, type OtelAttributes, type OtelEventInput, type OtelLinkInput, type OtelSpanInput } from './dd_mapping.js'
import { toOtelSpanContext } from './span_context.js'

/** What a bridge span needs from the bridge that made it. */
export interface BridgeHost {
  /** Sampling decision for a trace whose flags are read before it was made. */
  decide (ctx: SpanContext): number | undefined
  readonly resource: OtelAttributes
  /** Runs after the Datadog fields are set and before the span finishes (GenAI → LLMObs). */
  beforeFinish (span: BridgeSpan): void
}

const STATUS_UNSET = 0
const STATUS_OK = 1
const STATUS_ERROR = 2

type Status = { readonly code: 0 | 1 | 2, readonly message: string | undefined }

/**
 * Shared by every span until it has an event, a link or a status of its own (most never do):
 * three fewer allocations per span. Frozen, so a stray push fails loudly instead of leaking into
 * every span; `setStatus` replaces the object, never mutates it.
 */
const NO_EVENTS = Object.freeze([]) as unknown as OtelEventInput[]
const NO_LINKS = Object.freeze([]) as unknown as OtelLinkInput[]
const UNSET: Status = Object.freeze({ code: STATUS_UNSET, message: undefined })

/**
 * An OTel API span over one of our spans. Spans started through the bridge (`owned`) keep their
 * OTel shape (attributes, events, links, status) and become Datadog fields at `end()`, by the
 * Agent's mapping; a span started by our own API and seen through `trace.getActiveSpan()` is a
 * proxy: writes go straight to it and `end()` is left to its owner, as in dd-trace.
 * Never throws: a bad argument warns once and is ignored.
 */
export class BridgeSpan implements OtelSpanApi, OtelSpanInput {
  readonly attributes: OtelAttributes = {}
  events: OtelEventInput[] = NO_EVENTS
  links: OtelLinkInput[] = NO_LINKS
  status: Status = UNSET
  name: string
  ended = false
  /** LLM Observability bookkeeping of the GenAI bridge (see genai_bridge.ts). */
  genai: unknown = undefined
  /**
   * The full 32-hex trace id, one string per trace where the parent is a bridge span: the
   * encoder hashes (and caches the bytes of) one string instead of one concatenation per span.
   */
  readonly traceId: string
  private ctx: OtelSpanContext | undefined

  constructor (
    readonly dd: Span,
    readonly host: BridgeHost,
    readonly owned: boolean,
    readonly kind: number,
    name: string,
    readonly scope: { name: string, version: string | undefined },
    traceId?: string,
  ) {
    this.name = name
    this.traceId = traceId ?? dd.trace.traceIdHigh + dd.trace.traceIdLow
  }

  /** The mapping's resource attributes (OtelSpanInput): this span is its own mapping input. */
  get resource (): OtelAttributes { return this.host.resource }

  spanContext (): OtelSpanContext {
    this.ctx ??= toOtelSpanContext(this.dd.context(), (c) => this.host.decide(c), this.traceId)
    return this.ctx
  }

  setAttribute (key: string, value: AttributeValue): this {
    if (this.closed()) return this
    try {
      if (typeof key !== 'string' || key === '') { warn('setAttribute.key', 'an attribute key must be a non-empty string'); return this }
      if (value === undefined || value === null) return this
      const v = checkedValue(key, value)
      if (v === undefined) return this
      if (this.owned) this.attributes[key] = v
      else this.dd.setTag(key, Array.isArray(v) ? JSON.stringify(v) : v)
    } catch (err) {
      log.internalError('otel span.setAttribute', err)
    }
    return this
  }

  setAttributes (attributes: Attributes): this {
    if (this.closed() || attributes === undefined || attributes === null) return this
    try {
      for (const [k, v] of Object.entries(attributes)) this.setAttribute(k, v as AttributeValue)
    } catch (err) {
      warn('setAttributes', `setAttributes() could not read its argument (${describeError(err)})`)
    }
    return this
  }

  addEvent (name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.closed()) return this
    try {
      let attributes: Attributes | undefined
      if (isTimeInput(attributesOrTime)) time = attributesOrTime
      else attributes = attributesOrTime
      this.ownEvents().push({ name: String(name), timeUnixNano: toUnixNano(time), attributes: copyAttributes(attributes) })
    } catch (err) {
      log.internalError('otel span.addEvent', err)
    }
    return this
  }

  addLink (link: Link): this {
    if (this.closed()) return this
    try {
      const sc = link?.context
      if (sc === undefined || typeof sc.traceId !== 'string' || typeof sc.spanId !== 'string') { warn('addLink', 'a link needs a span context'); return this }
      if (this.links === NO_LINKS) this.links = []
      this.links.push({
        traceId: sc.traceId,
        spanId: sc.spanId,
        traceFlags: typeof sc.traceFlags === 'number' ? sc.traceFlags : undefined,
        traceState: sc.traceState?.serialize(),
        attributes: copyAttributes(link.attributes),
      })
    } catch (err) {
      log.internalError('otel span.addLink', err)
    }
    return this
  }

  addLinks (links: Link[]): this {
    if (Array.isArray(links)) for (const l of links) this.addLink(l)
    return this
  }

  setStatus (status: SpanStatus): this {
    if (this.closed()) return this
    try {
      const code = status?.code
      // The OTel rules: Ok is final, Unset changes nothing, a later Error replaces an earlier one.
      if (this.status.code === STATUS_OK || code === STATUS_UNSET || (code !== STATUS_OK && code !== STATUS_ERROR)) return this
      this.status = { code, message: code === STATUS_ERROR && typeof status.message === 'string' ? status.message : undefined }
      if (!this.owned && code === STATUS_ERROR) {
        this.dd.error = 1
        if (this.status.message !== undefined) this.dd.setTag('error.message', this.status.message)
      }
    } catch (err) {
      log.internalError('otel span.setStatus', err)
    }
    return this
  }

  updateName (name: string): this {
    if (this.closed()) return this
    if (typeof name !== 'string') { warn('updateName', 'updateName() needs a string'); return this }
    if (this.owned) this.name = name
    else this.dd.resource = name
    return this
  }

  end (endTime?: TimeInput): void {
    if (!this.owned) return
    if (this.ended) { warn('end.twice', () => `OTel span ${describeValue(this.name)} ended more than once; later calls ignored`); return }
    this.ended = true
    try {
      this.applyMapping()
      this.host.beforeFinish(this)
    } catch (err) {
      log.internalError('otel span.end', err)
    }
    this.dd.finish(endTime === undefined ? undefined : toEpochMs(endTime))
  }

  isRecording (): boolean {
    return this.owned ? !this.ended : !this.dd.isFinished
  }

  recordException (exception: Exception, time?: TimeInput): void {
    if (this.closed()) return
    try {
      const attributes: OtelAttributes = {}
      if (typeof exception === 'string') attributes['exception.message'] = exception
      else if (exception !== null && typeof exception === 'object') {
        const e = exception as { name?: unknown, message?: unknown, stack?: unknown, code?: unknown }
        const type = e.code !== undefined ? String(e.code) : e.name
        if (typeof type === 'string') attributes['exception.type'] = type
        if (typeof e.message === 'string') attributes['exception.message'] = e.message
        if (typeof e.stack === 'string') attributes['exception.stacktrace'] = e.stack
      }
      if (this.owned) this.ownEvents().push({ name: 'exception', timeUnixNano: toUnixNano(time), attributes })
      else this.dd.setError(exception)
    } catch (err) {
      log.internalError('otel span.recordException', err)
    }
  }

  private ownEvents (): OtelEventInput[] {
    if (this.events === NO_EVENTS) this.events = []
    return this.events
  }

  /** Writes the Agent's Datadog fields onto our span (see dd_mapping.ts). */
  private applyMapping (): void {
    const dd = this.dd
    const f = mapOtelSpan(this, dd)
    dd.name = f.name
    dd.resource = f.resource
    dd.type = f.type
    if (f.service !== undefined) dd.service = f.service
    if (f.error === 1) dd.error = 1
  }

  private closed (): boolean {
    if (this.owned ? this.ended : this.dd.isFinished) {
      warn('after.end', 'an OTel span was changed after it ended; ignored')
      return true
    }
    return false
  }
}

function warn (key: string, what: string | (() => string)): void {
  log.warnOnce('otel.span.' + key, what)
}

function checkedValue (key: string, value: unknown): OtelAttributes[string] | undefined {
  if (typeof value === 'string' || typeof value === 'boolean') return value
  if (typeof value === 'number') return value
  if (Array.isArray(value)) {
    const out: Array<string | number | boolean | null> = []
    for (const item of value) {
      if (item === null || item === undefined) out.push(null)
      else if (typeof item === 'string' || typeof item === 'number' || typeof item === 'boolean') out.push(item)
      else { warn('setAttribute.value', () => `attribute ${describeValue(key)}: array items must be strings, numbers or booleans; ignored`); return undefined }
    }
    return out
  }
  warn('setAttribute.value', () => `attribute ${describeValue(key)} must be a string, number, boolean or an array of them, got ${describeValue(value)}; ignored`)
  return undefined
}

function copyAttributes (attributes: Attributes | undefined): OtelAttributes | undefined {
  if (attributes === undefined || attributes === null || typeof attributes !== 'object') return undefined
  const out: OtelAttributes = {}
  for (const [k, v] of Object.entries(attributes)) {
    if (v === undefined || v === null) continue
    const c = checkedValue(k, v)
    if (c !== undefined) out[k] = c
  }
  return out
}

function isTimeInput (v: unknown): v is TimeInput {
  return typeof v === 'number' || v instanceof Date || (Array.isArray(v) && v.length === 2 && typeof v[0] === 'number' && typeof v[1] === 'number')
}

/**
 * OTel time inputs: `[seconds, nanos]`, a Date, or a number of milliseconds — since the epoch, or
 * (below the process's time origin, as the OTel SDK reads it) since `performance.timeOrigin`.
 */
export function toEpochMs (t: TimeInput): number | undefined {
  if (typeof t === 'number') return Number.isFinite(t) ? (t < performance.timeOrigin ? t + performance.timeOrigin : t) : undefined
  if (t instanceof Date) { const ms = t.getTime(); return Number.isFinite(ms) ? ms : undefined }
  if (Array.isArray(t) && t.length === 2) return t[0] * 1e3 + t[1] / 1e6
  return undefined
}

function toUnixNano (t: TimeInput | undefined): bigint {
  if (Array.isArray(t) && t.length === 2 && Number.isSafeInteger(t[0]) && Number.isSafeInteger(t[1])) return BigInt(t[0]) * 1_000_000_000n + BigInt(t[1])
  const ms = t === undefined ? undefined : toEpochMs(t)
  return BigInt(Math.round((ms ?? performance.timeOrigin + performance.now()) * 1e6))
}
