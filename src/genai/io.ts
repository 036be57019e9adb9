import { asString, jsonText, type Reader } from './attrs.js'
import { aiSdkEmbeddingCount, aiSdkEmbeddingInput, aiSdkMessages } from './ai_sdk.js'
import { langfuseDocuments, langfuseSide, openInferenceEmbeddings, openInferenceMessages, openInferenceRetrieval, openLlmetryMessages } from './messages_indexed.js'
import { semconvMessages, type Messages } from './messages_semconv.js'
import type { Document, GenAiIO, GenAiKind, GenAiSpanEvent, Message } from './types.js'

type Side = 'input' | 'output'

/** One source's reading of both sides; each side is messages or a free value. */
interface Found { messages?: Message[], value?: string, documents?: Document[] }

/**
 * Input and output per OTEL-FACTS §2.6. Each side takes the first source that has it, in the
 * documented chain (semconv attributes, details event, OpenLLMetry, OpenInference, then ours: the AI
 * SDK, `input.value`/`output.value`, OpenLLMetry's `traceloop.entity.*`, Langfuse last), with the
 * tool-call keys ahead of all of them on tool spans. Then shaped by kind: llm → messages,
 * embedding → documents in and `[N embedding(s) returned]` out, retrieval → documents out,
 * everything else → values.
 */
export function mapIO (r: Reader, kind: GenAiKind, events: GenAiSpanEvent[] | undefined): { input: GenAiIO, output: GenAiIO } {
  const chain: Array<() => Messages> = [
    () => semconvMessages(r, events),
    () => openLlmetryMessages(r),
    () => openInferenceMessages(r),
    () => aiSdkMessages(r),
  ]
  const found: Record<Side, Found | undefined> = { input: undefined, output: undefined }
  if (kind === 'tool') {
    found.input = valueOf(r, ['gen_ai.tool.call.arguments', 'ai.toolCall.args'])
    found.output = valueOf(r, ['gen_ai.tool.call.result', 'ai.toolCall.result'])
  }
  for (const source of chain) {
    if (found.input !== undefined && found.output !== undefined) break
    const m = source()
    if (found.input === undefined && m.input !== undefined) found.input = { messages: m.input }
    if (found.output === undefined && m.output !== undefined) found.output = { messages: m.output }
  }
  found.input ??= valueOf(r, ['input.value', 'traceloop.entity.input'])
  found.output ??= valueOf(r, ['output.value', 'traceloop.entity.output'])
  found.input ??= langfuse(r, 'input', kind)
  found.output ??= langfuse(r, 'output', kind)
  const input = shapeInput(r, kind, found.input)
  return { input, output: shapeOutput(r, kind, found.output, input.documents?.length) }
}

function valueOf (r: Reader, keys: string[]): Found | undefined {
  for (const k of keys) {
    const v = r.text(k)
    if (v !== undefined) return { value: v }
  }
  return undefined
}

function langfuse (r: Reader, side: Side, kind: GenAiKind): Found | undefined {
  const key = `langfuse.observation.${side}`
  const got = langfuseSide(r, key, side === 'input' ? 'otel_warning_input_malformed' : 'otel_warning_output_malformed')
  if (got === undefined) return undefined
  if (got.messages !== undefined) return { messages: got.messages }
  if (kind === 'retrieval' && side === 'output') {
    const docs = langfuseDocuments(got.value)
    if (docs !== undefined) return { documents: docs }
  }
  return { value: jsonText(got.value) }
}

function shapeInput (r: Reader, kind: GenAiKind, f: Found | undefined): GenAiIO {
  if (kind === 'embedding') {
    const docs = embeddingDocuments(r, f)
    if (docs === undefined) { r.warn('otel_warning_embedding_input_missing'); return {} }
    return { documents: docs }
  }
  return shape(kind, f)
}

function shapeOutput (r: Reader, kind: GenAiKind, f: Found | undefined, inputCount: number | undefined): GenAiIO {
  if (kind === 'embedding') {
    // Without a count of vectors, one per input document (what every embeddings API returns).
    const n = embeddingCount(r) ?? inputCount
    return n === undefined ? {} : { value: `[${n} embedding(s) returned]` }
  }
  if (kind === 'retrieval') {
    const docs = openInferenceRetrieval(r) ?? f?.documents
    if (docs !== undefined) return { documents: docs }
  }
  return shape(kind, f)
}

function shape (kind: GenAiKind, f: Found | undefined): GenAiIO {
  if (f === undefined) return {}
  if (kind === 'llm') {
    if (f.messages !== undefined) return { messages: f.messages }
    if (f.value !== undefined) return { messages: [{ role: '', content: f.value }] }
    return {}
  }
  if (f.value !== undefined) return { value: f.value }
  if (f.messages !== undefined) return { value: messagesAsValue(f.messages) }
  if (f.documents !== undefined) return { value: jsonText(f.documents) }
  return {}
}

/** One plain message reads as its text; anything richer keeps its structure as JSON. */
function messagesAsValue (msgs: Message[]): string {
  if (msgs.length === 1 && msgs[0].tool_calls === undefined && msgs[0].tool_results === undefined) return msgs[0].content
  return jsonText(msgs)
}

/** Embedding input: OpenInference texts, the AI SDK's values, else the found messages' contents. */
function embeddingDocuments (r: Reader, f: Found | undefined): Document[] | undefined {
  const oi = openInferenceEmbeddings(r)
  if (oi !== undefined && oi.documents.length > 0) return oi.documents
  const ai = aiSdkEmbeddingInput(r)
  if (ai !== undefined) return ai
  if (f?.messages !== undefined) return f.messages.map(m => ({ text: m.content }))
  if (f?.value !== undefined) return embeddingValue(f.value, r)
  return undefined
}

/** `input.value` of an embedding span: a JSON list of strings, one string, or text. */
function embeddingValue (v: string, r: Reader): Document[] {
  let parsed: unknown
  try { parsed = JSON.parse(v) } catch { return [{ text: v }] }
  if (Array.isArray(parsed)) return parsed.map(x => ({ text: asString(x) ?? jsonText(x) }))
  if (typeof parsed === 'string') return [{ text: parsed }]
  r.warn('otel_warning_embedding_input_malformed')
  return [{ text: v }]
}

function embeddingCount (r: Reader): number | undefined {
  const oi = openInferenceEmbeddings(r)
  if (oi !== undefined && oi.count > 0) return oi.count
  const ai = aiSdkEmbeddingCount(r)
  if (ai !== undefined) return ai
  if (oi !== undefined && oi.documents.length > 0) return oi.documents.length
  return undefined
}
