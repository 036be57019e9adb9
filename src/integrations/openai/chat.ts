import type { ApmTags, CallResult, CallStart } from '../llm_call.js'
import type { StreamAccumulator } from '../provider_call.js'
import { contentText, list, num, parseArgs, pickMetadata, rec, str, type Rec } from '../shape.js'
import type { TokenUsage } from '../usage.js'
import { toolDefinitions } from '../tool_definitions.js'

/** Chat Completions (`client.chat.completions.create`). */

interface Msg { role: string, content: string, toolCalls?: unknown[], toolResults?: unknown[] }

const NOT_METADATA = new Set(['messages', 'model', 'tools', 'functions'])

export function chatStart (body: Rec | undefined): CallStart {
  return {
    model: str(body?.model),
    input: list(body?.messages).map(inputMessage),
    metadata: pickMetadata(body, NOT_METADATA),
    toolDefinitions: toolDefinitions(body?.tools ?? body?.functions),
  }
}

function inputMessage (m: unknown): Msg {
  const r = rec(m) ?? {}
  const role = str(r.role) ?? ''
  if (role === 'tool' || role === 'function') {
    return { role, content: '', toolResults: [{ result: contentText(r.content), toolId: str(r.tool_call_id), name: str(r.name), type: 'function' }] }
  }
  const msg: Msg = { role, content: contentText(r.content) }
  const calls = toolCalls(r)
  if (calls.length > 0) msg.toolCalls = calls
  return msg
}

function toolCalls (r: Rec): unknown[] {
  const out: unknown[] = []
  for (const c of list(r.tool_calls)) {
    const tc = rec(c)
    if (tc === undefined) continue
    const fn = rec(tc.function) ?? rec(tc.custom)
    out.push({ name: str(fn?.name) ?? '', arguments: parseArgs(fn?.arguments ?? fn?.input), toolId: str(tc.id), type: str(tc.type) ?? 'function' })
  }
  const legacy = rec(r.function_call)
  if (legacy !== undefined) out.push({ name: str(legacy.name) ?? '', arguments: parseArgs(legacy.arguments), type: 'function' })
  return out
}

export function chatResult (data: unknown): CallResult {
  const r = rec(data)
  const output: Msg[] = []
  for (const ch of list(r?.choices)) {
    const m = rec(rec(ch)?.message)
    if (m === undefined) continue
    const msg: Msg = { role: str(m.role) ?? 'assistant', content: str(m.content) ?? str(m.refusal) ?? '' }
    const calls = toolCalls(m)
    if (calls.length > 0) msg.toolCalls = calls
    output.push(msg)
  }
  return { model: str(r?.model), output, usage: chatUsage(r?.usage), apmTags: responseTags(r) }
}

/** The APM span's response tags, as dd-trace reads them off the body (chat, completions, embeddings). */
export function responseTags (r: Rec | undefined): ApmTags {
  return { 'openai.response.model': str(r?.model), 'openai.response.id': str(r?.id), 'openai.response.created': num(r?.created) }
}

/** Chat and embeddings report prompt/completion tokens; the details carry cache and reasoning. */
export function chatUsage (u: unknown): TokenUsage | undefined {
  const r = rec(u)
  if (r === undefined) return undefined
  return {
    inputTokens: num(r.prompt_tokens),
    outputTokens: num(r.completion_tokens),
    totalTokens: num(r.total_tokens),
    cacheReadInputTokens: num(rec(r.prompt_tokens_details)?.cached_tokens),
    reasoningOutputTokens: num(rec(r.completion_tokens_details)?.reasoning_tokens),
  }
}

interface ChoiceAcc { role: string, content: string, calls: Array<{ id?: string, type: string, name: string, args: string }> }

/** Rebuilds the choices from deltas; usage arrives in a final chunk only with `stream_options.include_usage`. */
export class ChatStream implements StreamAccumulator {
  private model: string | undefined
  private first: Rec | undefined
  private usage: TokenUsage | undefined
  private readonly choices: ChoiceAcc[] = []

  add (chunk: unknown): boolean {
    const c = rec(chunk)
    if (c === undefined) return false
    this.first ??= c
    this.model ??= str(c.model)
    if (rec(c.usage) !== undefined) this.usage = chatUsage(c.usage)
    let token = false
    for (const raw of list(c.choices)) {
      const ch = rec(raw)
      const delta = rec(ch?.delta)
      if (ch === undefined || delta === undefined) continue
      const i = num(ch.index) ?? 0
      const acc = this.choices[i] ??= { role: 'assistant', content: '', calls: [] }
      const role = str(delta.role)
      if (role !== undefined) acc.role = role
      const text = str(delta.content) ?? str(delta.refusal)
      if (text !== undefined && text !== '') { acc.content += text; token = true }
      for (const rawCall of list(delta.tool_calls)) {
        const tc = rec(rawCall)
        if (tc === undefined) continue
        const j = num(tc.index) ?? acc.calls.length
        const call = acc.calls[j] ??= { type: 'function', name: '', args: '' }
        const fn = rec(tc.function)
        if (str(tc.id) !== undefined) call.id = str(tc.id)
        if (str(tc.type) !== undefined) call.type = str(tc.type) as string
        if (str(fn?.name) !== undefined) call.name += str(fn?.name)
        if (str(fn?.arguments) !== undefined) call.args += str(fn?.arguments)
        token = true
      }
    }
    return token
  }

  result (): CallResult {
    const output: Msg[] = []
    for (const acc of this.choices) {
      if (acc === undefined) continue
      const msg: Msg = { role: acc.role, content: acc.content }
      const calls = acc.calls.filter((c) => c !== undefined).map((c) => ({ name: c.name, arguments: parseArgs(c.args), toolId: c.id, type: c.type }))
      if (calls.length > 0) msg.toolCalls = calls
      output.push(msg)
    }
    return { model: this.model, output, usage: this.usage, apmTags: responseTags(this.first) }
  }
}
