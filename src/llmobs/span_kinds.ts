/** The LLM Observability span kinds; each becomes an APM span of type `llm` whose resource is its name. */
export const SPAN_KINDS = ['llm', 'embedding', 'retrieval', 'tool', 'task', 'workflow', 'agent'] as const
export type SpanKind = typeof SPAN_KINDS[number]

export function isSpanKind (v: unknown): v is SpanKind {
  return typeof v === 'string' && (SPAN_KINDS as readonly string[]).includes(v)
}

/** Kinds whose inputs/outputs are model messages or documents rather than free values. */
export function isModelKind (kind: SpanKind): boolean {
  return kind === 'llm' || kind === 'embedding'
}
