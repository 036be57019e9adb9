import type { CallResult } from '../llm_call.js'
import type { StreamAccumulator } from '../provider_call.js'
import { rec, str } from '../shape.js'
import { contentMessages, modelIdOf, usageOf } from './convert.js'

/** Folds v3 stream parts into the content a `doGenerate` call would have returned. */
export class PartsStream implements StreamAccumulator {
  private modelId: string | undefined
  private readonly content: Array<Record<string, unknown>> = []
  private readonly byId = new Map<string, Record<string, unknown>>()
  private usage: unknown
  private finish: string | undefined
  private failed: { error: unknown } | undefined

  constructor (private readonly model: unknown) {}

  add (chunk: unknown): boolean {
    const p = rec(chunk)
    const type = str(p?.type)
    if (p === undefined || type === undefined) return false
    switch (type) {
      case 'response-metadata': this.modelId = str(p.modelId) ?? this.modelId; return false
      case 'text-delta':
      case 'reasoning-delta': {
        const kind = type === 'text-delta' ? 'text' : 'reasoning'
        const key = `${kind}:${str(p.id) ?? ''}`
        let part = this.byId.get(key)
        if (part === undefined) { part = { type: kind, text: '' }; this.byId.set(key, part); this.content.push(part) }
        const delta = str(p.delta) ?? ''
        part.text = (part.text as string) + delta
        return delta !== ''
      }
      case 'tool-call': this.content.push(p); return true
      case 'tool-input-delta': return true
      case 'finish': {
        this.usage = p.usage
        this.finish = str(rec(p.finishReason)?.unified) ?? str(p.finishReason)
        return false
      }
      case 'error': this.failed = { error: p.error }; return false
      default: return false
    }
  }

  result (): CallResult {
    return {
      model: this.modelId ?? modelIdOf(this.model),
      output: contentMessages(this.content),
      usage: usageOf(this.usage),
      metadata: this.finish === undefined ? undefined : { finish_reason: this.finish },
    }
  }

  failure (): unknown { return this.failed?.error }

  get hasFailure (): boolean { return this.failed !== undefined }
}
