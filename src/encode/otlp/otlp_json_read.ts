import { OtlpReject } from './otlp_limits.js'

/**
 * Field readers for OTLP/JSON decoding. Each takes the raw JSON value and a name for the reason;
 * absent and `null` mean the default, as in the proto3 JSON mapping; a wrong type is a rejection.
 */

export type JsonObject = Record<string, unknown>

/** Where the decoder is, for the reason of a rejection (set by the decoder as it walks). */
export const at = { path: '' }

export function fail (what: string): never {
  throw new OtlpReject(at.path === '' ? what : `${at.path}: ${what}`)
}

const describe = (v: unknown): string =>
  v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v === 'string' ? `the string ${JSON.stringify(v.slice(0, 40))}` : typeof v === 'object' ? 'an object' : `${typeof v} ${String(v).slice(0, 40)}`

export function object (v: unknown, name: string): JsonObject | undefined {
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'object' || Array.isArray(v)) fail(`${name} must be an object, not ${describe(v)}`)
  return v as JsonObject
}

export function array (v: unknown, name: string): unknown[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) fail(`${name} must be an array, not ${describe(v)}`)
  return v
}

export function string (v: unknown, name: string): string {
  if (v === undefined || v === null) return ''
  if (typeof v !== 'string') fail(`${name} must be a string, not ${describe(v)}`)
  return v
}

export function boolean (v: unknown, name: string): boolean {
  if (v === undefined || v === null) return false
  if (typeof v !== 'boolean') fail(`${name} must be true or false, not ${describe(v)}`)
  return v
}

const INTEGER = /^-?[0-9]+$/

/** A 64-bit integer: a decimal string (what OTLP/JSON writes) or a JSON number (what some exporters send). */
function int64 (v: unknown, name: string, min: bigint, max: bigint): bigint {
  if (v === undefined || v === null) return 0n
  let n: bigint
  if (typeof v === 'string' && INTEGER.test(v) && v.length <= 21) n = BigInt(v)
  else if (typeof v === 'number' && Number.isInteger(v)) n = BigInt(v)
  else return fail(`${name} must be an integer (a decimal string or a number), not ${describe(v)}`)
  if (n < min || n > max) fail(`${name} ${v} is outside the range of a ${min === 0n ? 'u' : ''}int64`)
  return n
}

export const signed64 = (v: unknown, name: string): bigint => int64(v, name, -(2n ** 63n), 2n ** 63n - 1n)
export const unsigned64 = (v: unknown, name: string): bigint => int64(v, name, 0n, 2n ** 64n - 1n)

/** uint32 / fixed32 / int32: a JSON number, or a decimal string as the proto3 mapping also allows. */
export function integer32 (v: unknown, name: string, min: number, max: number): number {
  if (v === undefined || v === null) return 0
  const n = typeof v === 'string' && INTEGER.test(v) && v.length <= 11 ? Number(v) : v
  if (typeof n !== 'number' || !Number.isInteger(n)) fail(`${name} must be an integer, not ${describe(v)}`)
  if (n < min || n > max) fail(`${name} ${n} is outside ${min}..${max}`)
  return n
}

export const uint32 = (v: unknown, name: string): number => integer32(v, name, 0, 0xffffffff)

const NUMBER = /^-?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/

export function double (v: unknown, name: string): number {
  if (v === undefined || v === null) return 0
  if (typeof v === 'number') return v
  if (v === 'NaN') return NaN
  if (v === 'Infinity') return Infinity
  if (v === '-Infinity') return -Infinity
  if (typeof v === 'string' && NUMBER.test(v)) return Number(v)
  return fail(`${name} must be a number, not ${describe(v)}`)
}

/**
 * OTLP/JSON keys are lowerCamelCase only. A snake_case key (protobuf's own field name, which a
 * generic proto3 JSON writer may emit) would otherwise be an unknown field, silently ignored,
 * and the data lost: name it instead.
 */
export function camelOnly (o: JsonObject, snake: readonly string[], message: string): void {
  for (let i = 0; i < snake.length; i++) {
    if (o[snake[i]] !== undefined) {
      const camel = snake[i].replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())
      fail(`${message} has the snake_case key "${snake[i]}"; OTLP/JSON keys are lowerCamelCase ("${camel}")`)
    }
  }
}
