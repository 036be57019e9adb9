import type { CallResult, CallStart } from '../llm_call.js'
import { contentText, list, num, parseArgs, pickMetadata, rec, str, type Rec } from '../shape.js'
import { toolDefinitions } from '../tool_definitions.js'
import type { TokenUsage } from '../usage.js'

/** Vercel AI SDK language model calls (specification v3), as the middleware sees them. */

interface Msg { role: string, content: string, toolCalls?: unknown[], toolResults?: unknown[] }

const NOT_METADATA = new Set(['prompt', 'tools', 'abortSignal', 'headers', 'providerOptions', 'includeRawChunks', 'responseFormat'])

/** `openai.chat` / `openai.responses` → `openai`. */
export function providerOf (model: unknown): string {
  const p = str(rec(model)?.provider) ?? ''
  const dot = p.indexOf('.')
  return dot > 0 ? p.slice(0, dot) : p
}

export function modelIdOf (model: unknown): string | undefined {
  return str(rec(model)?.modelId)
}

export function generateStart (params: unknown, model: unknown, stream: boolean): CallStart {
  const p = rec(params)
  const metadata: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(pickMetadata(p, NOT_METADATA))) metadata[snake(k)] = v
  const format = str(rec(p?.responseFormat)?.type)
  if (format !== undefined) metadata.response_format = format
  metadata.stream = stream
  return {
    model: modelIdOf(model),
    input: list(p?.prompt).map((m) => promptMessage(rec(m) ?? {})),
    metadata,
    toolDefinitions: toolDefinitions(p?.tools),
  }
}

function promptMessage (m: Rec): Msg {
  const role = str(m.role) ?? ''
  if (typeof m.content === 'string') return { role, content: m.content }
  const text: string[] = []
  const calls: unknown[] = []
  const results: unknown[] = []
  for (const part of list(m.content)) {
    const r = rec(part)
    const type = str(r?.type)
    if (r === undefined) continue
    if (type === 'tool-call') calls.push({ name: str(r.toolName) ?? '', arguments: parseArgs(r.input), toolId: str(r.toolCallId), type: 'function' })
    else if (type === 'tool-result') results.push({ result: toolOutput(r.output), toolId: str(r.toolCallId), name: str(r.toolName), type: 'function' })
    else if (type === 'file') text.push(`[file ${str(r.mediaType) ?? ''}]`.replace(' ]', ']'))
    else if (type === 'reasoning') continue
    else text.push(contentText([r]))
  }
  const msg: Msg = { role, content: text.join('\n') }
  if (calls.length > 0) msg.toolCalls = calls
  if (results.length > 0) msg.toolResults = results
  return msg
}

function toolOutput (output: unknown): string {
  const o = rec(output)
  if (o === undefined) return contentText(output)
  const v = o.value
  return typeof v === 'string' ? v : JSON.stringify(v ?? null)
}

export function generateResult (result: unknown, model: unknown): CallResult {
  const r = rec(result)
  const out = contentMessages(list(r?.content))
  const finish = str(rec(r?.finishReason)?.unified) ?? str(r?.finishReason)
  return {
    model: str(rec(r?.response)?.modelId) ?? modelIdOf(model),
    output: out,
    usage: usageOf(r?.usage),
    metadata: finish === undefined ? undefined : { finish_reason: finish },
  }
}

/** Generated content (text, reasoning, tool calls) as output messages. */
export function contentMessages (content: unknown[]): Msg[] {
  const out: Msg[] = []
  const text: string[] = []
  const calls: unknown[] = []
  for (const c of content) {
    const r = rec(c)
    const type = str(r?.type)
    if (r === undefined) continue
    if (type === 'text') text.push(str(r.text) ?? '')
    else if (type === 'reasoning') { const t = str(r.text); if (t !== undefined && t !== '') out.push({ role: 'reasoning', content: t }) }
    else if (type === 'tool-call') calls.push({ name: str(r.toolName) ?? '', arguments: parseArgs(r.input), toolId: str(r.toolCallId), type: 'function' })
  }
  const msg: Msg = { role: 'assistant', content: text.join('') }
  if (calls.length > 0) msg.toolCalls = calls
  out.push(msg)
  return out
}

/** v3 usage nests totals and breakdowns; v2 (flat numbers) is read too. */
export function usageOf (u: unknown): TokenUsage | undefined {
  const r = rec(u)
  if (r === undefined) return undefined
  const input = rec(r.inputTokens)
  const output = rec(r.outputTokens)
  return {
    inputTokens: input !== undefined ? num(input.total) : num(r.inputTokens),
    outputTokens: output !== undefined ? num(output.total) : num(r.outputTokens),
    totalTokens: num(r.totalTokens),
    cacheReadInputTokens: num(input?.cacheRead) ?? num(r.cachedInputTokens),
    cacheWriteInputTokens: num(input?.cacheWrite),
    reasoningOutputTokens: num(output?.reasoning) ?? num(r.reasoningTokens),
  }
}

function snake (k: string): string {
  return k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
}
