import type { OtlpAttribute, OtlpSpan, OtlpTracesRequest } from '../../encode/otlp/otlp_types.js'
import { apiSpanKind, mapGenAiSpan, optedOut, admissionKey, type GenAiMapped } from '../../genai/index.js'
import { mapOtelSpan, type DdSpanFields } from '../../otel/dd_mapping.js'
import { type Batch, count } from '../store.js'
import { agentAttributes, genAiAttributes } from './otlp_attrs.js'
import { type ApmHop, type ResourceFacts, hexToDecimal, llmobsEvent } from './otlp_event.js'

const HEX32 = /^[0-9a-f]{32}$/
const HEX16 = /^[0-9a-f]{16}$/
const ZERO16 = '0000000000000000'
/** APM spans named per LLMObs span: the nearest ones, enough to place a call in any real app. */
const MAX_APM_HOPS = 16
/** Reasons quoted in a partial-success message (the count covers the rest). */
const MAX_REASONS = 3

/** What the sender is told: spans refused, with the first reasons. */
export interface OtlpIngestResult { rejected: number, message: string }

interface Resource {
  genai: Record<string, unknown>
  agent: ReturnType<typeof agentAttributes>
  facts: ResourceFacts
}

interface Entry {
  span: OtlpSpan
  resource: Resource
  scope: { name: string, version: string }
  genaiAttrs: Record<string, unknown>
  dd: DdSpanFields
  mapped: GenAiMapped | undefined
}

/**
 * One decoded OTLP request → a batch for the store: every GenAI span the shared mapping admits
 * becomes an LLMObs span event (path `otlp`), and each trace of the request is summarised as an
 * APM chunk (endpoint `/v1/traces`) from the Agent's mapping of its spans. Spans with ids or
 * times no tracer could have produced are refused, each alone (a partial success): the rest of
 * the request is stored. A trace with one `dd_llmobs_enabled=false` span (or resource) gives no
 * LLMObs spans, as Datadog drops the whole trace's conversion.
 */
export function ingestOtlp (request: OtlpTracesRequest, batch: Batch): OtlpIngestResult {
  const reasons: string[] = []
  let rejected = 0
  let received = 0
  const traces = new Map<string, Entry[]>()
  for (const rs of request.resourceSpans) {
    const resource = resourceOf(rs.resource.attributes)
    for (const ss of rs.scopeSpans) {
      const scope = { name: ss.scope.name, version: ss.scope.version }
      for (const span of ss.spans) {
        received++
        const why = invalidSpan(span)
        if (why !== undefined) {
          rejected++
          if (reasons.length < MAX_REASONS) reasons.push(`span ${JSON.stringify(span.name.slice(0, 64))}: ${why}`)
          continue
        }
        const genaiAttrs = genAiAttributes(span.attributes)
        const dd = mapOtelSpan({
          name: span.name,
          kind: apiSpanKind(span.kind, 'otlp'),
          attributes: agentAttributes(span.attributes),
          resource: resource.agent,
          status: { code: span.status.code, message: span.status.message },
          events: span.events.map((e) => ({ name: e.name, timeUnixNano: e.timeUnixNano, attributes: agentAttributes(e.attributes) })),
          links: span.links.map((l) => ({ traceId: l.traceId, spanId: l.spanId, traceFlags: l.flags & 0xff, traceState: l.traceState, attributes: agentAttributes(l.attributes) })),
          scope,
          traceId: span.traceId,
        })
        const list = traces.get(span.traceId)
        const entry: Entry = { span, resource, scope, genaiAttrs, dd, mapped: undefined }
        if (list === undefined) traces.set(span.traceId, [entry])
        else list.push(entry)
      }
    }
  }
  count(batch, 'otlp_spans_received', received)
  if (rejected > 0) count(batch, 'otlp_spans_rejected', rejected)
  for (const [traceId, entries] of traces) ingestTrace(traceId, entries, batch)
  const more = rejected > reasons.length ? `; and ${rejected - reasons.length} more` : ''
  return { rejected, message: rejected === 0 ? '' : `${rejected} span(s) rejected: ${reasons.join('; ')}${more}` }
}

function ingestTrace (traceId: string, entries: Entry[], batch: Batch): void {
  const optOut = entries.some((e) => optedOut(e.genaiAttrs, e.resource.genai))
  const byId = new Map<string, Entry>()
  for (const e of entries) {
    if (!byId.has(e.span.spanId)) byId.set(e.span.spanId, e)
    if (optOut) {
      if (admissionKey(e.genaiAttrs) !== undefined) count(batch, 'otlp_spans_opted_out')
      continue
    }
    const r = mapGenAiSpan({
      name: e.span.name,
      kind: e.span.kind,
      kindEncoding: 'otlp',
      attributes: e.genaiAttrs,
      resource: e.resource.genai,
      events: e.span.events.map((ev) => ({ name: ev.name, timeUnixNano: ev.timeUnixNano, attributes: genAiAttributes(ev.attributes) })),
      status: e.span.status,
      scope: e.scope,
    })
    if (r.admitted) e.mapped = r
  }
  let llmobsSpans = 0
  for (const e of entries) {
    if (e.mapped === undefined) continue
    const { parentId, hops } = llmobsParent(e, byId)
    batch.spans.push(llmobsEvent(e.mapped, e.span, e.resource.facts, parentId, hops))
    llmobsSpans++
  }
  if (llmobsSpans > 0) count(batch, 'llmobs_otlp', llmobsSpans)
  const root = entries.find((e) => e.span.parentSpanId === '' || !byId.has(e.span.parentSpanId)) ?? entries[0]
  batch.chunks.push({
    traceId,
    rootName: root.dd.name,
    service: root.dd.service ?? root.resource.facts.service ?? '',
    // OTLP carries no sampling priority: an exporter sends what its sampler kept.
    priority: undefined,
    kept: true,
    spanCount: entries.length,
    error: entries.some((e) => e.dd.error === 1),
    llmobsSpans,
    endpoint: '/v1/traces',
  })
}

/**
 * The nearest admitted ancestor within the request (its decimal id), else "undefined"; and the
 * APM spans passed on the way, nearest last. A parent id cycle ends the walk.
 */
function llmobsParent (e: Entry, byId: ReadonlyMap<string, Entry>): { parentId: string, hops: ApmHop[] } {
  const hops: ApmHop[] = []
  const seen = new Set<string>([e.span.spanId])
  let id = e.span.parentSpanId
  while (id !== '' && !seen.has(id)) {
    seen.add(id)
    const p = byId.get(id)
    if (p === undefined) break
    if (p.mapped !== undefined) return { parentId: hexToDecimal(id), hops: hops.reverse() }
    if (hops.length < MAX_APM_HOPS) {
      hops.push({ span_id: hexToDecimal(id), name: p.dd.name, resource: p.dd.resource, service: p.dd.service ?? '', type: p.dd.type })
    }
    id = p.span.parentSpanId
  }
  return { parentId: 'undefined', hops: hops.reverse() }
}

/** Why no tracer could have sent this span, or undefined when it is fine. */
function invalidSpan (s: OtlpSpan): string | undefined {
  if (!HEX32.test(s.traceId) || /^0+$/.test(s.traceId)) return `invalid trace id ${JSON.stringify(s.traceId.slice(0, 64))} (16 bytes, not all zero)`
  if (!HEX16.test(s.spanId) || s.spanId === ZERO16) return `invalid span id ${JSON.stringify(s.spanId.slice(0, 64))} (8 bytes, not all zero)`
  if (s.parentSpanId !== '' && !HEX16.test(s.parentSpanId)) return `invalid parent span id ${JSON.stringify(s.parentSpanId.slice(0, 64))} (8 bytes or empty)`
  if (s.parentSpanId === s.spanId) return 'the span is its own parent'
  if (s.startTimeUnixNano <= 0n) return 'missing start time'
  if (s.endTimeUnixNano < s.startTimeUnixNano) return `ends before it starts (end ${s.endTimeUnixNano} < start ${s.startTimeUnixNano})`
  return undefined
}

function resourceOf (attrs: readonly OtlpAttribute[]): Resource {
  const genai = genAiAttributes(attrs)
  const agent = agentAttributes(attrs)
  const str = (k: string): string | undefined => {
    const v = genai[k]
    return typeof v === 'string' && v !== '' ? v : undefined
  }
  return {
    genai,
    agent,
    facts: {
      service: str('service.name'),
      env: str('deployment.environment.name') ?? str('deployment.environment'),
      version: str('service.version'),
    },
  }
}
