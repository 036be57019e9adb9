import { log } from '../diag/logger.js'

/**
 * Value parsers shared by every config source. A malformed value is never fatal: one warning
 * naming the variable and what was wrong, then the default.
 */
export type Raw = string | number | boolean | undefined | null

export function parseBool (name: string, raw: Raw, fallback: boolean): boolean {
  if (raw === undefined || raw === null || raw === '') return fallback
  if (typeof raw === 'boolean') return raw
  const s = String(raw).trim().toLowerCase()
  if (s === 'true' || s === '1' || s === 'yes' || s === 'on') return true
  if (s === 'false' || s === '0' || s === 'no' || s === 'off') return false
  invalid(name, raw, 'expected true or false', String(fallback))
  return fallback
}

export function parseNumber (name: string, raw: Raw, fallback: number, range: { min?: number, max?: number, integer?: boolean } = {}): number {
  if (raw === undefined || raw === null || raw === '') return fallback
  const n = typeof raw === 'number' ? raw : Number(String(raw).trim())
  const bad = !Number.isFinite(n) ||
    (range.integer === true && !Number.isInteger(n)) ||
    (range.min !== undefined && n < range.min) ||
    (range.max !== undefined && n > range.max)
  if (bad) {
    const want = `${range.integer === true ? 'an integer' : 'a number'}${range.min !== undefined ? ` >= ${range.min}` : ''}${range.max !== undefined ? ` <= ${range.max}` : ''}`
    invalid(name, raw, `expected ${want}`, String(fallback))
    return fallback
  }
  return n
}

export function parseEnum<T extends string> (name: string, raw: Raw, allowed: readonly T[], fallback: T): T {
  if (raw === undefined || raw === null || raw === '') return fallback
  const s = String(raw).trim()
  const hit = allowed.find((a) => a === s || a === `v${s}`)
  if (hit !== undefined) return hit
  invalid(name, raw, `expected one of ${allowed.join(', ')}`, fallback)
  return fallback
}

export function parseString (raw: Raw): string | undefined {
  if (raw === undefined || raw === null) return undefined
  const s = String(raw).trim()
  return s === '' ? undefined : s
}

export function invalid (name: string, raw: unknown, why: string, fallback: string): void {
  let shown: string
  try { shown = JSON.stringify(raw) ?? String(raw) } catch { shown = '(unprintable)' }
  if (shown.length > 80) shown = shown.slice(0, 77) + '...'
  log.warnOnce(`config:${name}`, `invalid ${name}=${shown}: ${why}; using the default (${fallback})`)
}
