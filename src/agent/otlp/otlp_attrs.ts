import type { OtlpAttribute, OtlpValue } from '../../encode/otlp/otlp_types.js'
import { setOwn } from '../json_checks.js'

/** Nesting past this is written as a placeholder: hostile kvlists must not exhaust the stack. */
const MAX_DEPTH = 32

/**
 * OTLP attributes as the GenAI mapping reads them: kvlists become plain objects (the mapping takes
 * decoded JSON as is), int64 a number when it is exact, bytes base64. A repeated key keeps its
 * last value, as a map would.
 */
export function genAiAttributes (attrs: readonly OtlpAttribute[]): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const a of attrs) setOwn(out, a.key, plain(a.value, 0))
  return out
}

/**
 * OTLP attributes as the Agent mapping (dd_mapping.ts) takes them: scalars and arrays of scalars;
 * a kvlist, or an array holding one, becomes its JSON text, as the Agent writes it into meta.
 */
export function agentAttributes (attrs: readonly OtlpAttribute[]): Record<string, string | number | boolean | Array<string | number | boolean | null>> {
  const out: Record<string, string | number | boolean | Array<string | number | boolean | null>> = {}
  for (const a of attrs) {
    const v = a.value
    if (v === null) continue
    if (Array.isArray(v)) {
      const items = v.map((x) => plain(x, 1))
      const flat = items.every((x) => x === null || typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean')
      setOwn(out, a.key, flat ? items as Array<string | number | boolean | null> : json(items))
    } else {
      const p = plain(v, 0)
      setOwn(out, a.key, typeof p === 'string' || typeof p === 'number' || typeof p === 'boolean' ? p : json(p))
    }
  }
  return out
}

function plain (v: OtlpValue, depth: number): unknown {
  if (v === null || typeof v === 'string' || typeof v === 'boolean' || typeof v === 'number') return v
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString()
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')
  if (depth >= MAX_DEPTH) return '[nested too deeply]'
  if (Array.isArray(v)) return v.map((x) => plain(x, depth + 1))
  const obj: Record<string, unknown> = {}
  for (const kv of v.kvlist) setOwn(obj, kv.key, plain(kv.value, depth + 1))
  return obj
}

function json (v: unknown): string {
  try {
    return JSON.stringify(v) ?? ''
  } catch {
    return '[unserializable]'
  }
}
