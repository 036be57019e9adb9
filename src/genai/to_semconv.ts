import type { Document, GenAiIO, Message } from './types.js'

/**
 * LLM Observability event → OTel GenAI semantic-convention attributes: the other direction of
 * mapGenAiSpan, for the OTLP export mode. Written so that mapGenAiSpan of the result gives the
 * event's fields back (kind, name, model, provider, messages, documents, values, tokens,
 * metadata, tool definitions, session); a test holds the two to that. Pure.
 *
 * Kinds: semconv names an operation for llm (`chat`), embedding (`embeddings`), tool
 * (`execute_tool`), agent (`invoke_agent`) and workflow (`invoke_workflow`). It has none for
 * task and retrieval, and Datadog's mapping reads any other operation name as workflow, so those
 * two go without `gen_ai.operation.name`: retrieval as OpenInference `RETRIEVER` (Datadog maps it
 * to retrieval), task as OpenLLMetry `traceloop.span.kind=task` (our intake maps it to task;
 * Datadog, which does not read that key, sees a workflow).
 */
export interface LlmobsEventView {
  kind: string
  name: string
  modelName?: string
  modelProvider?: string
  input?: GenAiIO
  output?: GenAiIO
  metadata?: Record<string, unknown>
  metrics?: Record<string, number>
  toolDefinitions?: unknown[]
  sessionId?: string
  error?: { message?: string, type?: string }
  /** The event's ml_app: semconv has no key for it, so it travels in OpenInference's `tag.tags`. */
  mlApp?: string
  /** The application's own tags (standard ones such as service or env excluded), `tag.tags` too. */
  tags?: Record<string, string>
}

export type SemconvValue = string | number | boolean | string[]

const OPERATION: Record<string, string> = {
  llm: 'chat', embedding: 'embeddings', tool: 'execute_tool', agent: 'invoke_agent', workflow: 'invoke_workflow',
}

/** Semconv types these request parameters as doubles; an integral value must not become an int. */
export const SEMCONV_DOUBLE_KEYS: ReadonlySet<string> = new Set([
  'gen_ai.request.temperature', 'gen_ai.request.top_p', 'gen_ai.request.frequency_penalty', 'gen_ai.request.presence_penalty',
])

/** Metadata keys that have a semconv `gen_ai.request.*` attribute of their own. */
const REQUEST_PARAMS = ['temperature', 'max_tokens', 'top_p', 'top_k', 'stop_sequences', 'frequency_penalty', 'presence_penalty', 'seed', 'choice.count']

const USAGE: Record<string, string> = {
  input_tokens: 'gen_ai.usage.input_tokens',
  output_tokens: 'gen_ai.usage.output_tokens',
  total_tokens: 'gen_ai.usage.total_tokens',
  cache_read_input_tokens: 'gen_ai.usage.cache_read.input_tokens',
  cache_write_input_tokens: 'gen_ai.usage.cache_creation.input_tokens',
  reasoning_output_tokens: 'gen_ai.usage.reasoning.output_tokens',
}

/** Attributes in a fixed order (kind, model, content, usage, rest): stable output for tests and diffs. */
export function toSemconvAttributes (ev: LlmobsEventView): Array<[string, SemconvValue]> {
  const out: Array<[string, SemconvValue]> = []
  const put = (k: string, v: SemconvValue | undefined): void => { if (v !== undefined) out.push([k, v]) }
  const kind = ev.kind
  const op = OPERATION[kind]
  if (op !== undefined) put('gen_ai.operation.name', op)
  else if (kind === 'retrieval') put('openinference.span.kind', 'RETRIEVER')
  else if (kind === 'task') put('traceloop.span.kind', 'task')
  else put('gen_ai.operation.name', kind)
  if (kind === 'llm' || kind === 'embedding') {
    put('gen_ai.provider.name', ev.modelProvider)
    put('gen_ai.request.model', ev.modelName)
    // Our model name is what the provider answered with (integrations override the request's).
    put('gen_ai.response.model', ev.modelName)
  }
  if (kind === 'tool') put('gen_ai.tool.name', ev.name)
  put('gen_ai.conversation.id', ev.sessionId)
  ioAttributes(kind, ev, put)
  const metrics = ev.metrics ?? {}
  for (const [metric, key] of Object.entries(USAGE)) {
    const n = metrics[metric]
    if (typeof n === 'number' && Number.isFinite(n)) put(key, n)
  }
  if (typeof metrics.estimated_total_cost === 'number') put('gen_ai.cost.estimated_total', metrics.estimated_total_cost)
  const tools = toolDefinitions(ev.toolDefinitions)
  if (tools !== undefined) put('gen_ai.tool.definitions', tools)
  const metadata = ev.metadata
  if (metadata !== undefined && Object.keys(metadata).length > 0) {
    for (const p of REQUEST_PARAMS) {
      const v = metadata[p]
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') put(`gen_ai.request.${p}`, v)
      else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) put(`gen_ai.request.${p}`, json(v))
    }
    const reasons = metadata.finish_reasons ?? metadata.finish_reason
    if (reasons !== undefined) put('gen_ai.response.finish_reasons', json(Array.isArray(reasons) ? reasons : [reasons]))
    // The whole object, nested values included: Datadog merges it into the event's metadata.
    put('_dd.ml_obs.metadata', json(metadata))
  }
  if (ev.error?.type !== undefined && ev.error.type !== '') put('error.type', ev.error.type)
  const tags: string[] = []
  if (ev.mlApp !== undefined && ev.mlApp !== '') tags.push(`ml_app:${ev.mlApp}`)
  for (const k of Object.keys(ev.tags ?? {})) if (!STANDARD_TAGS.has(k)) tags.push(`${k}:${(ev.tags as Record<string, string>)[k]}`)
  if (tags.length > 0) put('tag.tags', tags)
  return out
}

/** Tags every event carries that the receiving side derives itself (resource, status, session). */
const STANDARD_TAGS: ReadonlySet<string> = new Set(['ml_app', 'service', 'env', 'version', 'source', 'language', 'error', 'error_type', 'session_id'])

function ioAttributes (kind: string, ev: LlmobsEventView, put: (k: string, v: SemconvValue | undefined) => void): void {
  const input = ev.input ?? {}
  const output = ev.output ?? {}
  if (kind === 'llm') {
    if (input.messages !== undefined) put('gen_ai.input.messages', json(input.messages.map(toSemconvMessage)))
    else if (input.value !== undefined) put('gen_ai.input.messages', json([{ role: 'user', parts: [text(input.value)] }]))
    const finish = finishReason(ev)
    if (output.messages !== undefined) put('gen_ai.output.messages', json(output.messages.map((m) => ({ ...toSemconvMessage(m), finish_reason: finish }))))
    else if (output.value !== undefined) put('gen_ai.output.messages', json([{ role: 'assistant', parts: [text(output.value)], finish_reason: finish }]))
    return
  }
  if (kind === 'embedding') {
    // Datadog reads an embedding span's input messages as its documents, one per message.
    const docs = input.documents ?? (input.value !== undefined ? [{ text: input.value }] : undefined)
    if (docs !== undefined) put('gen_ai.input.messages', json(docs.map((d) => ({ role: 'user', parts: [text(d.text)] }))))
    else if (input.messages !== undefined) put('gen_ai.input.messages', json(input.messages.map(toSemconvMessage)))
    if (output.value !== undefined) put('output.value', output.value)
    return
  }
  if (kind === 'tool') {
    put('gen_ai.tool.call.arguments', sideText(input))
    put('gen_ai.tool.call.result', sideText(output))
    return
  }
  put('input.value', sideText(input))
  if (kind === 'retrieval' && output.documents !== undefined) {
    output.documents.forEach((d, i) => { for (const [k, v] of documentAttributes(d)) put(`retrieval.documents.${i}.document.${k}`, v) })
    return
  }
  put('output.value', sideText(output))
}

/** One of our messages as semconv `{role, parts}`: text, then tool calls, then tool results. */
export function toSemconvMessage (m: Message): { role: string, parts: Array<Record<string, unknown>> } {
  const parts: Array<Record<string, unknown>> = []
  if (m.content !== '' || (m.tool_calls === undefined && m.tool_results === undefined)) parts.push(text(m.content))
  for (const c of m.tool_calls ?? []) {
    const p: Record<string, unknown> = { type: 'tool_call', name: c.name, arguments: c.arguments }
    if (c.tool_id !== undefined) p.id = c.tool_id
    parts.push(p)
  }
  for (const r of m.tool_results ?? []) {
    const p: Record<string, unknown> = { type: 'tool_call_response', response: r.result }
    if (r.tool_id !== undefined) p.id = r.tool_id
    parts.push(p)
  }
  return { role: m.role, parts }
}

function documentAttributes (d: Document): Array<[string, SemconvValue]> {
  const out: Array<[string, SemconvValue]> = [['content', d.text]]
  if (d.id !== undefined) out.push(['id', d.id])
  if (d.score !== undefined) out.push(['score', d.score])
  // OpenInference has no document name; its metadata's `name` is what a reader takes as one.
  if (d.name !== undefined) out.push(['metadata', json({ name: d.name })])
  return out
}

/** Semconv requires a finish reason on output messages; ours is in metadata when the provider said. */
function finishReason (ev: LlmobsEventView): string {
  const m = ev.metadata
  const r = m?.finish_reason ?? (Array.isArray(m?.finish_reasons) ? (m?.finish_reasons as unknown[])[0] : undefined)
  if (typeof r === 'string' && r !== '') return r
  return ev.error !== undefined ? 'error' : 'stop'
}

function toolDefinitions (defs: unknown[] | undefined): string | undefined {
  if (!Array.isArray(defs) || defs.length === 0) return undefined
  const out: Array<Record<string, unknown>> = []
  for (const d of defs) {
    if (d === null || typeof d !== 'object') continue
    const { name, description, schema, parameters } = d as Record<string, unknown>
    if (typeof name !== 'string') continue
    const t: Record<string, unknown> = { type: 'function', name }
    if (typeof description === 'string') t.description = description
    const params = schema ?? parameters
    if (params !== undefined) t.parameters = params
    out.push(t)
  }
  return out.length > 0 ? json(out) : undefined
}

/** A non-message side as one text: the value, else the documents or messages as JSON. */
function sideText (io: GenAiIO): string | undefined {
  if (io.value !== undefined) return io.value
  if (io.documents !== undefined) return json(io.documents)
  if (io.messages !== undefined) return io.messages.length === 1 && io.messages[0].tool_calls === undefined && io.messages[0].tool_results === undefined ? io.messages[0].content : json(io.messages)
  return undefined
}

function text (content: string): Record<string, unknown> {
  return { type: 'text', content }
}

function json (v: unknown): string {
  try {
    return JSON.stringify(v, (_k, x: unknown) => typeof x === 'bigint' ? x.toString() : x) ?? ''
  } catch {
    return '[unserializable]'
  }
}
