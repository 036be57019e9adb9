import { describeValue, log } from '../diag/logger.js'

/**
 * `DD_TAGS` as dd-trace-js parses it: comma-separated `key:value` pairs split at the first `:`;
 * without a comma, whitespace separates the pairs. Keys and values are trimmed, a key without a
 * value gets "", empty keys are skipped.
 *
 * @example parseTagString('team:ml, owner:a:b') // { team: 'ml', owner: 'a:b' }
 */
export function parseTagString (text: string | undefined): Record<string, string> {
  const entries: Array<[string, string]> = []
  if (text === undefined) return {}
  const parts = text.includes(',') ? text.split(',') : text.split(/\s+/)
  for (const part of parts) {
    const colon = part.indexOf(':')
    const key = (colon < 0 ? part : part.slice(0, colon)).trim()
    if (key === '') continue
    entries.push([key, colon < 0 ? '' : part.slice(colon + 1).trim()])
  }
  // fromEntries defines own properties: a "__proto__" key stays a key.
  return Object.fromEntries(entries)
}

/**
 * The `tags` option of `tracer.init()`: an object of string, number or boolean values. Anything
 * else is left out with one warning; a value that is not an object is ignored whole.
 */
export function readTagOption (tags: unknown): Record<string, string> {
  if (tags === undefined || tags === null) return {}
  if (typeof tags !== 'object' || Array.isArray(tags)) {
    log.warnOnce('config:option tags', () => `invalid option tags=${describeValue(tags)}: expected an object of key: value; ignored`)
    return {}
  }
  const entries: Array<[string, string]> = []
  try {
    for (const key of Object.keys(tags)) {
      const v: unknown = (tags as Record<string, unknown>)[key]
      if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') entries.push([key, String(v)])
      else log.warnOnce('config:option tags.value', () => `option tags.${key} must be a string, number or boolean, got ${describeValue(v)}; left out`)
    }
  } catch (err) {
    log.warnOnce('config:option tags.read', () => `option tags could not be read (${describeValue(err)}); ignored`)
    return {}
  }
  return Object.fromEntries(entries)
}
