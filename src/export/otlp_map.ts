import type { OtlpAttribute, OtlpEvent, OtlpLink, OtlpSpan, OtlpSpanKind, OtlpStatus, OtlpValue } from '../encode/otlp/otlp_types.js'
import { SEMCONV_DOUBLE_KEYS, toSemconvAttributes, type LlmobsEventView, type SemconvValue } from '../genai/to_semconv.js'
import type { GenAiIO } from '../genai/types.js'
import { ZERO_ID, type SpanData } from '../model/span_data.js'
import type { TraceState } from '../model/trace_state.js'
import { TRACER_VERSION } from '../version.js'

/**
 * Our finished spans → OTLP spans (pure). A Datadog span is written the way dd-trace-js's OTLP
 * export writes it (OTEL-FACTS §1.6): the OTLP name is the resource, and `operation.name`,
 * `resource.name`, `span.type` (and `service.name` when it is not the resource's) are attributes,
 * which is exactly what the Datadog Agent's OTLP mapping reads back (§1.4). Meta become string
 * attributes, metrics int or double attributes. A span started through our OTel bridge goes out
 * as the OTel span it was: its own name, kind, attributes, events, links and status (not the
 * Datadog meta the bridge derived from them).
 *
 * An LLM span (one carrying `meta_struct._llmobs`) is named after its LLM Observability event and
 * carries the GenAI semantic-convention attributes built from that event, in place of the
 * dd-trace-style `gen_ai.*` tags and the `_dd.llmobs.artificial_gen_ai_tags` marker: on this path
 * the backend is meant to read them.
 */

/** What the OTel bridge keeps of a span it started (see src/otel/bridge_span.ts). Kind is the API enum (INTERNAL=0). */
export interface OtelSpanView {
  name: string
  kind: number
  attributes: Record<string, unknown>
  events: Array<{ name: string, timeUnixNano: bigint, attributes: Record<string, unknown> | undefined }>
  links: Array<{ traceId: string, spanId: string, traceFlags: number | undefined, traceState: string | undefined, attributes: Record<string, unknown> | undefined }>
  status: { code: 0 | 1 | 2, message: string | undefined }
}

export type ViewLookup = (span: SpanData) => OtelSpanView | undefined

const LLMOBS_KEY = '_llmobs'

/** Meta that become OTLP fields (or are replaced), never attributes. */
const NOT_ATTRIBUTES = new Set(['_dd.p.tid', 'span.kind', '_dd.span_links', 'events'])
const ARTIFICIAL = '_dd.llmobs.artificial_gen_ai_tags'

const KINDS: Record<string, OtlpSpanKind> = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 }

export function isLlmSpan (span: SpanData): boolean {
  return span.metaStruct !== undefined && span.metaStruct[LLMOBS_KEY] !== undefined
}

export function toOtlpSpan (span: SpanData, trace: TraceState, viewOf?: ViewLookup, resourceService?: string): OtlpSpan {
  const start = BigInt(span.startSec) * 1_000_000_000n + BigInt(span.startNsec)
  const end = start + BigInt(Math.max(0, Math.round(span.duration)))
  const view = viewOf?.(span)
  const llm = llmView(span)
  const attrs = new AttrList()
  let name: string
  let kind: OtlpSpanKind
  let status: OtlpStatus
  let events: OtlpEvent[]
  let links: OtlpLink[]
  if (view !== undefined) {
    name = view.name
    kind = (view.kind >= 0 && view.kind <= 4 ? view.kind + 1 : 1) as OtlpSpanKind
    for (const k of Object.keys(view.attributes)) attrs.put(k, toValue(view.attributes[k]))
    status = { code: view.status.code, message: view.status.code === 2 ? view.status.message ?? '' : '' }
    events = view.events.map((e) => ({ timeUnixNano: e.timeUnixNano, name: e.name, attributes: attrList(e.attributes), droppedAttributesCount: 0 }))
    links = view.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, traceState: l.traceState ?? '', attributes: attrList(l.attributes), droppedAttributesCount: 0, flags: (l.traceFlags ?? 0) & 0xff }))
  } else {
    name = llm?.name ?? span.resource
    kind = KINDS[span.meta['span.kind']] ?? 1
    status = span.error === 1 ? { code: 2, message: errorMessage(span) } : { code: 0, message: '' }
    events = parseEvents(span.meta.events)
    links = parseLinks(span.meta['_dd.span_links'])
    attrs.put('operation.name', span.name)
    attrs.put('resource.name', span.resource)
    if (span.type !== '') attrs.put('span.type', span.type)
  }
  if (span.service !== resourceService) attrs.putIfAbsent('service.name', span.service)
  if (llm !== undefined) for (const [k, v] of toSemconvAttributes(llm)) attrs.putIfAbsent(k, semconvValue(k, v))
  // A bridged span's meta and metrics are the Datadog mapping of its attributes (and our
  // bookkeeping): the attributes themselves went out above, so nothing is sent twice.
  if (view === undefined) addTags(attrs, span, llm !== undefined)
  const priority = trace.samplingPriority
  return {
    traceId: traceIdOf(span, trace),
    spanId: span.spanId,
    traceState: '',
    parentSpanId: span.parentId === ZERO_ID ? '' : span.parentId,
    // "has is-remote" known (0x100), not remote; the W3C sampled flag from our decision.
    flags: 0x100 | (priority !== undefined && priority > 0 ? 1 : 0),
    name,
    kind,
    startTimeUnixNano: start,
    endTimeUnixNano: end,
    attributes: attrs.list,
    droppedAttributesCount: 0,
    events,
    droppedEventsCount: 0,
    links,
    droppedLinksCount: 0,
    status,
  }
}

/** Meta as string attributes, metrics int or double, other meta_struct documents as JSON bytes. */
function addTags (attrs: AttrList, span: SpanData, llm: boolean): void {
  const meta = span.meta
  for (const k in meta) {
    if (NOT_ATTRIBUTES.has(k)) continue
    // Our own dd-trace-style copy of the event; the semconv attributes above replace it.
    if (llm && (k === ARTIFICIAL || k.startsWith('gen_ai.'))) continue
    attrs.putIfAbsent(k, meta[k])
  }
  const metrics = span.metrics
  for (const k in metrics) {
    if (llm && k.startsWith('gen_ai.')) continue
    const v = metrics[k]
    attrs.putIfAbsent(k, Number.isInteger(v) ? BigInt(v) : v)
  }
  if (span.metaStruct !== undefined) {
    for (const k of Object.keys(span.metaStruct)) {
      if (k === LLMOBS_KEY) continue
      // As dd-trace-js: each meta_struct document as the bytes of its JSON.
      const text = safeJson(span.metaStruct[k])
      if (text !== undefined) attrs.putIfAbsent(k, Buffer.from(text, 'utf8'))
    }
  }
}

/** The OTLP resource: who sends (service, env, version, SDK), then DD_TAGS and OTEL_RESOURCE_ATTRIBUTES. */
export interface ResourceInfo {
  service: string
  env: string | undefined
  version: string | undefined
  tags: Record<string, string>
  resourceAttributes: Record<string, string>
}

export function resourceAttributes (r: ResourceInfo): OtlpAttribute[] {
  const attrs = new AttrList()
  attrs.put('service.name', r.service)
  if (r.env !== undefined) attrs.put('deployment.environment.name', r.env)
  if (r.version !== undefined) attrs.put('service.version', r.version)
  attrs.put('telemetry.sdk.name', 'llmobs-ts')
  attrs.put('telemetry.sdk.language', 'nodejs')
  attrs.put('telemetry.sdk.version', TRACER_VERSION)
  // As given by the user: they name OTel keys, and the fields above already hold service/env/version.
  for (const [k, v] of Object.entries(r.resourceAttributes)) attrs.putIfAbsent(k, v)
  for (const [k, v] of Object.entries(r.tags)) {
    if (k === 'service' || k === 'env' || k === 'version') continue
    attrs.putIfAbsent(k, v)
  }
  return attrs.list
}

export const SCOPE = { name: 'llmobs-ts', version: TRACER_VERSION, attributes: [], droppedAttributesCount: 0 }

/** 128-bit: the trace's high half (our `_dd.p.tid`), else the span's tag, else zeros. */
function traceIdOf (span: SpanData, trace: TraceState): string {
  const high = trace.traceIdHigh ?? span.meta['_dd.p.tid'] ?? ZERO_ID
  return (/^[0-9a-f]{16}$/.test(high) ? high : ZERO_ID) + span.traceId
}

function errorMessage (span: SpanData): string {
  const m = span.meta['error.message'] ?? span.meta['error.msg']
  const t = span.meta['error.type']
  if (m !== undefined && t !== undefined && t !== '') return `${t}: ${m}`
  return m ?? t ?? ''
}

/** The event (from the span's `_llmobs` document) as the semconv mapping reads it. */
function llmView (span: SpanData): LlmobsEventView | undefined {
  const ms = span.metaStruct?.[LLMOBS_KEY]
  if (ms === null || typeof ms !== 'object') return undefined
  const doc = ms as { name?: unknown, session_id?: unknown, ml_app?: unknown, tags?: unknown, metrics?: unknown, meta?: Record<string, unknown> }
  const meta = doc.meta ?? {}
  const spanKind = meta.span as { kind?: unknown } | undefined
  const view: LlmobsEventView = {
    kind: typeof spanKind?.kind === 'string' ? spanKind.kind : 'workflow',
    name: typeof doc.name === 'string' ? doc.name : span.name,
  }
  if (typeof meta.model_name === 'string') view.modelName = meta.model_name
  if (typeof meta.model_provider === 'string') view.modelProvider = meta.model_provider
  if (meta.input !== undefined) view.input = meta.input as GenAiIO
  if (meta.output !== undefined) view.output = meta.output as GenAiIO
  if (meta.metadata !== undefined) view.metadata = meta.metadata as Record<string, unknown>
  if (Array.isArray(meta.tool_definitions)) view.toolDefinitions = meta.tool_definitions
  if (meta.error !== undefined) view.error = meta.error as { message?: string, type?: string }
  if (doc.metrics !== null && typeof doc.metrics === 'object') view.metrics = doc.metrics as Record<string, number>
  if (typeof doc.session_id === 'string') view.sessionId = doc.session_id
  if (typeof doc.ml_app === 'string') view.mlApp = doc.ml_app
  if (doc.tags !== null && typeof doc.tags === 'object') view.tags = doc.tags as Record<string, string>
  return view
}

function semconvValue (key: string, v: SemconvValue): OtlpValue {
  if (typeof v === 'number' && Number.isInteger(v) && !SEMCONV_DOUBLE_KEYS.has(key)) return BigInt(v)
  return v
}

/** `meta.events` as the bridge writes it: `[{name, time_unix_nano, attributes}]`. */
function parseEvents (text: string | undefined): OtlpEvent[] {
  const list = parseList(text)
  const out: OtlpEvent[] = []
  for (const e of list) {
    if (e === null || typeof e !== 'object') continue
    const { name, time_unix_nano: time, attributes } = e as Record<string, unknown>
    if (typeof name !== 'string') continue
    out.push({ timeUnixNano: toNanos(time), name, attributes: attrList(attributes as Record<string, unknown> | undefined), droppedAttributesCount: 0 })
  }
  return out
}

/** `_dd.span_links`: `[{trace_id: 32 hex, span_id: 16 hex, attributes?, flags?, tracestate?}]`. */
function parseLinks (text: string | undefined): OtlpLink[] {
  const out: OtlpLink[] = []
  for (const l of parseList(text)) {
    if (l === null || typeof l !== 'object') continue
    const { trace_id: traceId, span_id: spanId, attributes, flags, tracestate } = l as Record<string, unknown>
    if (typeof traceId !== 'string' || typeof spanId !== 'string') continue
    const tid = traceId.toLowerCase().padStart(32, '0')
    const sid = spanId.toLowerCase().padStart(16, '0')
    if (!/^[0-9a-f]{32}$/.test(tid) || !/^[0-9a-f]{16}$/.test(sid)) continue
    out.push({ traceId: tid, spanId: sid, traceState: typeof tracestate === 'string' ? tracestate : '', attributes: attrList(attributes as Record<string, unknown> | undefined), droppedAttributesCount: 0, flags: typeof flags === 'number' ? flags & 0xff : 0 })
  }
  return out
}

function parseList (text: string | undefined): unknown[] {
  if (text === undefined) return []
  try {
    const v: unknown = JSON.parse(text)
    return Array.isArray(v) ? v : []
  } catch {
    return []
  }
}

function toNanos (v: unknown): bigint {
  try {
    if (typeof v === 'bigint') return v
    if (typeof v === 'number' && Number.isFinite(v)) return BigInt(Math.round(v))
    if (typeof v === 'string' && /^\d+$/.test(v)) return BigInt(v)
  } catch { /* not a time */ }
  return 0n
}

function attrList (attrs: Record<string, unknown> | undefined): OtlpAttribute[] {
  if (attrs === undefined || attrs === null) return []
  const out = new AttrList()
  for (const k of Object.keys(attrs)) out.put(k, toValue(attrs[k]))
  return out.list
}

/** OTel attribute values as OTLP values: integers stay ints, other numbers doubles. */
function toValue (v: unknown): OtlpValue {
  if (typeof v === 'string' || typeof v === 'boolean' || typeof v === 'bigint') return v
  if (typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v
  if (v instanceof Uint8Array) return v
  if (Array.isArray(v)) return v.map(toValue)
  if (v === null || v === undefined) return null
  if (typeof v === 'object') return { kvlist: Object.keys(v).map((k) => ({ key: k, value: toValue((v as Record<string, unknown>)[k]) })) }
  return String(v)
}

function safeJson (v: unknown): string | undefined {
  try { return JSON.stringify(v) } catch { return undefined }
}

/** Attributes in insertion order, each key once (the first writer wins with putIfAbsent). */
class AttrList {
  readonly list: OtlpAttribute[] = []
  private readonly seen = new Map<string, number>()

  put (key: string, value: OtlpValue): void {
    const i = this.seen.get(key)
    if (i !== undefined) { this.list[i] = { key, value }; return }
    this.seen.set(key, this.list.length)
    this.list.push({ key, value })
  }

  putIfAbsent (key: string, value: OtlpValue): void {
    if (!this.seen.has(key)) this.put(key, value)
  }
}
