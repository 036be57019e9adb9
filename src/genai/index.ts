/**
 * OTel GenAI spans → LLM Observability (DESIGN §9.2, OTEL-FACTS §2). Pure: imports nothing from
 * the rest of src/, so the OTel bridge and the local agent's OTLP intake share it.
 */
import { ADMISSION_KEYS, OPT_OUT_KEY } from './admission.js'
import { METADATA_INPUT_KEYS, METADATA_PREFIXES } from './metadata.js'
import { NAME_KEYS, PROVIDER_KEYS } from './model.js'
import { TOKEN_KEYS } from './tokens.js'

export { mapGenAiSpan, MAPPING_FAILED_WARNING } from './map_span.js'
export {
  ADMISSION_KEYS, AI_SDK_OPERATIONS, ARTIFICIAL_GEN_AI_TAGS_KEY, ARTIFICIAL_GEN_AI_TAGS_VALUE, OPT_OUT_KEY,
  admissionKey, optedOut, traceOptedOut,
} from './admission.js'
export { DETAILS_EVENT } from './messages_semconv.js'
export { MAX_VALUE_CHARS } from './attrs.js'
export type * from './types.js'

/** Exact attribute keys the mapping reads (besides the prefixes in MAPPING_INPUT_PREFIXES). */
export const MAPPING_INPUT_KEYS: readonly string[] = [...new Set([
  ...ADMISSION_KEYS, OPT_OUT_KEY, 'ai.operationId', 'llm.request.type',
  ...NAME_KEYS, ...PROVIDER_KEYS, ...TOKEN_KEYS, ...METADATA_INPUT_KEYS,
  'gen_ai.input.messages', 'gen_ai.output.messages', 'gen_ai.system_instructions', 'gen_ai.tool.definitions',
  'gen_ai.tool.name', 'gen_ai.tool.call.arguments', 'gen_ai.tool.call.result', 'tool.name',
  'input.value', 'output.value', 'traceloop.entity.input', 'traceloop.entity.output',
  'langfuse.observation.input', 'langfuse.observation.output', 'langfuse.observation.usage_details',
  'session.id', 'langfuse.session.id', 'user.id', 'langfuse.user.id', 'tag.tags', 'langfuse.trace.tags', 'error.type',
  'ai.prompt', 'ai.prompt.messages', 'ai.prompt.tools', 'ai.response.text', 'ai.response.object', 'ai.response.toolCalls',
  'ai.toolCall.name', 'ai.toolCall.args', 'ai.toolCall.result', 'ai.values', 'ai.value', 'ai.embeddings', 'ai.embedding',
  'ai.telemetry.functionId',
])]

/** Key prefixes the mapping reads (indexed messages, documents, tools, metadata). */
export const MAPPING_INPUT_PREFIXES: readonly string[] = [
  'gen_ai.prompt.', 'gen_ai.completion.', 'llm.input_messages.', 'llm.output_messages.', 'llm.tools.', 'llm.request.functions.',
  'embedding.embeddings.', 'retrieval.documents.', ...METADATA_PREFIXES,
]

/** Whether the mapping reads `key` (a bridge may use it to decide what must reach the span end). */
export function isMappingInput (key: string): boolean {
  return MAPPING_INPUT_KEYS.includes(key) || MAPPING_INPUT_PREFIXES.some(p => key.startsWith(p))
}

/**
 * @opentelemetry/api SpanKind (INTERNAL=0, SERVER=1, CLIENT=2, PRODUCER=3, CONSUMER=4) from either
 * encoding; OTLP's UNSPECIFIED (0) reads as INTERNAL, as the Agent treats it.
 */
export function apiSpanKind (kind: number | undefined, encoding: 'api' | 'otlp' = 'api'): number {
  if (typeof kind !== 'number' || !Number.isInteger(kind)) return 0
  if (encoding === 'otlp') return kind >= 1 && kind <= 5 ? kind - 1 : 0
  return kind >= 0 && kind <= 4 ? kind : 0
}
