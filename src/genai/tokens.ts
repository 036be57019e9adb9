import { isRecord, parseJson, type Reader } from './attrs.js'

/**
 * Token metrics, first source present wins (OTEL-FACTS §2.7). Decided where the facts are silent
 * or odd: the metric names are the event's (DESIGN §3.5), so `prompt_tokens` / `completion_tokens`
 * (semconv-old and OpenInference) land in input/output_tokens rather than in metrics of their own
 * names; the semconv cache/reasoning keys (unverified in the facts) and dd-trace's underscore
 * spellings map to the cache/reasoning metrics; the AI SDK's `ai.usage.*` come last.
 */
const SOURCES: Record<string, readonly string[]> = {
  input_tokens: ['gen_ai.usage.input_tokens', 'gen_ai.usage.prompt_tokens', 'llm.token_count.prompt', 'ai.usage.inputTokens', 'ai.usage.promptTokens'],
  output_tokens: ['gen_ai.usage.output_tokens', 'gen_ai.usage.completion_tokens', 'llm.token_count.completion', 'ai.usage.outputTokens', 'ai.usage.completionTokens'],
  total_tokens: ['gen_ai.usage.total_tokens', 'llm.usage.total_tokens', 'llm.token_count.total', 'ai.usage.totalTokens', 'ai.usage.tokens'],
  cache_read_input_tokens: ['gen_ai.usage.cache_read.input_tokens', 'gen_ai.usage.cache_read_input_tokens', 'llm.token_count.prompt_details.cache_read', 'ai.usage.inputTokenDetails.cacheReadTokens', 'ai.usage.cachedInputTokens'],
  cache_write_input_tokens: ['gen_ai.usage.cache_write.input_tokens', 'gen_ai.usage.cache_creation.input_tokens', 'gen_ai.usage.cache_write_input_tokens', 'llm.token_count.prompt_details.cache_write', 'ai.usage.inputTokenDetails.cacheWriteTokens'],
  reasoning_output_tokens: ['gen_ai.usage.reasoning.output_tokens', 'gen_ai.usage.reasoning_output_tokens', 'llm.token_count.completion_details.reasoning', 'ai.usage.outputTokenDetails.reasoningTokens', 'ai.usage.reasoningTokens'],
}

/** Langfuse `usage_details` JSON keys per metric. */
const LANGFUSE_USAGE: Record<string, readonly string[]> = {
  input_tokens: ['input', 'input_tokens', 'prompt_tokens'],
  output_tokens: ['output', 'output_tokens', 'completion_tokens'],
  total_tokens: ['total', 'total_tokens'],
  cache_read_input_tokens: ['cache_read_input_tokens', 'cached_tokens'],
  cache_write_input_tokens: ['cache_creation_input_tokens'],
  reasoning_output_tokens: ['reasoning_tokens'],
}

export const TOKEN_KEYS: readonly string[] = [...Object.values(SOURCES).flat(), 'langfuse.observation.usage_details', 'gen_ai.cost.estimated_total']

/**
 * `modelKind`: an llm or embedding span. The AI SDK writes `ai.usage.*` on its outer
 * generateText/streamText spans too, as the sum of their model calls; read there they would count
 * every token twice, so they are read on model kinds only (and marked consumed everywhere).
 */
export function mapTokens (r: Reader, modelKind: boolean): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [metric, keys] of Object.entries(SOURCES)) {
    for (const k of keys) {
      if (!r.has(k)) continue
      if (!modelKind && k.startsWith('ai.usage.')) { r.used.add(k); continue }
      const n = tokenCount(r.raw(k), r)
      if (n !== undefined) { out[metric] = n; break }
    }
  }
  if (r.has('langfuse.observation.usage_details')) {
    const usage = parseJson(r.raw('langfuse.observation.usage_details'), 'otel_warning_token_usage_unparseable', r)
    if (isRecord(usage)) {
      for (const [metric, keys] of Object.entries(LANGFUSE_USAGE)) {
        if (out[metric] !== undefined) continue
        for (const k of keys) {
          if (usage[k] === undefined) continue
          const n = tokenCount(usage[k], r)
          if (n !== undefined) { out[metric] = n; break }
        }
      }
    } else if (usage !== undefined) r.warn('otel_warning_token_usage_unparseable')
  }
  // Our events always carry a total when both halves are known (as the SDK's own integrations do).
  if (out.total_tokens === undefined && out.input_tokens !== undefined && out.output_tokens !== undefined) {
    out.total_tokens = out.input_tokens + out.output_tokens
  }
  if (r.has('gen_ai.cost.estimated_total')) {
    const v = r.raw('gen_ai.cost.estimated_total')
    const n = typeof v === 'number' ? v : (typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN)
    if (!Number.isFinite(n)) r.warn('otel_warning_cost_metrics_unparseable')
    else if (n < 0) r.warn('otel_warning_cost_metrics_invalid')
    // The unit is not documented; carried as sent under the event's cost metric name.
    else out.estimated_total_cost = n
  }
  return out
}

/** A non-negative integer from a number, bigint or decimal text; otherwise a warning and nothing. */
function tokenCount (v: unknown, r: Reader): number | undefined {
  let n: number
  if (typeof v === 'number') n = v
  else if (typeof v === 'bigint') n = Number(v)
  else if (typeof v === 'string' && /^\s*-?\d+(\.0+)?\s*$/.test(v)) n = Number(v)
  else { r.warn('otel_warning_token_usage_unparseable'); return undefined }
  if (!Number.isInteger(n)) { r.warn('otel_warning_token_usage_unparseable'); return undefined }
  if (n < 0) { r.warn('otel_warning_token_usage_invalid'); return undefined }
  return n
}
