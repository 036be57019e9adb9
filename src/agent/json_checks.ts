/** Small checks for validating untrusted JSON-like documents with a reason a client can act on. */

export class InvalidInput extends Error {
  override readonly name = 'InvalidInput'
}

export function invalid (reason: string): never {
  throw new InvalidInput(reason)
}

export function isObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array)
}

export function jsonType (v: unknown): string {
  if (v === null) return 'null'
  if (v === undefined) return 'nothing'
  if (Array.isArray(v)) return 'array'
  if (v instanceof Uint8Array) return 'bytes'
  return typeof v
}

export function optionalString (obj: Record<string, unknown>, key: string, where: string): string | undefined {
  const v = obj[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'string') invalid(`${where}: field "${key}" must be a string, got ${jsonType(v)}`)
  return v
}

export function optionalObject (obj: Record<string, unknown>, key: string, where: string): Record<string, unknown> | undefined {
  const v = obj[key]
  if (v === undefined || v === null) return undefined
  if (!isObject(v)) invalid(`${where}: field "${key}" must be an object, got ${jsonType(v)}`)
  return v
}

/** A map of numbers (LLMObs metrics); bigints from msgpack are accepted as numbers. */
export function optionalMetrics (obj: Record<string, unknown>, key: string, where: string): Record<string, number> | undefined {
  const m = optionalObject(obj, key, where)
  if (m === undefined) return undefined
  const out: Record<string, number> = {}
  for (const k of Object.keys(m)) {
    const v = m[k]
    if (typeof v === 'number') setOwn(out, k, v)
    else if (typeof v === 'bigint') setOwn(out, k, Number(v))
    else invalid(`${where}: field "${key}" key "${k}": value must be a number, got ${jsonType(v)}`)
  }
  return out
}

export function optionalStringList (obj: Record<string, unknown>, key: string, where: string): string[] | undefined {
  const v = obj[key]
  if (v === undefined || v === null) return undefined
  if (!Array.isArray(v)) invalid(`${where}: field "${key}" must be a list of strings, got ${jsonType(v)}`)
  for (let i = 0; i < v.length; i++) {
    if (typeof v[i] !== 'string') invalid(`${where}: field "${key}"[${i}] must be a string, got ${jsonType(v[i])}`)
  }
  return v as string[]
}

/** Own data property even for "__proto__", so hostile keys cannot reach a prototype. */
export function setOwn<T> (obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
  else obj[key] = value
}

/**
 * msgpack-decoded data → JSON-safe data: bigints become numbers (they are token counts or ids
 * the JSON event would carry as numbers anyway), bytes become base64 strings.
 */
export function toJsonValue (v: unknown): unknown {
  if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? Number(v) : v
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
  if (Array.isArray(v)) return v.map(toJsonValue)
  const out: Record<string, unknown> = {}
  const src = v as Record<string, unknown>
  for (const k of Object.keys(src)) setOwn(out, k, toJsonValue(src[k]))
  return out
}

/** Tags as the intake stores them: a sorted list of "k:v". */
export function tagsToList (tags: Record<string, unknown> | string[]): string[] {
  if (Array.isArray(tags)) return [...tags].sort()
  const out: string[] = []
  for (const k of Object.keys(tags)) {
    const v = tags[k]
    if (v === undefined || v === null) continue
    out.push(`${k}:${typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(toJsonValue(v)) : String(v)}`)
  }
  return out.sort()
}

/** `ml_app:<x>` from a tag list. */
export function mlAppFromTags (tags: readonly string[] | undefined): string | undefined {
  if (tags === undefined) return undefined
  for (const t of tags) if (t.startsWith('ml_app:')) return t.slice(7)
  return undefined
}

/** The span kind from `meta.span.kind` (dd-trace-py) or a flat `meta["span.kind"]` (dd-trace-js). */
export function spanKind (meta: Record<string, unknown> | undefined): string | undefined {
  if (meta === undefined) return undefined
  const span = meta.span
  if (isObject(span) && typeof span.kind === 'string') return span.kind
  const flat = meta['span.kind']
  return typeof flat === 'string' ? flat : undefined
}
