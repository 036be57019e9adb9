import { asString, indexed, isRecord, jsonText, parseJson, type Reader } from './attrs.js'
import { aiSdkToolDefinitions } from './ai_sdk.js'
import type { ToolDefinition } from './types.js'

/** Prefixes whose keys are copied into metadata with the prefix cut (OTEL-FACTS §2.8; `ai.telemetry.metadata.` is ours). */
export const METADATA_PREFIXES = ['gen_ai.request.', 'langfuse.trace.metadata.', 'langfuse.observation.metadata.', 'ai.telemetry.metadata.']

/** Single keys renamed into metadata. */
const METADATA_KEYS: Record<string, string> = {
  'gen_ai.response.finish_reasons': 'finish_reasons',
  'gen_ai.conversation.id': 'conversation_id',
  'gen_ai.tool.call.id': 'tool_id',
  'gen_ai.tool.description': 'tool_description',
  'gen_ai.tool.type': 'tool_type',
  'tool.id': 'tool_id',
  'tool.description': 'tool_description',
  'tool.parameters': 'tool_parameters',
  'ai.toolCall.id': 'tool_id',
}

/** JSON-object attributes merged into metadata, in this order; `_dd.ml_obs.metadata` last, so it wins. */
const METADATA_OBJECTS = ['llm.invocation_parameters', 'metadata', 'langfuse.observation.model.parameters', '_dd.ml_obs.metadata']

export const METADATA_INPUT_KEYS: readonly string[] = [...Object.keys(METADATA_KEYS), ...METADATA_OBJECTS]

export function mapMetadata (r: Reader): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const prefix of METADATA_PREFIXES) {
    for (const k of r.keysUnder(prefix)) {
      if (k === 'gen_ai.request.model' || k === 'langfuse.observation.metadata.ls_provider') continue
      const v = r.raw(k)
      if (v !== undefined) out[k.slice(prefix.length)] = plain(v)
    }
  }
  for (const [k, name] of Object.entries(METADATA_KEYS)) {
    const v = r.raw(k)
    if (v !== undefined) out[name] = plain(v)
  }
  for (const k of METADATA_OBJECTS) {
    if (!r.has(k)) continue
    const obj = parseJson(r.raw(k), 'otel_warning_params_malformed', r)
    if (obj === undefined) continue
    if (!isRecord(obj)) { r.warn('otel_warning_params_malformed'); continue }
    for (const [mk, mv] of Object.entries(obj)) {
      // _dd.ml_obs.metadata overrides everything derived except the model fields.
      if (k === '_dd.ml_obs.metadata' && (mk === 'model_name' || mk === 'model_provider')) continue
      out[mk] = mv
    }
  }
  return out
}

/** bigints do not survive JSON; everything else an attribute can hold does. */
function plain (v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v)
  if (Array.isArray(v)) return v.map(x => typeof x === 'bigint' ? Number(x) : x)
  return v
}

/**
 * `gen_ai.tool.definitions` (a JSON array; semconv and OpenAI-style `{type, function: {...}}`
 * entries), else OpenInference `llm.tools.N.tool.json_schema`, OpenLLMetry `llm.request.functions.N.*`,
 * the AI SDK's `ai.prompt.tools`,
 * as the event's `{name, description, schema}`. An entry without a name, or whose parameters are
 * not an object, is skipped with a warning.
 */
export function mapToolDefinitions (r: Reader): ToolDefinition[] | undefined {
  if (r.has('gen_ai.tool.definitions')) {
    const list = parseJson(r.raw('gen_ai.tool.definitions'), 'otel_warning_tool_definitions_malformed', r)
    if (list === undefined) return undefined
    if (!Array.isArray(list)) { r.warn('otel_warning_tool_definitions_malformed'); return undefined }
    return entries(list, r)
  }
  const oi = indexed(r, 'llm.tools')
  if (oi.length > 0) {
    return entries(oi.map(g => parseJson(g['tool.json_schema'], 'otel_warning_tool_definition_entry_malformed', r)), r)
  }
  // OpenLLMetry: llm.request.functions.N.{name,description,parameters} (parameters as JSON text).
  const ol = indexed(r, 'llm.request.functions')
  if (ol.length > 0) {
    return entries(ol.map(g => ({ ...g, parameters: parseJson(g.parameters, 'otel_warning_tool_definition_entry_malformed', r) })), r)
  }
  return aiSdkToolDefinitions(r)
}

function entries (list: unknown[], r: Reader): ToolDefinition[] {
  const out: ToolDefinition[] = []
  for (const item of list) {
    if (!isRecord(item)) { r.warn('otel_warning_tool_definition_entry_malformed'); continue }
    const fn = isRecord(item.function) ? item.function : item
    const name = asString(fn.name)
    const schema = fn.parameters ?? fn.input_schema ?? fn.inputSchema
    if (name === undefined || (schema !== undefined && schema !== null && !isRecord(schema))) {
      r.warn('otel_warning_tool_definition_entry_malformed')
      continue
    }
    const def: ToolDefinition = { name }
    const description = asString(fn.description)
    if (description !== undefined) def.description = description
    if (isRecord(schema)) def.schema = schema
    out.push(def)
  }
  return out
}

/** `gen_ai.conversation.id`, then OpenInference `session.id`, then `langfuse.session.id`. */
export function mapSession (r: Reader): string | undefined {
  let id: string | undefined
  for (const k of ['gen_ai.conversation.id', 'session.id', 'langfuse.session.id']) id ??= r.str(k)
  return id
}

const TAG_MAX = 256

/**
 * Tags (OTEL-FACTS §2.8): `session_id`, `user_id` (OpenInference `user.id`, `langfuse.user.id`),
 * the items of `tag.tags` / `langfuse.trace.tags` (`k:v` items split, a bare item gets "true"), and
 * every `gen_ai.*` key nothing else consumed, prefix cut, value cut at 256 characters. Other
 * non-`gen_ai.*` attributes are not copied: the docs contradict themselves (§5), the APM span keeps
 * them all, and copying every `http.*` key into LLMObs tags would be noise. Runs last: it reads
 * what the other steps left over.
 */
export function mapTags (r: Reader, sessionId: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  if (sessionId !== undefined) out.session_id = sessionId
  let user: string | undefined
  for (const k of ['user.id', 'langfuse.user.id']) user ??= r.str(k)
  if (user !== undefined) out.user_id = user
  for (const k of ['tag.tags', 'langfuse.trace.tags']) {
    if (!r.has(k)) continue
    const raw = r.raw(k)
    const list = Array.isArray(raw) ? raw : parseJson(raw, 'otel_warning_params_malformed', r)
    if (!Array.isArray(list)) continue
    for (const item of list) {
      const t = asString(item)
      if (t === undefined || t === '') continue
      const colon = t.indexOf(':')
      if (colon > 0) out[t.slice(0, colon)] = t.slice(colon + 1)
      else out[t] = 'true'
    }
  }
  for (const k of Object.keys(r.attrs)) {
    if (!k.startsWith('gen_ai.') || r.used.has(k)) continue
    if (k.startsWith('gen_ai.prompt.') || k.startsWith('gen_ai.completion.')) continue
    const v = r.attrs[k]
    if (v === undefined || v === null) continue
    const text = jsonText(v)
    out[k.slice('gen_ai.'.length)] = text.length > TAG_MAX ? text.slice(0, TAG_MAX) : text
  }
  return out
}
