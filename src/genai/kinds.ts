import { AI_SDK_OPERATIONS } from './admission.js'
import type { Reader } from './attrs.js'
import type { GenAiKind } from './types.js'

const OPERATION: Record<string, GenAiKind> = {
  chat: 'llm',
  generate_content: 'llm',
  text_completion: 'llm',
  completion: 'llm',
  embeddings: 'embedding',
  embedding: 'embedding',
  execute_tool: 'tool',
  invoke_agent: 'agent',
  create_agent: 'agent',
}

const LLM_REQUEST_TYPE: Record<string, GenAiKind> = { chat: 'llm', completion: 'llm', embedding: 'embedding' }

const OPENINFERENCE: Record<string, GenAiKind> = {
  LLM: 'llm', EMBEDDING: 'embedding', TOOL: 'tool', AGENT: 'agent', RETRIEVER: 'retrieval',
}

const LANGFUSE: Record<string, GenAiKind> = {
  generation: 'llm', embedding: 'embedding', tool: 'tool', agent: 'agent', retriever: 'retrieval',
}

const TRACELOOP: Record<string, GenAiKind> = { workflow: 'workflow', task: 'task', agent: 'agent', tool: 'tool' }

export interface KindResult { kind: GenAiKind, source: string | undefined }

/**
 * OTEL-FACTS §2.3: `gen_ai.operation.name` > `llm.request.type` > `openinference.span.kind` >
 * `langfuse.observation.type`, each with its table; any value a table does not name is workflow.
 * Our additions, below those (Datadog does not document them): the AI SDK's `ai.operationId`,
 * then `traceloop.span.kind`. With no source at all (only `gen_ai.system`/`gen_ai.provider.name`)
 * the kind is workflow and `source` is undefined (the caller warns `spec_version_unknown`).
 */
export function mapKind (r: Reader): KindResult {
  const op = r.str('gen_ai.operation.name')
  if (op !== undefined) return { kind: OPERATION[op.toLowerCase()] ?? 'workflow', source: 'gen_ai.operation.name' }
  const reqType = r.str('llm.request.type')
  if (reqType !== undefined) return { kind: LLM_REQUEST_TYPE[reqType.toLowerCase()] ?? 'workflow', source: 'llm.request.type' }
  const oi = r.str('openinference.span.kind')
  if (oi !== undefined) return { kind: OPENINFERENCE[oi.toUpperCase()] ?? 'workflow', source: 'openinference.span.kind' }
  const lf = r.str('langfuse.observation.type')
  if (lf !== undefined) return { kind: LANGFUSE[lf.toLowerCase()] ?? 'workflow', source: 'langfuse.observation.type' }
  const aiOp = r.attrs['ai.operationId']
  if (typeof aiOp === 'string' && Object.hasOwn(AI_SDK_OPERATIONS, aiOp)) {
    r.used.add('ai.operationId')
    return { kind: AI_SDK_OPERATIONS[aiOp], source: 'ai.operationId' }
  }
  const tl = r.str('traceloop.span.kind')
  if (tl !== undefined) return { kind: TRACELOOP[tl.toLowerCase()] ?? 'workflow', source: 'traceloop.span.kind' }
  return { kind: 'workflow', source: undefined }
}
