import type { CallResult, CallStart } from '../llm_call.js'
import type { StreamAccumulator } from '../provider_call.js'
import { contentText, list, num, pickMetadata, rec, str, type Rec } from '../shape.js'
import { toolDefinitions } from '../tool_definitions.js'
import type { TokenUsage } from '../usage.js'

/** Anthropic Messages (`client.messages.create`, and `client.messages.stream()` through it). */

interface Msg { role: string, content: string, toolCalls?: unknown[], toolResults?: unknown[] }

const NOT_METADATA = new Set(['messages', 'system', 'model', 'tools'])

export function messagesStart (body: Rec | undefined): CallStart {
  const input: Msg[] = []
  if (body?.system !== undefined) input.push({ role: 'system', content: contentText(body.system) })
  for (const m of list(body?.messages)) {
    const r = rec(m) ?? {}
    input.push(...blocksToMessages(str(r.role) ?? '', r.content))
  }
  return { model: str(body?.model), input, metadata: pickMetadata(body, NOT_METADATA), toolDefinitions: toolDefinitions(body?.tools) }
}

/**
 * Content blocks as messages: text joined, `tool_use` as tool calls, `tool_result` as tool
 * results, thinking as a separate `reasoning` message ahead of the answer.
 */
function blocksToMessages (role: string, content: unknown): Msg[] {
  if (!Array.isArray(content)) return [{ role, content: contentText(content) }]
  const out: Msg[] = []
  const text: string[] = []
  const calls: unknown[] = []
  const results: unknown[] = []
  for (const b of content) {
    const r = rec(b)
    const type = str(r?.type)
    if (r === undefined) continue
    if (type === 'tool_use' || type === 'server_tool_use') calls.push({ name: str(r.name) ?? '', arguments: r.input ?? {}, toolId: str(r.id), type })
    else if (type === 'tool_result') results.push({ result: contentText(r.content), toolId: str(r.tool_use_id), type })
    else if (type === 'thinking' || type === 'redacted_thinking') {
      const t = str(r.thinking)
      if (t !== undefined && t !== '') out.push({ role: 'reasoning', content: t })
    } else text.push(contentText([r]))
  }
  const msg: Msg = { role, content: text.join('\n') }
  if (calls.length > 0) msg.toolCalls = calls
  if (results.length > 0) msg.toolResults = results
  out.push(msg)
  return out
}

export function messagesResult (data: unknown): CallResult {
  const r = rec(data)
  return { model: str(r?.model), output: blocksToMessages(str(r?.role) ?? 'assistant', r?.content), usage: messagesUsage(r?.usage) }
}

/**
 * Anthropic's `input_tokens` excludes cached prompt tokens; the event's input count includes
 * them (as OpenAI's does), with the cached share in the cache metrics.
 */
export function messagesUsage (u: unknown): TokenUsage | undefined {
  const r = rec(u)
  if (r === undefined) return undefined
  const uncached = num(r.input_tokens)
  const read = num(r.cache_read_input_tokens)
  const write = num(r.cache_creation_input_tokens)
  const input = uncached === undefined ? undefined : uncached + (read ?? 0) + (write ?? 0)
  const output = num(r.output_tokens)
  // As dd-trace: without the TTL breakdown, every cache write counts as a 5-minute one.
  const creation = rec(r.cache_creation)
  const ephemeral5m = creation !== undefined ? num(creation.ephemeral_5m_input_tokens) ?? 0 : write
  const ephemeral1h = creation !== undefined ? num(creation.ephemeral_1h_input_tokens) ?? 0 : (write !== undefined ? 0 : undefined)
  return { inputTokens: input, outputTokens: output, cacheReadInputTokens: read, cacheWriteInputTokens: write, ephemeral5mInputTokens: ephemeral5m, ephemeral1hInputTokens: ephemeral1h }
}

interface Block { type: string, text: string, json: string, name?: string, id?: string, input?: unknown }

/**
 * Rebuilds the message from events: `message_start` carries the model and input usage,
 * content blocks fill by index, `message_delta` carries the final output usage.
 */
export class MessagesStream implements StreamAccumulator {
  private model: string | undefined
  private role = 'assistant'
  private usage: Rec | undefined
  private readonly blocks: Block[] = []
  private failed: Error | undefined

  add (chunk: unknown): boolean {
    const e = rec(chunk)
    const type = str(e?.type)
    if (e === undefined || type === undefined) return false
    switch (type) {
      case 'message_start': {
        const m = rec(e.message)
        this.model = str(m?.model) ?? this.model
        this.role = str(m?.role) ?? this.role
        if (rec(m?.usage) !== undefined) this.usage = { ...rec(m?.usage) }
        return false
      }
      case 'content_block_start': {
        const b = rec(e.content_block)
        const i = num(e.index) ?? this.blocks.length
        this.blocks[i] = { type: str(b?.type) ?? 'text', text: str(b?.text) ?? str(b?.thinking) ?? '', json: '', name: str(b?.name), id: str(b?.id), input: b?.input }
        return false
      }
      case 'content_block_delta': {
        const d = rec(e.delta)
        const i = num(e.index) ?? this.blocks.length - 1
        const b = this.blocks[i] ??= { type: 'text', text: '', json: '' }
        const piece = str(d?.text) ?? str(d?.thinking)
        if (piece !== undefined) b.text += piece
        const json = str(d?.partial_json)
        if (json !== undefined) b.json += json
        return piece !== undefined || json !== undefined
      }
      case 'message_delta': {
        const u = rec(e.usage)
        // The final counts win; fields it omits keep message_start's.
        if (u !== undefined) this.usage = { ...this.usage, ...Object.fromEntries(Object.entries(u).filter(([, v]) => v !== null && v !== undefined)) }
        return false
      }
      case 'error': {
        const err = rec(e.error)
        this.failed = Object.assign(new Error(str(err?.message) ?? 'stream error'), { name: str(err?.type) ?? 'AnthropicStreamError' })
        return false
      }
      default:
        return false
    }
  }

  result (): CallResult {
    const content = this.blocks.filter((b) => b !== undefined).map((b) => {
      if (b.type === 'tool_use' || b.type === 'server_tool_use') {
        let input: unknown = b.input ?? {}
        if (b.json !== '') { try { input = JSON.parse(b.json) } catch { input = b.json } }
        return { type: b.type, id: b.id, name: b.name, input }
      }
      if (b.type === 'thinking') return { type: 'thinking', thinking: b.text }
      return { type: b.type, text: b.text }
    })
    return { model: this.model, output: blocksToMessages(this.role, content), usage: messagesUsage(this.usage) }
  }

  failure (): unknown { return this.failed }
}
