/**
 * Turns anything a user annotates into a JSON-domain value that is safe to serialise: the
 * event must be well-formed and as complete as possible whatever it was given. Containers
 * nested deeper than `maxDepth` are replaced by their JSON text (DESIGN §3.5), so nothing
 * is silently cut; values JSON cannot carry get a readable stand-in.
 */
export interface SanitizeStats { replaced: number }

const CIRCULAR = '[circular]'

export function toJsonValue (value: unknown, maxDepth: number, stats: SanitizeStats): unknown {
  return convert(value, 0, maxDepth, [], stats)
}

function convert (v: unknown, depth: number, maxDepth: number, seen: object[], stats: SanitizeStats): unknown {
  switch (typeof v) {
    case 'string': return v
    case 'boolean': return v
    case 'number':
      if (Number.isFinite(v)) return v
      stats.replaced++
      return String(v) // NaN / Infinity: JSON has no such number
    case 'bigint': return v.toString()
    case 'undefined': return null
    case 'symbol': stats.replaced++; return v.toString()
    case 'function': stats.replaced++; return `[function ${v.name !== '' ? v.name : 'anonymous'}]`
  }
  if (v === null) return null
  const obj = v as object
  try {
    if (seen.includes(obj)) { stats.replaced++; return CIRCULAR }
    if (obj instanceof Date) return Number.isNaN(obj.getTime()) ? 'Invalid Date' : obj.toISOString()
    if (obj instanceof Error) return { name: obj.name, message: obj.message }
    if (ArrayBuffer.isView(obj)) {
      // Bytes are rarely meant as text; a length keeps the event small and honest.
      stats.replaced++
      return `[${obj.constructor.name} ${obj.byteLength} bytes]`
    }
    if (obj instanceof Map) {
      return container(Object.fromEntries([...obj].map(([k, val]) => [String(k), val])), depth, maxDepth, seen, stats)
    }
    if (obj instanceof Set) return container([...obj], depth, maxDepth, seen, stats)
    if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
      return convert((obj as { toJSON: () => unknown }).toJSON(), depth, maxDepth, seen, stats)
    }
    return container(obj, depth, maxDepth, seen, stats)
  } catch {
    stats.replaced++
    return '[unserializable]'
  }
}

function container (obj: object, depth: number, maxDepth: number, seen: object[], stats: SanitizeStats): unknown {
  if (depth >= maxDepth) {
    stats.replaced++
    return maxDepth >= STRINGIFY_DEPTH ? '[max depth]' : stringifyDeep(obj)
  }
  seen.push(obj)
  try {
    if (Array.isArray(obj)) {
      const out: unknown[] = new Array(obj.length)
      for (let i = 0; i < obj.length; i++) out[i] = convert(obj[i], depth + 1, maxDepth, seen, stats)
      return out
    }
    const out: Record<string, unknown> = {}
    for (const k of Object.keys(obj)) {
      let val: unknown
      try { val = (obj as Record<string, unknown>)[k] } catch { stats.replaced++; val = '[unreadable]' }
      if (val === undefined) continue
      out[k] = convert(val, depth + 1, maxDepth, seen, stats)
    }
    return out
  } finally {
    seen.pop()
  }
}

/** How deep the JSON text of a too-deep container goes; past it, a marker (stack safety). */
const STRINGIFY_DEPTH = 64

/** JSON text of a too-deep container, itself made safe (cycles, bigints) and bounded in depth. */
function stringifyDeep (obj: object): string {
  const inner = convert(obj, 0, STRINGIFY_DEPTH, [], { replaced: 0 })
  try { return JSON.stringify(inner) } catch { return '[unserializable]' }
}
