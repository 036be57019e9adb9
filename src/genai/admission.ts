import type { Attributes } from './types.js'

/**
 * Keys that make a span a GenAI span (DESIGN §9.2). `traceloop.span.kind` is not in Datadog's
 * documented list (OTEL-FACTS §2.2 infers OpenLLMetry workflow/task spans would be dropped); DESIGN
 * and the issue admit it, and dropping an OpenLLMetry workflow would orphan its LLM children.
 */
export const ADMISSION_KEYS = [
  'gen_ai.operation.name',
  'gen_ai.provider.name',
  'gen_ai.system',
  'openinference.span.kind',
  'traceloop.span.kind',
  'langfuse.observation.type',
] as const

/**
 * The Vercel AI SDK marks every telemetry span with `ai.operationId`, but only its provider-call
 * spans (`…doGenerate`, `…doStream`, `…doEmbed`) carry `gen_ai.system`. Admitting the known
 * operations too keeps the SDK's workflow and tool spans (our extension beyond Datadog's rules).
 */
export const AI_SDK_OPERATIONS: Readonly<Record<string, 'workflow' | 'llm' | 'embedding' | 'tool'>> = {
  'ai.generateText': 'workflow',
  'ai.streamText': 'workflow',
  'ai.generateObject': 'workflow',
  'ai.streamObject': 'workflow',
  'ai.embed': 'workflow',
  'ai.embedMany': 'workflow',
  'ai.rerank': 'workflow',
  'ai.generateText.doGenerate': 'llm',
  'ai.streamText.doStream': 'llm',
  'ai.generateObject.doGenerate': 'llm',
  'ai.streamObject.doStream': 'llm',
  'ai.embed.doEmbed': 'embedding',
  'ai.embedMany.doEmbed': 'embedding',
  // LLMObs has no reranker kind; OpenInference RERANKER maps to workflow too (OTEL-FACTS §2.3).
  'ai.rerank.doRerank': 'workflow',
  'ai.toolCall': 'tool',
}

/** The opt-out attribute (span or resource): `dd_llmobs_enabled=false`. */
export const OPT_OUT_KEY = 'dd_llmobs_enabled'

/**
 * Set on the APM span of every span whose LLMObs event we send ourselves, so Datadog's backend
 * does not convert its `gen_ai.*` tags a second time (OTEL-FACTS §2.1; `"true"` as dd-trace-js).
 */
export const ARTIFICIAL_GEN_AI_TAGS_KEY = '_dd.llmobs.artificial_gen_ai_tags'
export const ARTIFICIAL_GEN_AI_TAGS_VALUE = 'true'

/** The key that admits the span, or undefined. Present means set and not null/empty. */
export function admissionKey (attrs: Attributes): string | undefined {
  for (const k of ADMISSION_KEYS) if (present(attrs[k])) return k
  const op = attrs['ai.operationId']
  if (typeof op === 'string' && Object.hasOwn(AI_SDK_OPERATIONS, op)) return 'ai.operationId'
  return undefined
}

/** `dd_llmobs_enabled=false` (boolean false or the text "false", any case) on the span or resource. */
export function optedOut (attrs: Attributes, resource?: Attributes): boolean {
  return isFalse(attrs[OPT_OUT_KEY]) || (resource !== undefined && isFalse(resource[OPT_OUT_KEY]))
}

/**
 * Datadog drops a whole trace once one of its spans opts out (OTEL-FACTS §2.1). The mapping is per
 * span; callers holding a whole trace (the OTLP intake) check this first.
 */
export function traceOptedOut (spans: Iterable<{ attributes: Attributes, resource?: Attributes }>): boolean {
  for (const s of spans) if (optedOut(s.attributes, s.resource)) return true
  return false
}

function present (v: unknown): boolean {
  return v !== undefined && v !== null && v !== ''
}

function isFalse (v: unknown): boolean {
  return v === false || (typeof v === 'string' && v.trim().toLowerCase() === 'false')
}
