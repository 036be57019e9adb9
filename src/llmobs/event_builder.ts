import { epochNsString } from '../model/clock.js'
import { hexToDecimal } from '../model/ids.js'
import type { Span } from '../trace/span.js'
import type { EventMeta, LlmobsSpanEvent } from './event.js'
import { isModelKind } from './span_kinds.js'
import type { LlmobsSpanState } from './span_state.js'

export interface EventContext {
  service: string
  env: string | undefined
  version: string | undefined
  /** DD_TAGS and the tracer's `tags` option: first in every event's tags. */
  globalTags?: Record<string, string>
  /** Their length in UTF-16 units, for the size gate's bound. */
  globalTagsUnits?: number
}

export function tagUnits (tags: Record<string, string>): number {
  let n = 0
  for (const k of Object.keys(tags)) n += k.length + (tags[k] as string).length + 2
  return n
}

/** The tags every event carries, as a map (meta_struct form); the event takes the sorted list. */
export function eventTags (span: Span, st: LlmobsSpanState, ctx: EventContext): Record<string, string> {
  // dd-trace-js's order: DD_TAGS, then the standard tags, then the span's own tags, which win.
  const tags: Record<string, string> = { ...ctx.globalTags }
  tags.ml_app = st.mlApp
  tags.service = span.service !== '' ? span.service : ctx.service
  if (ctx.env !== undefined) tags.env = ctx.env
  if (ctx.version !== undefined) tags.version = ctx.version
  tags.source = 'integration'
  tags.language = 'javascript'
  if (st.sessionId !== undefined) tags.session_id = st.sessionId
  tags.error = String(span.error)
  if (span.error === 1 && span.meta['error.type'] !== undefined) tags.error_type = span.meta['error.type']
  return Object.assign(tags, st.tags)
}

export function tagList (tags: Record<string, string>): string[] {
  const out: string[] = []
  for (const k of Object.keys(tags)) out.push(`${k}:${tags[k]}`)
  return out.sort()
}

/**
 * The model fields as dd-trace writes them: llm and embedding spans always name one (`custom`
 * when nobody said), and the provider is lower-cased so `OpenAI` and `openai` are one facet value.
 */
export function eventModel (st: LlmobsSpanState): { name?: string, provider?: string } {
  const model = isModelKind(st.kind)
  const name = st.modelName ?? (model ? 'custom' : undefined)
  const provider = st.modelProvider ?? (model ? 'custom' : undefined)
  return { name, provider: provider?.toLowerCase() }
}

/**
 * Builds the writer-shaped event (DESIGN §3.5) from a finished span and its LLMObs state.
 * `tags` may be left empty by the caller and filled from the map when the event is serialised:
 * events that ride a trace only ever need the map.
 */
export function buildEvent (span: Span, st: LlmobsSpanState, tags: string[]): LlmobsSpanEvent {
  const meta: EventMeta = { span: { kind: st.kind } }
  const model = eventModel(st)
  if (model.name !== undefined) meta.model_name = model.name
  if (model.provider !== undefined) meta.model_provider = model.provider
  if (st.input !== undefined) meta.input = st.input
  if (st.output !== undefined) meta.output = st.output
  if (st.metadata !== undefined) meta.metadata = st.metadata
  if (st.toolDefinitions !== undefined) meta.tool_definitions = st.toolDefinitions
  if (span.error === 1) {
    meta.error = { message: span.meta['error.message'] ?? '', type: span.meta['error.type'] ?? 'Error' }
    const stack = span.meta['error.stack']
    if (stack !== undefined) meta.error.stack = stack
  }
  const spanIdDec = st.spanIdDec ??= hexToDecimal(span.spanId)
  const apmTraceId = span.trace.traceIdHigh + span.trace.traceIdLow
  const event: LlmobsSpanEvent = {
    start_ns: epochNsString(span.startSec, span.startNsec),
    trace_id: st.traceId,
    span_id: spanIdDec,
    parent_id: st.parentId,
    name: st.name,
    duration: span.duration,
    status: span.error === 1 ? 'error' : 'ok',
    meta,
    metrics: st.metrics,
    tags,
    _dd: { span_id: spanIdDec, trace_id: apmTraceId, apm_trace_id: apmTraceId },
  }
  if (st.sessionId !== undefined) event.session_id = st.sessionId
  return event
}
