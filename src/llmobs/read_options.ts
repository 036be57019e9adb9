import { describeError, describeValue, log } from '../diag/logger.js'
import { Span } from '../trace/span.js'
import type { Annotation } from './annotations.js'
import type { LlmobsTraceOptions } from './sdk.js'

/**
 * Reading what users hand the LLMObs API. Options and annotations are user data: getters and
 * Proxy traps may throw, or answer differently on each read. Each field is read once, guarded,
 * into a plain object; a field that cannot be read warns once and is left out, so the API goes
 * on tracing and runs the user's function exactly once.
 */

const TRACE_OPTION_KEYS = ['kind', 'name', 'modelName', 'modelProvider', 'sessionId', 'mlApp'] as const
const ANNOTATION_KEYS = ['inputData', 'outputData', 'metadata', 'metrics', 'tags', 'toolDefinitions'] as const

/** Reads `source[key]`; a throwing getter or Proxy trap warns once under `warnKey` and reads as undefined. */
function readField (source: object, key: string, warnKey: string, what: string): unknown {
  try {
    return (source as Record<string, unknown>)[key]
  } catch (err) {
    log.warnOnce(warnKey, () => `${what}: ${key} could not be read (${describeError(err)}); ignored`)
    return undefined
  }
}

/** A plain copy of the trace options, each field read once and guarded; values are checked by the caller. */
export function readTraceOptions (options: unknown, api: string): LlmobsTraceOptions {
  const out: Record<string, unknown> = {}
  if (options === null || (typeof options !== 'object' && typeof options !== 'function')) return out as unknown as LlmobsTraceOptions
  for (const key of TRACE_OPTION_KEYS) {
    const v = readField(options, key, `${api}.options`, `${api}() options`)
    if (v !== undefined) out[key] = v
  }
  return out as unknown as LlmobsTraceOptions
}

export function readAnnotation (a: object): Annotation {
  const out: Record<string, unknown> = {}
  for (const key of ANNOTATION_KEYS) {
    const v = readField(a, key, 'llmobs.annotate.unreadable', 'llmobs.annotate()')
    if (v !== undefined) out[key] = v
  }
  return out as Annotation
}

/** annotationContext's options as plain values: tags copied key by key, a non-string name dropped. */
export function readContextOptions (options: unknown): { tags?: Record<string, unknown>, name?: string } {
  const out: { tags?: Record<string, unknown>, name?: string } = {}
  if (options === null || options === undefined) return out
  if (typeof options !== 'object') {
    log.warnOnce('llmobs.annotationContext.options', 'llmobs.annotationContext(): options must be an object { tags, name }; ignored')
    return out
  }
  const what = 'llmobs.annotationContext()'
  const name = readField(options, 'name', 'llmobs.annotationContext.options', what)
  if (typeof name === 'string') out.name = name
  else if (name !== undefined && name !== null) log.warnOnce('llmobs.annotationContext.name', () => `${what}: name must be a string, got ${describeValue(name)}; ignored`)
  const tags = readField(options, 'tags', 'llmobs.annotationContext.options', what)
  if (tags === undefined || tags === null) return out
  if (typeof tags !== 'object' || Array.isArray(tags)) {
    log.warnOnce('llmobs.annotationContext.tags', () => `${what}: tags must be an object, got ${describeValue(tags)}; ignored`)
    return out
  }
  let keys: string[]
  try { keys = Object.keys(tags) } catch (err) {
    log.warnOnce('llmobs.annotationContext.options', () => `${what}: tags could not be read (${describeError(err)}); ignored`)
    return out
  }
  const entries: Array<[string, unknown]> = []
  for (const k of keys) {
    const v = readField(tags, k, 'llmobs.annotationContext.options', `${what} tags`)
    if (v !== undefined) entries.push([k, v])
  }
  // fromEntries, not assignment: a "__proto__" key must stay a tag, not become a prototype.
  out.tags = Object.fromEntries(entries)
  return out
}

export function isSpan (v: unknown): v is Span {
  try { return v instanceof Span } catch { return false }
}

export function nameOf (fn: unknown): string {
  try {
    const n = (fn as { name?: unknown }).name
    return typeof n === 'string' ? n : ''
  } catch {
    return ''
  }
}

export function isThenable (v: unknown): v is PromiseLike<unknown> {
  if (v === null || (typeof v !== 'object' && typeof v !== 'function')) return false
  try { return typeof (v as { then?: unknown }).then === 'function' } catch { return false }
}
