import type { OtlpSpan } from '../../encode/otlp/otlp_types.js'
import type { GenAiIO, GenAiMapped } from '../../genai/index.js'
import type { NewSpan } from '../store.js'

/** A span between an LLMObs span and its LLMObs parent (or the trace root), as the Agent maps it. */
export interface ApmHop { span_id: string, name: string, resource: string, service: string, type: string }

/** What the event takes from the span's resource. */
export interface ResourceFacts {
  service: string | undefined
  env: string | undefined
  version: string | undefined
}

/** The tag every OTLP-mapped event carries; Datadog names OTel-sourced spans so (OTEL-FACTS §2.8). */
const SOURCE = 'otel'
const MODEL_KINDS = new Set(['llm', 'embedding'])

export function hexToDecimal (hex: string): string {
  return BigInt('0x' + hex).toString(10)
}

/**
 * The LLMObs span event of one admitted OTLP span, in the shape the SDK posts to the EVP proxy
 * (DESIGN §3.5): LLMObs trace id = the OTel trace id (an OTel app has no other), span id
 * decimal, parent = the nearest admitted ancestor. The mapping's warnings become
 * `collection_errors:<warning>` tags, one each, as Datadog's backend tags them. `_dd.apm_path`
 * names the non-LLM spans above it, so the UI can say where the call happened.
 */
export function llmobsEvent (m: GenAiMapped, span: OtlpSpan, res: ResourceFacts, parentId: string, apmPath: ApmHop[]): NewSpan {
  const spanId = hexToDecimal(span.spanId)
  const error = m.error !== undefined || span.status.code === 2
  const tags: Record<string, string> = {}
  const mlApp = m.tags.ml_app ?? m.mlApp ?? res.service ?? 'unknown_service'
  tags.ml_app = mlApp
  tags.service = res.service ?? mlApp
  if (res.env !== undefined) tags.env = res.env
  if (res.version !== undefined) tags.version = res.version
  tags.source = SOURCE
  if (m.sessionId !== undefined) tags.session_id = m.sessionId
  tags.error = error ? '1' : '0'
  if (error && m.error?.type !== undefined && m.error.type !== '') tags.error_type = m.error.type
  for (const k of Object.keys(m.tags)) {
    // Keys from the wire: a `__proto__` attribute must not reach the prototype.
    if (k !== '__proto__') tags[k] = m.tags[k]
  }
  const tagList = Object.keys(tags).map((k) => `${k}:${tags[k]}`)
  for (const w of m.warnings) tagList.push(`collection_errors:${w}`)
  tagList.sort()

  const meta: Record<string, unknown> = { span: { kind: m.kind } }
  const model = MODEL_KINDS.has(m.kind)
  const modelName = m.modelName ?? (model ? 'custom' : undefined)
  const modelProvider = (m.modelProvider ?? (model ? 'custom' : undefined))?.toLowerCase()
  if (modelName !== undefined) meta.model_name = modelName
  if (modelProvider !== undefined) meta.model_provider = modelProvider
  if (hasIO(m.input)) meta.input = m.input
  if (hasIO(m.output)) meta.output = m.output
  if (Object.keys(m.metadata).length > 0) meta.metadata = m.metadata
  if (m.toolDefinitions !== undefined) meta.tool_definitions = m.toolDefinitions
  if (error) meta.error = m.error ?? { message: span.status.message, type: 'Error' }

  const startNs = span.startTimeUnixNano.toString(10)
  const duration = Number(span.endTimeUnixNano - span.startTimeUnixNano)
  const dd: Record<string, unknown> = { span_id: spanId, trace_id: span.traceId, apm_trace_id: span.traceId }
  if (apmPath.length > 0) dd.apm_path = apmPath
  const event: Record<string, unknown> = {
    trace_id: span.traceId,
    span_id: spanId,
    parent_id: parentId,
    name: m.name,
    // A JSON number as the intake format has it (exact below 2^53); the start_ns column is exact.
    start_ns: Number(span.startTimeUnixNano),
    duration,
    status: error ? 'error' : 'ok',
    meta,
    metrics: m.metrics,
    tags: tagList,
    _dd: dd,
  }
  if (m.sessionId !== undefined) event.session_id = m.sessionId
  return {
    traceId: span.traceId,
    spanId,
    parentId,
    name: m.name,
    kind: m.kind,
    mlApp,
    status: error ? 'error' : 'ok',
    startNs,
    duration,
    path: 'otlp',
    event: eventJson(event),
  }
}

/**
 * The mapping gives JSON values only; a bigint that slipped through would make JSON.stringify
 * throw, so it becomes a number then. (A replacer on every call would run JS for every key.)
 */
function eventJson (event: Record<string, unknown>): string {
  try {
    return JSON.stringify(event)
  } catch {
    return JSON.stringify(event, (_k, v: unknown) => typeof v === 'bigint' ? Number(v) : v)
  }
}

function hasIO (io: GenAiIO): boolean {
  return io.messages !== undefined || io.documents !== undefined || io.value !== undefined
}
