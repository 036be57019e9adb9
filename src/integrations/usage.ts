/** Token counts as a provider reported them, in the names `llmobs.annotate()` takes. */
export interface TokenUsage {
  inputTokens?: number
  outputTokens?: number
  totalTokens?: number
  cacheReadInputTokens?: number
  cacheWriteInputTokens?: number
  reasoningOutputTokens?: number
  /** Anthropic's cache writes by time to live (part of cacheWriteInputTokens). */
  ephemeral5mInputTokens?: number
  ephemeral1hInputTokens?: number
}

/**
 * The metrics to record, or undefined when the provider reported no counts at all: the span
 * then says `usage_source: "missing"` instead of carrying invented zeros. A total is derived
 * only from two reported halves.
 */
export function usageMetrics (usage: TokenUsage | undefined): Record<string, number> | undefined {
  if (usage === undefined) return undefined
  const out: Record<string, number> = {}
  for (const k of Object.keys(usage) as Array<keyof TokenUsage>) {
    const v = usage[k]
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v
  }
  if (out.inputTokens === undefined && out.outputTokens === undefined && out.totalTokens === undefined) return undefined
  if (out.totalTokens === undefined && out.inputTokens !== undefined && out.outputTokens !== undefined) out.totalTokens = out.inputTokens + out.outputTokens
  return out
}
