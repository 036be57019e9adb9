import { describeValue, log } from '../diag/logger.js'
import { toJsonValue, type SanitizeStats } from './safe_json.js'
import type { SpanKind } from './span_kinds.js'

/** A span's input or output as the event carries it: exactly one of the three. */
export type IOValue =
  | { messages: Message[] }
  | { documents: Document[] }
  | { value: string }

export interface ToolCall { name: string, arguments: unknown, tool_id?: string, type?: string }
export interface ToolResult { result: string, tool_id?: string, name?: string, type?: string }
export interface Message { role: string, content: string, tool_id?: string, tool_calls?: ToolCall[], tool_results?: ToolResult[] }
export interface Document { text: string, name?: string, id?: string, score?: number }

// What `llmobs.annotate()` accepts, typed per kind.
export type { Annotation } from './annotation_types.js'

export interface AnnotationLimits { maxDepth: number }

/**
 * Per kind, DESIGN §3.5: llm spans take messages in and out; embedding spans take documents in
 * and a value out; retrieval spans a value in and documents out; every other kind values.
 */
export function normalizeIO (kind: SpanKind, side: 'input' | 'output', data: unknown, limits: AnnotationLimits, stats: SanitizeStats): IOValue | undefined {
  if (data === undefined) return undefined
  if (kind === 'llm') return { messages: toMessages(data, limits, stats) }
  if ((kind === 'embedding' && side === 'input') || (kind === 'retrieval' && side === 'output')) {
    return { documents: toDocuments(data, limits, stats) }
  }
  return { value: toValueString(data, limits, stats) }
}

function toMessages (data: unknown, limits: AnnotationLimits, stats: SanitizeStats): Message[] {
  const list = Array.isArray(data) ? data : [data]
  const out: Message[] = []
  for (const item of list) {
    if (typeof item === 'string') { out.push({ role: '', content: item }); continue }
    if (item === null || typeof item !== 'object') {
      warnShape('llm messages', 'a message must be a string or { role, content }')
      out.push({ role: '', content: toValueString(item, limits, stats) })
      continue
    }
    const m = item as Record<string, unknown>
    const msg: Message = {
      role: typeof m.role === 'string' ? m.role : '',
      content: m.content === undefined || m.content === null ? '' : toValueString(m.content, limits, stats),
    }
    // The answer a tool message gives is matched to its call by id (dd-trace keeps it on `tool` messages only).
    const toolId = m.toolId ?? m.tool_id
    if (typeof toolId === 'string' && toolId !== '') {
      if (msg.role === 'tool') msg.tool_id = toolId
      else warnShape('tool id', 'toolId belongs on a message with role "tool"; dropped')
    }
    const calls = m.toolCalls ?? m.tool_calls
    if (calls !== undefined) msg.tool_calls = toToolCalls(calls, limits, stats)
    const results = m.toolResults ?? m.tool_results
    if (results !== undefined) msg.tool_results = toToolResults(results, limits, stats)
    out.push(msg)
  }
  return out
}

function toToolCalls (data: unknown, limits: AnnotationLimits, stats: SanitizeStats): ToolCall[] {
  const list = Array.isArray(data) ? data : [data]
  const out: ToolCall[] = []
  for (const c of list) {
    if (c === null || typeof c !== 'object') { warnShape('tool calls', 'a tool call must be an object { name, arguments, toolId, type }'); continue }
    const r = c as Record<string, unknown>
    const call: ToolCall = { name: typeof r.name === 'string' ? r.name : '', arguments: toJsonValue(r.arguments ?? {}, limits.maxDepth, stats) }
    const id = r.toolId ?? r.tool_id
    if (typeof id === 'string') call.tool_id = id
    if (typeof r.type === 'string') call.type = r.type
    out.push(call)
  }
  return out
}

function toToolResults (data: unknown, limits: AnnotationLimits, stats: SanitizeStats): ToolResult[] {
  const list = Array.isArray(data) ? data : [data]
  const out: ToolResult[] = []
  for (const c of list) {
    if (c === null || typeof c !== 'object') { warnShape('tool results', 'a tool result must be an object { result, toolId, name, type }'); continue }
    const r = c as Record<string, unknown>
    const res: ToolResult = { result: toValueString(r.result ?? '', limits, stats) }
    const id = r.toolId ?? r.tool_id
    if (typeof id === 'string') res.tool_id = id
    if (typeof r.name === 'string') res.name = r.name
    if (typeof r.type === 'string') res.type = r.type
    out.push(res)
  }
  return out
}

function toDocuments (data: unknown, limits: AnnotationLimits, stats: SanitizeStats): Document[] {
  const list = Array.isArray(data) ? data : [data]
  const out: Document[] = []
  for (const item of list) {
    if (typeof item === 'string') { out.push({ text: item }); continue }
    if (item === null || typeof item !== 'object') {
      warnShape('documents', 'a document must be a string or { text, name, id, score }')
      out.push({ text: toValueString(item, limits, stats) })
      continue
    }
    const d = item as Record<string, unknown>
    const doc: Document = { text: d.text === undefined || d.text === null ? '' : toValueString(d.text, limits, stats) }
    if (typeof d.name === 'string') doc.name = d.name
    if (typeof d.id === 'string' || typeof d.id === 'number') doc.id = String(d.id)
    if (typeof d.score === 'number' && Number.isFinite(d.score)) doc.score = d.score
    out.push(doc)
  }
  return out
}

/** Strings pass through; anything else becomes its (safe) JSON text. */
export function toValueString (data: unknown, limits: AnnotationLimits, stats: SanitizeStats): string {
  if (typeof data === 'string') return data
  const safe = toJsonValue(data, limits.maxDepth, stats)
  if (typeof safe === 'string') return safe
  try { return JSON.stringify(safe) ?? String(safe) } catch { return '[unserializable]' }
}

const METRIC_ALIASES: Record<string, string> = {
  inputTokens: 'input_tokens',
  outputTokens: 'output_tokens',
  totalTokens: 'total_tokens',
  cacheReadInputTokens: 'cache_read_input_tokens',
  cacheWriteInputTokens: 'cache_write_input_tokens',
  reasoningOutputTokens: 'reasoning_output_tokens',
  ephemeral5mInputTokens: 'ephemeral_5m_input_tokens',
  ephemeral1hInputTokens: 'ephemeral_1h_input_tokens',
  timeToFirstToken: 'time_to_first_token',
}

/** camelCase metric names become the event's snake_case; non-finite values are dropped. */
export function normalizeMetrics (metrics: unknown): Record<string, number> {
  const out: Record<string, number> = {}
  if (metrics === null || typeof metrics !== 'object') {
    if (metrics !== undefined) warnShape('metrics', 'metrics must be an object of numbers')
    return out
  }
  let bad: Array<[string, unknown]> | undefined
  for (const [k, v] of entriesOf(metrics, 'metrics')) {
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      (bad ??= []).push([k, v])
      continue
    }
    out[METRIC_ALIASES[k] ?? toSnake(k)] = v
  }
  if (bad !== undefined) {
    const offending = bad
    // Every offending key in the one warning (the user fixes them all at once), a bounded list.
    warnShape('metrics', () => `${offending.length === 1 ? 'metric' : 'metrics'} ${listBad(offending)} ${offending.length === 1 ? 'is' : 'are'} not a finite number; dropped`)
  }
  return out
}

/** At most this many offending entries are named in one warning. */
const BAD_SHOWN = 8

function listBad (bad: Array<[string, unknown]>): string {
  const shown = bad.slice(0, BAD_SHOWN).map(([k, v]) => `${describeValue(k, 40)} (${describeValue(v, 24)})`).join(', ')
  return bad.length > BAD_SHOWN ? `${shown} and ${bad.length - BAD_SHOWN} more` : shown
}

export function normalizeTags (tags: unknown): Record<string, string> {
  const out: Record<string, string> = {}
  if (tags === null || typeof tags !== 'object' || Array.isArray(tags)) {
    if (tags !== undefined) warnShape('tags', 'tags must be an object of key → value')
    return out
  }
  for (const [k, v] of entriesOf(tags, 'tags')) {
    if (v === undefined || v === null) continue
    out[k] = typeof v === 'string' ? v : (typeof v === 'object' ? safeString(v) : primitiveString(v))
  }
  return out
}

export function normalizeObject (data: unknown, what: string, limits: AnnotationLimits, stats: SanitizeStats): Record<string, unknown> | undefined {
  if (data === undefined) return undefined
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    warnShape(what, `${what} must be an object`)
    return undefined
  }
  return toJsonValue(data, limits.maxDepth, stats) as Record<string, unknown>
}

/** Object.entries, each value read guarded: a key whose getter (or Proxy trap) throws is left out. */
function entriesOf (obj: object, what: string): Array<[string, unknown]> {
  let keys: string[]
  try { keys = Object.keys(obj) } catch {
    warnShape(what, `${what} could not be read`)
    return []
  }
  const out: Array<[string, unknown]> = []
  for (const k of keys) {
    try { out.push([k, (obj as Record<string, unknown>)[k]]) } catch { warnShape(what, `${what} ${describeValue(k)} could not be read`) }
  }
  return out
}

function toSnake (k: string): string {
  return k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase()
}

/** String() of a non-object; a function Proxy's traps may throw in it. */
function primitiveString (v: unknown): string {
  try { return String(v) } catch { return '[unserializable]' }
}

function safeString (v: object): string {
  try { return JSON.stringify(toJsonValue(v, 4, { replaced: 0 })) } catch { return '[unserializable]' }
}

function warnShape (what: string, why: string | (() => string)): void {
  log.warnOnce(`llmobs.annotate.${what}`, () => `llmobs.annotate(): ${typeof why === 'string' ? why : why()}; sent as well as it could be`)
}
