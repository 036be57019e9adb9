import { asString, isRecord, jsonText, parseJson, type Reader } from './attrs.js'
import { toolArguments, type Messages } from './messages_semconv.js'
import type { Document, Message, ToolCall, ToolDefinition, ToolResult } from './types.js'

/**
 * The Vercel AI SDK's telemetry attributes (checked against ai 6.0.x): `ai.prompt.messages` is the
 * standardised prompt as JSON (`[{role, content: string | Part[]}]`, parts `text`, `tool-call`,
 * `tool-result`, `file`, `reasoning`), the outer spans carry `ai.prompt` (`{system, prompt,
 * messages}`), answers are `ai.response.text` / `ai.response.toolCalls` / `ai.response.object`.
 * Placed after OpenInference in the input/output chain (Datadog does not read these keys).
 */
export function aiSdkMessages (r: Reader): Messages {
  const out: Messages = {}
  if (r.has('ai.prompt.messages')) {
    const list = parseJson(r.raw('ai.prompt.messages'), 'otel_warning_input_malformed', r)
    if (Array.isArray(list)) out.input = list.map(m => aiSdkMessage(m, r))
    else if (list !== undefined) r.warn('otel_warning_input_malformed')
  } else if (r.has('ai.prompt')) {
    const p = parseJson(r.raw('ai.prompt'), 'otel_warning_input_malformed', r)
    if (isRecord(p)) {
      const msgs: Message[] = []
      if (typeof p.system === 'string') msgs.push({ role: 'system', content: p.system })
      if (typeof p.prompt === 'string') msgs.push({ role: 'user', content: p.prompt })
      else if (Array.isArray(p.prompt)) msgs.push(...p.prompt.map(m => aiSdkMessage(m, r)))
      if (Array.isArray(p.messages)) msgs.push(...p.messages.map(m => aiSdkMessage(m, r)))
      out.input = msgs
    } else if (p !== undefined) r.warn('otel_warning_input_malformed')
  }
  const text = r.str('ai.response.text')
  const object = r.text('ai.response.object')
  const calls = r.has('ai.response.toolCalls') ? parseJson(r.raw('ai.response.toolCalls'), 'otel_warning_output_malformed', r) : undefined
  if (text !== undefined || object !== undefined || calls !== undefined) {
    const msg: Message = { role: 'assistant', content: text ?? object ?? '' }
    if (Array.isArray(calls)) msg.tool_calls = calls.filter(isRecord).map(c => toolCall(c, r))
    else if (calls !== undefined) r.warn('otel_warning_output_malformed')
    out.output = [msg]
  }
  return out
}

function aiSdkMessage (m: unknown, r: Reader): Message {
  if (!isRecord(m)) { r.warn('otel_warning_message_malformed'); return { role: '', content: '' } }
  const role = asString(m.role)
  if (role === undefined) r.warn('otel_warning_message_malformed')
  if (typeof m.content === 'string') return { role: role ?? '', content: m.content }
  if (!Array.isArray(m.content)) { r.warn('otel_warning_message_malformed'); return { role: role ?? '', content: '' } }
  const texts: string[] = []
  const calls: ToolCall[] = []
  const results: ToolResult[] = []
  for (const p of m.content) {
    if (!isRecord(p)) { r.warn('otel_warning_invalid_parts'); continue }
    switch (p.type) {
      case 'text': texts.push(asString(p.text) ?? ''); break
      case 'tool-call': calls.push(toolCall(p, r)); break
      case 'tool-result': {
        const res: ToolResult = { result: jsonText(toolOutput(p.output ?? p.result)), type: 'function' }
        const id = asString(p.toolCallId)
        if (id !== undefined) res.tool_id = id
        const name = asString(p.toolName)
        if (name !== undefined) res.name = name
        results.push(res)
        break
      }
      case 'file': case 'image': texts.push(`[${asString(p.mediaType) ?? asString(p.mimeType) ?? 'file'} file]`); break
      case 'reasoning': break
      default: r.warn('otel_warning_invalid_parts')
    }
  }
  const msg: Message = { role: role ?? '', content: texts.join('\n') }
  if (calls.length > 0) msg.tool_calls = calls
  if (results.length > 0) msg.tool_results = results
  return msg
}

/** AI SDK v5+ wraps tool output as `{type: 'text'|'json'|…, value}`; the value is the result. */
function toolOutput (o: unknown): unknown {
  if (isRecord(o) && typeof o.type === 'string' && 'value' in o) return o.value
  return o
}

function toolCall (c: Record<string, unknown>, r: Reader): ToolCall {
  const name = asString(c.toolName)
  if (name === undefined) r.warn('otel_warning_tool_call_name_missing')
  const call: ToolCall = { name: name ?? '', arguments: toolArguments(c.input ?? c.args), type: 'function' }
  const id = asString(c.toolCallId)
  if (id !== undefined) call.tool_id = id
  return call
}

/** `ai.prompt.tools`: an array attribute of JSON strings, one tool each (`{type, name, description, inputSchema}`). */
export function aiSdkToolDefinitions (r: Reader): ToolDefinition[] | undefined {
  if (!r.has('ai.prompt.tools')) return undefined
  const raw = r.raw('ai.prompt.tools')
  const list = Array.isArray(raw) ? raw : parseJson(raw, 'otel_warning_tool_definitions_malformed', r)
  if (!Array.isArray(list)) { r.warn('otel_warning_tool_definitions_malformed'); return undefined }
  const out: ToolDefinition[] = []
  for (const item of list) {
    const t = typeof item === 'string' ? parseJson(item, 'otel_warning_tool_definition_entry_malformed', r) : item
    if (!isRecord(t) || asString(t.name) === undefined) { r.warn('otel_warning_tool_definition_entry_malformed'); continue }
    const def: ToolDefinition = { name: asString(t.name) as string }
    const description = asString(t.description)
    if (description !== undefined) def.description = description
    const schema = t.inputSchema ?? t.parameters
    if (schema !== undefined) def.schema = schema
    out.push(def)
  }
  return out
}

/** Embedding input: `ai.values` (array attribute of JSON strings) or `ai.value` (one JSON string). */
export function aiSdkEmbeddingInput (r: Reader): Document[] | undefined {
  const values = r.raw('ai.values')
  const list = Array.isArray(values) ? values : (r.has('ai.value') ? [r.raw('ai.value')] : undefined)
  if (list === undefined) return undefined
  return list.map(v => {
    const parsed = typeof v === 'string' ? parseJson(v, 'otel_warning_embedding_input_malformed', r) : v
    return { text: typeof parsed === 'string' ? parsed : jsonText(parsed ?? v) }
  })
}

/** How many vectors came back: `ai.embeddings` (array attribute) or one `ai.embedding`. */
export function aiSdkEmbeddingCount (r: Reader): number | undefined {
  const many = r.raw('ai.embeddings')
  if (Array.isArray(many)) return many.length
  if (r.has('ai.embedding')) { r.raw('ai.embedding'); return 1 }
  return undefined
}
