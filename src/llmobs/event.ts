import type { IOValue } from './annotations.js'

/**
 * The LLM Observability span event (DESIGN §3.5) as the writer sends it. `start_ns` is kept as
 * an exact decimal string and written as a JSON number by the serialiser (epoch nanoseconds do
 * not survive a double); it is the first key so the serialiser can find it without parsing.
 */
export interface LlmobsSpanEvent {
  start_ns: string
  trace_id: string
  span_id: string
  parent_id: string
  name: string
  duration: number
  status: 'ok' | 'error'
  meta: EventMeta
  metrics: Record<string, number>
  tags: string[]
  session_id?: string
  _dd: { span_id: string, trace_id: string, apm_trace_id: string }
  collection_errors?: string[]
}

export interface EventMeta {
  span: { kind: string }
  model_name?: string
  model_provider?: string
  input?: IOValue
  output?: IOValue
  metadata?: Record<string, unknown>
  error?: { message: string, type: string, stack?: string }
  tool_definitions?: unknown[]
}

/**
 * What rides the APM span as `meta_struct["_llmobs"]`: the event minus what the APM span already
 * carries (span id, start, duration, status), tags as a map (DESIGN §3.5).
 */
export interface LlmobsMetaStruct {
  trace_id: string
  parent_id: string
  name: string
  ml_app: string
  session_id?: string
  tags: Record<string, string>
  meta: EventMeta
  metrics: Record<string, number>
  _dd: { span_id: string, trace_id: string, apm_trace_id: string }
  collection_errors?: string[]
}

export function toMetaStruct (event: LlmobsSpanEvent, mlApp: string, tagMap: Record<string, string>): LlmobsMetaStruct {
  const ms: LlmobsMetaStruct = {
    trace_id: event.trace_id,
    parent_id: event.parent_id,
    name: event.name,
    ml_app: mlApp,
    tags: tagMap,
    meta: event.meta,
    metrics: event.metrics,
    _dd: event._dd,
  }
  if (event.session_id !== undefined) ms.session_id = event.session_id
  if (event.collection_errors !== undefined) ms.collection_errors = event.collection_errors
  return ms
}

/** JSON text of an event with `start_ns` as an exact JSON number. */
export function serializeEvent (event: LlmobsSpanEvent): string {
  const json = JSON.stringify(event)
  // JSON.stringify keeps insertion order, so the text starts with {"start_ns":"<digits>".
  const prefix = '{"start_ns":"'
  if (json.startsWith(prefix)) {
    const end = json.indexOf('"', prefix.length)
    return '{"start_ns":' + json.slice(prefix.length, end) + json.slice(end + 1)
  }
  return json
}
