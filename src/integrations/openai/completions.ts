import type { CallResult, CallStart } from '../llm_call.js'
import type { StreamAccumulator } from '../provider_call.js'
import { list, num, pickMetadata, rec, str, type Rec } from '../shape.js'
import type { TokenUsage } from '../usage.js'
import { chatUsage, responseTags } from './chat.js'

/** The legacy Completions API (`client.completions.create`): prompts in, text choices out, as role-less messages (as dd-trace records them). */

interface Msg { role: string, content: string }

const NOT_METADATA = new Set(['prompt', 'model'])

export function completionsStart (body: Rec | undefined): CallStart {
  const prompt = body?.prompt
  const prompts = typeof prompt === 'string' ? [prompt] : list(prompt)
  // A list of numbers is one tokenised prompt; a list of lists, several.
  const input: Msg[] = prompts.length > 0 && typeof prompts[0] === 'number'
    ? [{ role: '', content: `[${prompts.length} tokens]` }]
    : prompts.map((p) => ({ role: '', content: typeof p === 'string' ? p : `[${list(p).length} tokens]` }))
  return { model: str(body?.model), input, metadata: pickMetadata(body, NOT_METADATA) }
}

export function completionsResult (data: unknown): CallResult {
  const r = rec(data)
  const output: Msg[] = list(r?.choices).map((c) => ({ role: '', content: str(rec(c)?.text) ?? '' }))
  return { model: str(r?.model), output, usage: chatUsage(r?.usage), apmTags: responseTags(r) }
}

export class CompletionsStream implements StreamAccumulator {
  private first: Rec | undefined
  private usage: TokenUsage | undefined
  private readonly texts: string[] = []

  add (chunk: unknown): boolean {
    const c = rec(chunk)
    if (c === undefined) return false
    this.first ??= c
    if (rec(c.usage) !== undefined) this.usage = chatUsage(c.usage)
    let token = false
    for (const raw of list(c.choices)) {
      const ch = rec(raw)
      const text = str(ch?.text)
      if (text === undefined || text === '') continue
      const i = num(ch?.index) ?? 0
      this.texts[i] = (this.texts[i] ?? '') + text
      token = true
    }
    return token
  }

  result (): CallResult {
    const output = [...this.texts].map((t) => ({ role: '', content: t ?? '' }))
    return { model: str(this.first?.model), output, usage: this.usage, apmTags: responseTags(this.first) }
  }
}
