import type { PriceTable } from './prices.js'

/** Columns the store derives from a span event, so the query API filters and sorts on indexes. */
export interface Derived {
  startInt: bigint
  sessionId: string | null
  modelName: string | null
  modelProvider: string | null
  inputTokens: number
  outputTokens: number
  /** The event's total, else input + output. */
  totalTokens: number
  /** null for spans that are not model calls; else `metadata.usage_source` or provider/missing. */
  usageSource: string | null
  /** null when the span is no model call or has no price; see `priced`. */
  costUsd: number | null
  /** 1 priced, 0 a model call without a price, null not a model call. */
  priced: number | null
  errorMessage: string | null
  errorType: string | null
  /** Text for the full-text index. */
  text: string
}

/** Model calls: the spans whose tokens and cost count (a workflow may repeat its children's). */
export const MODEL_KINDS = new Set(['llm', 'embedding'])

/** Full-text body cap per span: enough for any realistic message, bounded for giant documents. */
const MAX_TEXT = 64 * 1024

/** `event`: the event's JSON text, or the object it parses to (NewSpan.doc). */
export function deriveColumns (event: unknown, kind: string | null, startNs: string, prices: PriceTable): Derived {
  let ev: Record<string, unknown>
  try {
    const parsed = typeof event === 'string' ? JSON.parse(event) as unknown : event
    ev = isObj(parsed) ? parsed : {}
  } catch {
    ev = {}
  }
  const meta = isObj(ev.meta) ? ev.meta : {}
  const metrics = isObj(ev.metrics) ? ev.metrics : {}
  const tags = Array.isArray(ev.tags) ? ev.tags.filter((t): t is string => typeof t === 'string') : []
  const model = kind !== null && MODEL_KINDS.has(kind)
  const input = num(metrics.input_tokens)
  const output = num(metrics.output_tokens)
  const total = num(metrics.total_tokens)
  const modelName = str(meta.model_name)
  const metadata = isObj(meta.metadata) ? meta.metadata : {}
  let usageSource: string | null = null
  if (model) {
    const declared = str(metadata.usage_source)
    usageSource = declared ?? (input !== undefined || output !== undefined || total !== undefined ? 'provider' : 'missing')
  }
  const inputTokens = input ?? 0
  const outputTokens = output ?? 0
  const usage = { input: inputTokens, output: outputTokens, cacheRead: num(metrics.cache_read_input_tokens) ?? 0, reasoning: num(metrics.reasoning_output_tokens) ?? 0 }
  const costUsd = model ? prices.cost(modelName, usage) : null
  const error = isObj(meta.error) ? meta.error : {}
  const errorMessage = str(error.message)
  return {
    // start_ns is a uint64; past int64 (year 2262) it is clamped, still ordered last.
    startInt: clampInt64(BigInt(startNs)),
    sessionId: str(ev.session_id) ?? tagValue(tags, 'session_id'),
    modelName,
    modelProvider: str(meta.model_provider),
    inputTokens,
    outputTokens,
    totalTokens: total ?? inputTokens + outputTokens,
    usageSource,
    costUsd,
    priced: model ? (costUsd === null ? 0 : 1) : null,
    errorMessage,
    errorType: str(error.type),
    text: searchText(ev, meta, tags, errorMessage),
  }
}

function searchText (ev: Record<string, unknown>, meta: Record<string, unknown>, tags: string[], errorMessage: string | null): string {
  const parts: string[] = []
  let size = 0
  const add = (s: string): void => {
    if (size >= MAX_TEXT || s === '') return
    parts.push(s)
    size += s.length
  }
  if (typeof ev.name === 'string') add(ev.name)
  for (const side of ['input', 'output'] as const) {
    const io = isObj(meta[side]) ? meta[side] : {}
    if (typeof io.value === 'string') add(io.value)
    else if (io.value !== undefined) addValues(io.value, add, 0)
    for (const list of ['messages', 'documents'] as const) {
      const items = io[list]
      if (!Array.isArray(items)) continue
      for (const item of items) {
        if (!isObj(item)) continue
        if (typeof item.content === 'string') add(item.content)
        if (typeof item.text === 'string') add(item.text)
        if (typeof item.name === 'string') add(item.name)
      }
    }
  }
  if (isObj(meta.metadata)) addValues(meta.metadata, add, 0, true)
  for (const t of tags) add(t)
  if (errorMessage !== null) add(errorMessage)
  // \x01 and \x02 are the snippet markers: text that carries them must not forge a highlight.
  return parts.join('\n').slice(0, MAX_TEXT).replaceAll('\x01', ' ').replaceAll('\x02', ' ')
}

/** Keys and scalar values of a JSON value, depth-bounded. */
function addValues (v: unknown, add: (s: string) => void, depth: number, withKeys = false): void {
  if (depth > 8) return
  if (typeof v === 'string') add(v)
  else if (typeof v === 'number' || typeof v === 'boolean') add(String(v))
  else if (Array.isArray(v)) for (const x of v) addValues(x, add, depth + 1, withKeys)
  else if (isObj(v)) {
    for (const [k, x] of Object.entries(v)) {
      if (withKeys) add(k)
      addValues(x, add, depth + 1, withKeys)
    }
  }
}

const INT64_MAX = (1n << 63n) - 1n

function clampInt64 (v: bigint): bigint {
  return v > INT64_MAX ? INT64_MAX : v
}

function tagValue (tags: string[], key: string): string | null {
  const prefix = key + ':'
  for (const t of tags) if (t.startsWith(prefix) && t.length > prefix.length) return t.slice(prefix.length)
  return null
}

function isObj (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

function str (v: unknown): string | null {
  return typeof v === 'string' && v !== '' ? v : null
}

/** `+ 0`: -0 as 0, as it is after a JSON round trip (a parsed `-0` is -0, its text "0"). */
function num (v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v + 0 : undefined
}
