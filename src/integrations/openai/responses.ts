import type { CallResult, CallStart } from '../llm_call.js'
import type { StreamAccumulator } from '../provider_call.js'
import { contentText, list, num, parseArgs, pickMetadata, rec, str, type Rec } from '../shape.js'
import { toolDefinitions } from '../tool_definitions.js'
import type { TokenUsage } from '../usage.js'

/** The Responses API (`client.responses.create`). */

interface Msg { role: string, content: string, toolCalls?: unknown[], toolResults?: unknown[] }

const NOT_METADATA = new Set(['input', 'instructions', 'model', 'tools'])

export function responsesStart (body: Rec | undefined): CallStart {
  const input: Msg[] = []
  const instructions = str(body?.instructions)
  if (instructions !== undefined) input.push({ role: 'system', content: instructions })
  const raw = body?.input
  if (typeof raw === 'string') input.push({ role: 'user', content: raw })
  else for (const item of list(raw)) input.push(...itemMessages(rec(item) ?? {}, 'user'))
  return {
    model: str(body?.model),
    input,
    metadata: pickMetadata(body, NOT_METADATA),
    toolDefinitions: toolDefinitions(body?.tools),
  }
}

/** One input or output item as messages: text messages, tool calls, tool outputs, reasoning. */
function itemMessages (it: Rec, defaultRole: string): Msg[] {
  const type = str(it.type) ?? 'message'
  switch (type) {
    case 'message':
      return [{ role: str(it.role) ?? defaultRole, content: contentText(it.content) }]
    case 'function_call':
    case 'custom_tool_call':
      return [{ role: 'assistant', content: '', toolCalls: [{ name: str(it.name) ?? '', arguments: parseArgs(it.arguments ?? it.input), toolId: str(it.call_id), type }] }]
    case 'function_call_output':
    case 'custom_tool_call_output':
      return [{ role: 'tool', content: '', toolResults: [{ result: contentText(it.output), toolId: str(it.call_id), type }] }]
    case 'reasoning': {
      const text = list(it.summary).map((s) => str(rec(s)?.text) ?? '').filter((s) => s !== '').join('\n')
      return text === '' ? [] : [{ role: 'reasoning', content: text }]
    }
    default:
      // Built-in tools (web search, file search, ...) are calls the platform made.
      return [{ role: 'assistant', content: '', toolCalls: [{ name: type, arguments: rec(it.action) ?? {}, toolId: str(it.id), type }] }]
  }
}

export function responsesResult (data: unknown): CallResult {
  const r = rec(data)
  const output: Msg[] = []
  for (const item of list(r?.output)) output.push(...itemMessages(rec(item) ?? {}, 'assistant'))
  const apmTags = { 'openai.response.model': str(r?.model), 'openai.response.id': str(r?.id), 'openai.response.status': str(r?.status), 'openai.response.created_at': num(r?.created_at) }
  return { model: str(r?.model), output, usage: responsesUsage(r?.usage), apmTags }
}

export function responsesUsage (u: unknown): TokenUsage | undefined {
  const r = rec(u)
  if (r === undefined) return undefined
  return {
    inputTokens: num(r.input_tokens),
    outputTokens: num(r.output_tokens),
    totalTokens: num(r.total_tokens),
    cacheReadInputTokens: num(rec(r.input_tokens_details)?.cached_tokens),
    reasoningOutputTokens: num(rec(r.output_tokens_details)?.reasoning_tokens),
  }
}

/** A failed response as an error the span can record (the SDK yields it as an event, it does not throw). */
export class ResponseFailedError extends Error {
  constructor (message: string, readonly code: string | undefined) {
    super(message)
    this.name = 'ResponseFailedError'
  }
}

/**
 * The terminal event (`response.completed`, `.incomplete`, `.failed`) carries the whole
 * response with usage; text deltas are kept in case the stream stops before it.
 */
export class ResponsesStream implements StreamAccumulator {
  private final: Rec | undefined
  private model: string | undefined
  private text = ''
  private failed: ResponseFailedError | undefined

  add (chunk: unknown): boolean {
    const e = rec(chunk)
    const type = str(e?.type)
    if (e === undefined || type === undefined) return false
    const resp = rec(e.response)
    if (resp !== undefined) {
      this.model = str(resp.model) ?? this.model
      if (type === 'response.completed' || type === 'response.incomplete' || type === 'response.failed') this.final = resp
      if (type === 'response.failed') {
        const err = rec(resp.error)
        this.failed = new ResponseFailedError(str(err?.message) ?? 'response failed', str(err?.code))
      }
    }
    if (type === 'error') this.failed = new ResponseFailedError(str(e.message) ?? 'stream error', str(e.code))
    if (type === 'response.output_text.delta') this.text += str(e.delta) ?? ''
    return type.endsWith('.delta')
  }

  result (): CallResult {
    if (this.final !== undefined) return responsesResult(this.final)
    return { model: this.model, output: this.text === '' ? [] : [{ role: 'assistant', content: this.text }], usage: undefined }
  }

  failure (): unknown { return this.failed }
}
