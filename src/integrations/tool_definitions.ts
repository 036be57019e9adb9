import { list, rec, str } from './shape.js'

/**
 * Tool definitions as the event carries them (`{name, description, schema}`), from either
 * Chat Completions' nested `{type, function: {...}}` or the Responses API's flat form.
 */
export function toolDefinitions (tools: unknown): unknown[] {
  const out: unknown[] = []
  for (const t of list(tools)) {
    const r = rec(t)
    if (r === undefined) continue
    const fn = rec(r.function) ?? rec(r.custom) ?? r
    const name = str(fn.name) ?? str(r.type)
    if (name === undefined) continue
    const def: Record<string, unknown> = { name }
    if (str(fn.description) !== undefined) def.description = fn.description
    const schema = fn.parameters ?? fn.input_schema ?? fn.inputSchema
    if (schema !== undefined) def.schema = schema
    out.push(def)
  }
  return out
}
