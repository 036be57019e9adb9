import { asString, indexed, isRecord, jsonText, parseJson, subIndexed, type Reader } from './attrs.js'
import { toolArguments } from './messages_semconv.js'
import type { Document, Message, ToolCall } from './types.js'
import type { Messages } from './messages_semconv.js'

/** Priority 3 (OTEL-FACTS §2.6): OpenLLMetry `gen_ai.prompt.N.*` / `gen_ai.completion.N.*`. */
export function openLlmetryMessages (r: Reader): Messages {
  const out: Messages = {}
  const prompt = indexed(r, 'gen_ai.prompt')
  const completion = indexed(r, 'gen_ai.completion')
  if (prompt.length > 0) out.input = prompt.map(g => openLlmetryMessage(g, r))
  if (completion.length > 0) out.output = completion.map(g => openLlmetryMessage(g, r))
  return out
}

function openLlmetryMessage (g: Record<string, unknown>, r: Reader): Message {
  const role = asString(g.role)
  const content = g.content === undefined ? undefined : jsonText(g.content)
  if (role === undefined && content === undefined) r.warn('otel_warning_message_malformed')
  const toolCallId = asString(g.tool_call_id)
  if (role === 'tool' && toolCallId !== undefined) {
    return { role, content: '', tool_results: [{ result: content ?? '', tool_id: toolCallId, type: 'function' }] }
  }
  const msg: Message = { role: role ?? '', content: content ?? '' }
  const calls = subIndexed(g, 'tool_calls').map(c => toolCall(asString(c.name), asString(c.id), c.arguments, r))
  if (calls.length > 0) msg.tool_calls = calls
  return msg
}

/** Priority 4: OpenInference `llm.{input,output}_messages.N.message.*`. */
export function openInferenceMessages (r: Reader): Messages {
  const out: Messages = {}
  const input = indexed(r, 'llm.input_messages')
  const output = indexed(r, 'llm.output_messages')
  if (input.length > 0) out.input = input.map(g => openInferenceMessage(g, r))
  if (output.length > 0) out.output = output.map(g => openInferenceMessage(g, r))
  return out
}

function openInferenceMessage (flat: Record<string, unknown>, r: Reader): Message {
  const g = stripPrefix(flat, 'message.')
  const role = asString(g.role)
  let content = g.content === undefined ? undefined : jsonText(g.content)
  if (content === undefined) {
    const parts = subIndexed(g, 'contents').map(p => stripPrefix(p, 'message_content.'))
    const texts: string[] = []
    for (const p of parts) {
      const text = asString(p.text)
      const image = asString(p['image.image.url'])
      if (text !== undefined) texts.push(text)
      else if (image !== undefined) texts.push(`[image: ${image.startsWith('data:') ? 'data (inline)' : image}]`)
      else r.warn('otel_warning_invalid_parts')
    }
    if (parts.length > 0) content = texts.join('\n')
  }
  if (role === undefined && content === undefined) r.warn('otel_warning_message_malformed')
  const toolCallId = asString(g.tool_call_id)
  if (role === 'tool' && toolCallId !== undefined) {
    return { role, content: '', tool_results: [{ result: content ?? '', tool_id: toolCallId, type: 'function' }] }
  }
  const msg: Message = { role: role ?? '', content: content ?? '' }
  const calls = subIndexed(g, 'tool_calls').map(c => {
    const t = stripPrefix(c, 'tool_call.')
    return toolCall(asString(t['function.name']), asString(t.id), t['function.arguments'], r)
  })
  if (calls.length > 0) msg.tool_calls = calls
  return msg
}

function toolCall (name: string | undefined, id: string | undefined, args: unknown, r: Reader): ToolCall {
  if (name === undefined) r.warn('otel_warning_tool_call_name_missing')
  const call: ToolCall = { name: name ?? '', arguments: toolArguments(args), type: 'function' }
  if (id !== undefined) call.tool_id = id
  return call
}

/** OpenInference `embedding.embeddings.N.embedding.text` → input documents; N vectors counted. */
export function openInferenceEmbeddings (r: Reader): { documents: Document[], count: number } | undefined {
  const groups = indexed(r, 'embedding.embeddings')
  if (groups.length === 0) return undefined
  const documents: Document[] = []
  let count = 0
  for (const g of groups) {
    const text = asString(g['embedding.text'])
    if (text !== undefined) documents.push({ text })
    if (g['embedding.vector'] !== undefined) count++
  }
  return { documents, count }
}

/** OpenInference `retrieval.documents.N.document.{content,id,score,metadata}` → output documents. */
export function openInferenceRetrieval (r: Reader): Document[] | undefined {
  const groups = indexed(r, 'retrieval.documents')
  if (groups.length === 0) return undefined
  return groups.map(flat => {
    const g = stripPrefix(flat, 'document.')
    const doc: Document = { text: g.content === undefined ? '' : jsonText(g.content) }
    const id = asString(g.id)
    if (id !== undefined) doc.id = id
    if (g.score !== undefined) {
      const score = typeof g.score === 'number' ? g.score : Number(asString(g.score))
      if (Number.isFinite(score)) doc.score = score
      else r.warn('otel_warning_failed_to_parse_document_score')
    }
    if (g.metadata !== undefined) {
      // Our Document has no metadata field; a title or name in it names the document.
      const meta = parseJson(g.metadata, 'otel_warning_document_metadata_malformed', r)
      if (meta !== undefined && !isRecord(meta)) r.warn('otel_warning_document_metadata_malformed')
      else if (isRecord(meta)) {
        const name = asString(meta.name) ?? asString(meta.title)
        if (name !== undefined) doc.name = name
      }
    }
    return doc
  })
}

/**
 * Priority 6: Langfuse `langfuse.observation.input` / `output`. Message arrays (OpenAI style) become
 * messages; anything else stays a value.
 */
export function langfuseSide (r: Reader, key: string, warning: string): { messages?: Message[], value?: unknown } | undefined {
  if (!r.has(key)) return undefined
  const raw = r.raw(key)
  const parsed = typeof raw === 'string' ? tryJson(raw) : raw
  if (Array.isArray(parsed) && parsed.length > 0 && parsed.every(m => isRecord(m) && typeof m.role === 'string')) {
    return { messages: parsed.map(m => langfuseMessage(m as Record<string, unknown>, r)) }
  }
  // Plain text is a fine value; only a JSON-looking value that does not parse is malformed.
  if (parsed === undefined && typeof raw === 'string' && /^\s*[[{]/.test(raw)) r.warn(warning)
  return { value: parsed === undefined ? raw : parsed }
}

function langfuseMessage (m: Record<string, unknown>, r: Reader): Message {
  const role = m.role as string
  let content = ''
  if (typeof m.content === 'string') content = m.content
  else if (Array.isArray(m.content)) {
    content = m.content.map(p => {
      if (!isRecord(p)) return ''
      if (typeof p.text === 'string') return p.text
      const url = isRecord(p.image_url) ? asString(p.image_url.url) : asString(p.image_url)
      return url === undefined ? '' : `[image: ${url.startsWith('data:') ? 'data (inline)' : url}]`
    }).filter(t => t !== '').join('\n')
  } else if (m.content !== undefined && m.content !== null) content = jsonText(m.content)
  const toolCallId = asString(m.tool_call_id)
  if (role === 'tool' && toolCallId !== undefined) return { role, content: '', tool_results: [{ result: content, tool_id: toolCallId, type: 'function' }] }
  const msg: Message = { role, content }
  if (Array.isArray(m.tool_calls)) {
    msg.tool_calls = m.tool_calls.filter(isRecord).map(c => {
      const fn = isRecord(c.function) ? c.function : c
      return toolCall(asString(fn.name), asString(c.id), fn.arguments, r)
    })
  }
  return msg
}

/** Langfuse retrieval output: documents with text from `text`, `content` or `page_content`. */
export function langfuseDocuments (v: unknown): Document[] | undefined {
  const list = Array.isArray(v) ? v : (isRecord(v) && Array.isArray(v.documents) ? v.documents : undefined)
  if (list === undefined) return undefined
  return list.map(d => {
    if (!isRecord(d)) return { text: jsonText(d) }
    const doc: Document = { text: asString(d.text) ?? asString(d.content) ?? asString(d.page_content) ?? '' }
    const id = asString(d.id)
    if (id !== undefined) doc.id = id
    if (typeof d.score === 'number' && Number.isFinite(d.score)) doc.score = d.score
    return doc
  })
}

function tryJson (s: string): unknown {
  try { return JSON.parse(s) } catch { return undefined }
}

function stripPrefix (rec: Record<string, unknown>, prefix: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(rec)) out[k.startsWith(prefix) ? k.slice(prefix.length) : k] = v
  return out
}
