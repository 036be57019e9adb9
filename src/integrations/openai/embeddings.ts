import type { CallResult, CallStart } from '../llm_call.js'
import { responseTags } from './chat.js'
import { list, num, pickMetadata, rec, str, type Rec } from '../shape.js'

/** Embeddings (`client.embeddings.create`): documents in, a summary of the vectors out. */

const NOT_METADATA = new Set(['input', 'model'])

export function embeddingsStart (body: Rec | undefined): CallStart {
  return { model: str(body?.model), input: embeddingDocuments(body?.input), metadata: pickMetadata(body, NOT_METADATA) }
}

/** Strings become documents; token-id arrays are summarised rather than dumped. */
export function embeddingDocuments (input: unknown): Array<{ text: string }> {
  if (typeof input === 'string') return [{ text: input }]
  const items = list(input)
  if (items.length > 0 && typeof items[0] === 'number') return [{ text: `[${items.length} tokens]` }]
  return items.map((i) => typeof i === 'string' ? { text: i } : { text: `[${list(i).length} tokens]` })
}

/** `[n embedding(s) returned with size d]`, as Datadog's integrations write it. */
export function embeddingSummary (count: number, size: number | undefined): string {
  return size === undefined ? `[${count} embedding(s) returned]` : `[${count} embedding(s) returned with size ${size}]`
}

export function embeddingsResult (data: unknown): CallResult {
  const r = rec(data)
  const items = list(r?.data)
  const first = rec(items[0])?.embedding
  // Decoded vectors are arrays; base64 strings (encoding_format: 'base64' by hand) have no size here.
  const size = Array.isArray(first) ? first.length : undefined
  const u = rec(r?.usage)
  const usage = u === undefined ? undefined : { inputTokens: num(u.prompt_tokens), totalTokens: num(u.total_tokens) }
  return { model: str(r?.model), output: embeddingSummary(items.length, size), usage, apmTags: responseTags(r) }
}
