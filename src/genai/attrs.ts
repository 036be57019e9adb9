import type { Attributes } from './types.js'

/** Attribute values longer than this are not parsed as JSON (and not kept as text): a warning instead. */
export const MAX_VALUE_CHARS = 4 * 1024 * 1024

/**
 * What one mapping run reads: the span's attributes, the warnings it raises, and the keys it
 * consumed (so the leftovers can become tags without repeating mapped values).
 */
export class Reader {
  readonly warnings = new Set<string>()
  readonly used = new Set<string>()

  constructor (readonly attrs: Attributes) {}

  warn (w: string): void { this.warnings.add(w) }

  has (key: string): boolean {
    const v = this.attrs[key]
    return v !== undefined && v !== null
  }

  raw (key: string): unknown {
    const v = this.attrs[key]
    if (v === undefined || v === null) return undefined
    this.used.add(key)
    return v
  }

  /** A non-empty string; numbers and booleans are stringified (OTLP senders are loose with types). */
  str (key: string): string | undefined {
    const v = this.raw(key)
    if (typeof v === 'string') return v === '' ? undefined : (v.length > MAX_VALUE_CHARS ? tooLarge(this, v) : v)
    if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
    return undefined
  }

  /** Attribute text for input/output values: strings as is, anything else as JSON. */
  text (key: string): string | undefined {
    const v = this.raw(key)
    if (v === undefined) return undefined
    if (typeof v === 'string') return v.length > MAX_VALUE_CHARS ? tooLarge(this, v) : v
    return jsonText(v)
  }

  /**
   * JSON held in an attribute: a string is parsed; an array or object already decoded (an OTLP
   * kvlist, an array attribute) is taken as is. Unparseable text raises `warning`.
   */
  json (key: string, warning: string): unknown {
    const v = this.raw(key)
    if (v === undefined) return undefined
    return parseJson(v, warning, this)
  }

  /** Keys under `prefix` (e.g. `gen_ai.request.`), in attribute order. */
  keysUnder (prefix: string): string[] {
    const out: string[] = []
    for (const k of Object.keys(this.attrs)) if (k.startsWith(prefix)) out.push(k)
    return out
  }
}

export function parseJson (v: unknown, warning: string, r: { warn: (w: string) => void }): unknown {
  if (typeof v !== 'string') return v
  if (v.length > MAX_VALUE_CHARS) { r.warn('otel_warning_attribute_too_large'); r.warn(warning); return undefined }
  try { return JSON.parse(v) } catch { r.warn(warning); return undefined }
}

function tooLarge (r: Reader, _v: string): undefined {
  r.warn('otel_warning_attribute_too_large')
  return undefined
}

/** JSON text that never throws (bigints become decimal strings, cycles a placeholder). */
export function jsonText (v: unknown): string {
  if (typeof v === 'string') return v
  try {
    return JSON.stringify(v, (_k, x: unknown) => typeof x === 'bigint' ? x.toString() : x) ?? String(v)
  } catch { return '[unserializable]' }
}

export function isRecord (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v)
}

export function asString (v: unknown): string | undefined {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  return undefined
}

/**
 * Indexed flattened attributes (`<prefix>.<N>.<rest>`, as OpenLLMetry and OpenInference write
 * lists) grouped by N in numeric order, each group keyed by `<rest>`. Marks the keys consumed.
 */
export function indexed (r: Reader, prefix: string): Array<Record<string, unknown>> {
  const groups = new Map<number, Record<string, unknown>>()
  const p = prefix + '.'
  for (const k of Object.keys(r.attrs)) {
    if (!k.startsWith(p)) continue
    const rest = k.slice(p.length)
    const dot = rest.indexOf('.')
    const idx = Number(dot < 0 ? rest : rest.slice(0, dot))
    if (!Number.isInteger(idx) || idx < 0 || dot < 0) continue
    const v = r.raw(k)
    if (v === undefined) continue
    let g = groups.get(idx)
    if (g === undefined) { g = {}; groups.set(idx, g) }
    g[rest.slice(dot + 1)] = v
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(e => e[1])
}

/** Regroups `<name>.<N>.<rest>` keys of one flattened record (nested lists inside an indexed item). */
export function subIndexed (rec: Record<string, unknown>, name: string): Array<Record<string, unknown>> {
  const groups = new Map<number, Record<string, unknown>>()
  const p = name + '.'
  for (const [k, v] of Object.entries(rec)) {
    if (!k.startsWith(p)) continue
    const rest = k.slice(p.length)
    const dot = rest.indexOf('.')
    if (dot < 0) continue
    const idx = Number(rest.slice(0, dot))
    if (!Number.isInteger(idx) || idx < 0) continue
    let g = groups.get(idx)
    if (g === undefined) { g = {}; groups.set(idx, g) }
    g[rest.slice(dot + 1)] = v
  }
  return [...groups.entries()].sort((a, b) => a[0] - b[0]).map(e => e[1])
}
