import { admissionKey, optedOut } from './admission.js'
import { isRecord, Reader } from './attrs.js'
import { mapIO } from './io.js'
import { mapKind } from './kinds.js'
import { mapMetadata, mapSession, mapTags, mapToolDefinitions } from './metadata.js'
import { mapError, mapModel } from './model.js'
import { mapTokens } from './tokens.js'
import type { GenAiMapped, GenAiResult, GenAiSpanInput } from './types.js'

export const MAPPING_FAILED_WARNING = 'otel_warning_mapping_failed'

/**
 * One finished OTel span → an LLM Observability span description, or `admitted: false`. Pure and
 * total: malformed attributes become `otel_warning_*` warnings, and anything unforeseen is caught
 * and reported as `reason: 'failed'` with MAPPING_FAILED_WARNING, never thrown.
 */
export function mapGenAiSpan (span: GenAiSpanInput): GenAiResult {
  try {
    return mapUnsafe(span)
  } catch {
    return { admitted: false, reason: 'failed', warnings: [MAPPING_FAILED_WARNING] }
  }
}

function mapUnsafe (span: GenAiSpanInput): GenAiResult {
  const attrs = isRecord(span?.attributes) ? span.attributes : {}
  const resource = isRecord(span?.resource) ? span.resource : undefined
  if (optedOut(attrs, resource)) return { admitted: false, reason: 'opted_out', warnings: [] }
  const admittedBy = admissionKey(attrs)
  if (admittedBy === undefined) return { admitted: false, reason: 'not_genai', warnings: [] }

  const r = new Reader(attrs)
  const events = span.events
  const { kind, source } = mapKind(r)
  if (source === undefined) r.warn('otel_warning_spec_version_unknown')
  if (!r.has('gen_ai.operation.name')) r.warn('otel_warning_operation_missing')
  const name = spanName(r, span, kind)
  const model = mapModel(r, kind, source)
  const { input, output } = mapIO(r, kind, events)
  const metrics = mapTokens(r, kind === 'llm' || kind === 'embedding')
  const metadata = mapMetadata(r)
  const toolDefinitions = mapToolDefinitions(r)
  const sessionId = mapSession(r)
  const error = mapError(r, span.status, events)
  // Admission and kind keys are mapping inputs, not tags.
  r.used.add(admittedBy)
  r.used.add('gen_ai.operation.name')
  const tags = mapTags(r, sessionId)

  const out: GenAiMapped = { admitted: true, admittedBy, kind, name, input, output, metadata, metrics, tags, warnings: [] }
  if (model.modelName !== undefined) out.modelName = model.modelName
  if (model.modelProvider !== undefined) out.modelProvider = model.modelProvider
  if (toolDefinitions !== undefined && toolDefinitions.length > 0) out.toolDefinitions = toolDefinitions
  if (sessionId !== undefined) out.sessionId = sessionId
  const mlApp = resource?.['service.name']
  if (typeof mlApp === 'string' && mlApp !== '') out.mlApp = mlApp
  if (error !== undefined) out.error = error
  out.warnings = [...r.warnings]
  return out
}

/**
 * The span name, overridden by the tool's name (`gen_ai.tool.name`, OpenInference `tool.name`,
 * the AI SDK's `ai.toolCall.name`). AI SDK spans are named as dd-trace-js names them
 * (OTEL-FACTS §4.3): the operation's last segment, after the `functionId` when one is set.
 */
function spanName (r: Reader, span: GenAiSpanInput, kind: string): string {
  let tool: string | undefined
  for (const k of ['gen_ai.tool.name', 'tool.name', 'ai.toolCall.name']) tool ??= r.str(k)
  if (tool !== undefined) return tool
  if (kind === 'tool') r.warn('otel_warning_tool_span_name_missing')
  const op = r.attrs['ai.operationId']
  if (typeof op === 'string' && op.startsWith('ai.')) {
    const segment = op.slice(op.lastIndexOf('.') + 1)
    const fn = r.str('ai.telemetry.functionId')
    return fn !== undefined ? `${fn}.${segment}` : segment
  }
  return typeof span.name === 'string' && span.name !== '' ? span.name : kind
}
