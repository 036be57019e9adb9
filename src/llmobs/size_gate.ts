import type { Span } from '../trace/span.js'
import type { EventContext } from './event_builder.js'
import type { LlmobsSpanState } from './span_state.js'

/**
 * Cheap upper bounds that let ordinary events skip measuring. A UTF-16 unit is at most 6 bytes
 * of JSON (\uXXXX); 64 KiB covers what users do not supply (ids, kinds, keys, numbers).
 */
const FIXED_ROOM = 65536

/**
 * Everything user-supplied that can be big reaches the event through the state (annotations,
 * tags, name, session, model: `annotatedUnits` is their running count for what annotate() and
 * annotationContext() add, the scalars are read here because integrations set some directly),
 * the span (service, error fields) or the config (env, version). A few reads, no walk.
 */
export function stateMayExceed (span: Span, st: LlmobsSpanState, ctx: EventContext, limitBytes: number): boolean {
  let units = st.annotatedUnits + len(st.name) + len(st.mlApp) + len(st.parentId) + 2 * len(st.sessionId) +
    len(st.modelName) + len(st.modelProvider) + len(span.service) + len(ctx.service) + len(ctx.env) + len(ctx.version) + (ctx.globalTagsUnits ?? 0)
  if (span.error === 1) {
    const m = span.meta
    // error.type is both meta.error.type and the error_type tag.
    units += len(m['error.message']) + len(m['error.stack']) + 2 * len(m['error.type'])
  }
  return !(units * 6 + FIXED_ROOM <= limitBytes)
}

/** The same bound over a built event: walks its structure, never reads string contents. */
export function mayExceed (event: object, limitBytes: number): boolean {
  return !(stringUnits(event, 0) * 6 + FIXED_ROOM <= limitBytes)
}

function stringUnits (v: unknown, depth: number): number {
  if (typeof v === 'string') return v.length
  if (v === null || typeof v !== 'object') return 8
  // Past this depth the bound gives up rather than risk the stack: measure exactly instead.
  if (depth > 64) return Infinity
  // toJSON can return anything: only serialising tells.
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return Infinity
  let n = 2
  if (Array.isArray(v)) {
    for (const x of v) n += stringUnits(x, depth + 1) + 1
  } else {
    for (const k of Object.keys(v)) n += k.length + stringUnits((v as Record<string, unknown>)[k], depth + 1) + 2
  }
  return n
}

/** Non-strings where a string belongs (a processor, an untyped caller) force the exact path. */
function len (v: unknown): number {
  if (typeof v === 'string') return v.length
  return v === undefined || v === null ? 0 : Infinity
}
