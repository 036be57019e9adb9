import { asString, isRecord, jsonText, parseJson, type Reader } from './attrs.js'
import type { Attributes, GenAiSpanEvent, Message, ToolCall, ToolResult } from './types.js'

/** The span event the latest semconv may put the messages in instead of attributes. */
export const DETAILS_EVENT = 'gen_ai.client.inference.operation.details'

export interface Messages { input?: Message[], output?: Message[] }

/**
 * Priority 1 and 2 of OTEL-FACTS §2.6: `gen_ai.input.messages` / `gen_ai.output.messages` /
 * `gen_ai.system_instructions` as attributes, else inside the details event. A side missing from
 * the attributes is taken from the event (each side on its own).
 */
export function semconvMessages (r: Reader, events: GenAiSpanEvent[] | undefined): Messages {
  const out: Messages = {}
  const details = detailsEvent(r, events)
  const from = (key: string): unknown => {
    if (r.has(key)) return r.raw(key)
    return details?.[key] ?? undefined
  }
  const sys = from('gen_ai.system_instructions')
  const input = from('gen_ai.input.messages')
  const output = from('gen_ai.output.messages')
  if (input !== undefined || sys !== undefined) {
    const msgs: Message[] = []
    if (sys !== undefined) {
      const parts = parseJson(sys, 'otel_warning_input_malformed', r)
      // The schema is a bare array of parts; a plain string is accepted as one text part.
      if (typeof parts === 'string') msgs.push({ role: 'system', content: parts })
      else if (Array.isArray(parts)) msgs.push(flattenParts('system', parts, r))
      else if (parts !== undefined) r.warn('otel_warning_input_malformed')
    }
    let parsed = false
    if (input !== undefined) {
      const list = messageList(input, 'otel_warning_input_malformed', r)
      if (list !== undefined) { msgs.push(...list); parsed = true }
    }
    // A malformed side is left to the next source in the chain, not filled with a guess.
    if (msgs.length > 0 || parsed) out.input = msgs
  }
  if (output !== undefined) {
    const list = messageList(output, 'otel_warning_output_malformed', r)
    if (list !== undefined) out.output = list
  }
  return out
}

function detailsEvent (r: Reader, events: GenAiSpanEvent[] | undefined): Attributes | undefined {
  if (events === undefined) return undefined
  if (!Array.isArray(events)) { r.warn('otel_warning_failed_to_parse_span_events'); return undefined }
  for (const e of events) {
    if (!isRecord(e)) { r.warn('otel_warning_failed_to_parse_span_events'); continue }
    if (e.name !== DETAILS_EVENT) continue
    if (!isRecord(e.attributes)) { r.warn('otel_warning_failed_to_parse_span_events'); return undefined }
    return e.attributes
  }
  return undefined
}

function messageList (v: unknown, warning: string, r: Reader): Message[] | undefined {
  const parsed = parseJson(v, warning, r)
  if (parsed === undefined) return undefined
  if (!Array.isArray(parsed)) { r.warn(warning); return undefined }
  const out: Message[] = []
  for (const m of parsed) {
    if (!isRecord(m)) { r.warn('otel_warning_message_malformed'); continue }
    const role = asString(m.role)
    if (role === undefined) r.warn('otel_warning_message_malformed')
    if (Array.isArray(m.parts)) { out.push(flattenParts(role ?? '', m.parts, r)); continue }
    // Not the schema, but seen in the wild: OpenAI-style {role, content}.
    if (typeof m.content === 'string') { out.push({ role: role ?? '', content: m.content }); continue }
    r.warn('otel_warning_message_malformed')
    out.push({ role: role ?? '', content: '' })
  }
  return out
}

/**
 * Parts into one LLMObs message (the docs leave this open, OTEL-FACTS §2.10): text and reasoning-free
 * content joined by newlines; `tool_call` → tool_calls, `tool_call_response` → tool_results; media
 * become a text marker (`[image: <uri>]`, `[image file: <id>]`, `[image blob: <mime>]`), never the bytes.
 * Reasoning parts are left out of `content` (they are not what the model answered).
 */
export function flattenParts (role: string, parts: unknown[], r: Reader): Message {
  const texts: string[] = []
  const calls: ToolCall[] = []
  const results: ToolResult[] = []
  if (parts.length === 0) r.warn('otel_warning_invalid_parts')
  for (const p of parts) {
    if (!isRecord(p)) { r.warn('otel_warning_invalid_parts'); continue }
    const type = asString(p.type)
    const modality = asString(p.modality) ?? 'file'
    switch (type) {
      case 'text': {
        const t = asString(p.content)
        if (t === undefined) r.warn('otel_warning_invalid_parts')
        else texts.push(t)
        break
      }
      case 'tool_call': {
        const name = asString(p.name)
        if (name === undefined) r.warn('otel_warning_tool_call_name_missing')
        const call: ToolCall = { name: name ?? '', arguments: toolArguments(p.arguments), type: 'function' }
        const id = asString(p.id)
        if (id !== undefined) call.tool_id = id
        calls.push(call)
        break
      }
      case 'tool_call_response': {
        // The schema names it `response`; semconv's own example (and some writers) say `result`.
        const res: ToolResult = { result: jsonText(p.response ?? p.result ?? ''), type: 'function' }
        const id = asString(p.id)
        if (id !== undefined) res.tool_id = id
        results.push(res)
        break
      }
      case 'server_tool_call': {
        const st = isRecord(p.server_tool_call) ? p.server_tool_call : {}
        const call: ToolCall = { name: asString(p.name) ?? '', arguments: st, type: asString(st.type) ?? 'server_tool_call' }
        const id = asString(p.id)
        if (id !== undefined) call.tool_id = id
        calls.push(call)
        break
      }
      case 'server_tool_call_response': {
        const st = isRecord(p.server_tool_call_response) ? p.server_tool_call_response : {}
        const res: ToolResult = { result: jsonText(st), type: asString(st.type) ?? 'server_tool_call_response' }
        const id = asString(p.id)
        if (id !== undefined) res.tool_id = id
        results.push(res)
        break
      }
      case 'uri': texts.push(`[${modality}: ${markerUri(asString(p.uri) ?? '')}]`); break
      case 'file': texts.push(`[${modality} file: ${asString(p.file_id) ?? ''}]`); break
      case 'blob': texts.push(`[${modality} blob: ${asString(p.mime_type) ?? 'unknown'}]`); break
      case 'reasoning': break
      default: r.warn('otel_warning_invalid_parts')
    }
  }
  const msg: Message = { role, content: texts.join('\n') }
  if (calls.length > 0) msg.tool_calls = calls
  if (results.length > 0) msg.tool_results = results
  return msg
}

/** Arguments arrive as an object (schema) or as JSON text (what providers send); keep the object. */
export function toolArguments (v: unknown): unknown {
  if (typeof v === 'string') {
    try { return JSON.parse(v) } catch { return v }
  }
  return v ?? {}
}

/** A data: URI is inline bytes; only its media type goes in the marker. */
function markerUri (uri: string): string {
  if (!uri.startsWith('data:')) return uri
  const end = uri.search(/[;,]/)
  return `data:${end < 0 ? '' : uri.slice(5, end)} (inline)`
}
