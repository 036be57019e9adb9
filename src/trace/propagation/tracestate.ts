/**
 * The W3C `tracestate` list: `key=value` members separated by `,`, at most 32 of them, the most
 * recently updated vendor first. We own the `dd` member; the others are carried through untouched.
 */

/** W3C Trace Context §3.3.1.2. */
export const MAX_MEMBERS = 32

export interface ParsedTracestate {
  /** Value of our `dd=` member, if present. */
  dd: string | undefined
  /** Other members in wire order (`k=v,k=v`), at most MAX_MEMBERS - 1 so ours still fits. */
  others: string | undefined
}

/**
 * Splits a tracestate header. Only the first MAX_MEMBERS members are looked at (a longer list
 * is invalid anyway, and this bounds the work on hostile input). Members without `=`, with an
 * empty key or value, whitespace in the key or a tab in the value are dropped, as are repeated
 * keys after the first.
 */
export function parseTracestate (header: string): ParsedTracestate {
  const parts = header.split(',', MAX_MEMBERS)
  let dd: string | undefined
  let others: string | undefined
  let kept = 0
  const seen = new Set<string>()
  for (const part of parts) {
    const eq = part.indexOf('=')
    if (eq === -1) continue
    const key = trimOws(part.slice(0, eq))
    const value = trimOwsEnd(part.slice(eq + 1))
    if (key === '' || value === '' || /[ \t]/.test(key) || value.includes('\t') || seen.has(key)) continue
    seen.add(key)
    if (key === 'dd') {
      dd = value
    } else if (kept < MAX_MEMBERS - 1) {
      kept++
      others = others === undefined ? key + '=' + value : others + ',' + key + '=' + value
    }
  }
  return { dd, others }
}

/**
 * Our member first (we are the vendor that updated the trace last), then the others, keeping
 * the list within MAX_MEMBERS by dropping from the end, as W3C asks. `others` may come from a
 * caller, so a stray `dd=` member in it is removed rather than sent twice.
 */
export function joinTracestate (ddValue: string, others: string | undefined): string {
  let out = 'dd=' + ddValue
  if (others === undefined || others === '') return out
  let count = 1
  for (const member of others.split(',')) {
    const m = trimOws(member)
    if (m === '' || m.startsWith('dd=')) continue
    out += ',' + m
    if (++count >= MAX_MEMBERS) break
  }
  return out
}

// Hand-written: a `[ \t]+$` regex is quadratic on long inner runs of blanks in hostile input.
function isOws (c: number): boolean {
  return c === 0x20 || c === 0x09
}

function trimOws (s: string): string {
  let a = 0
  while (a < s.length && isOws(s.charCodeAt(a))) a++
  return trimOwsEnd(a === 0 ? s : s.slice(a))
}

function trimOwsEnd (s: string): string {
  let b = s.length
  while (b > 0 && isOws(s.charCodeAt(b - 1))) b--
  return b === s.length ? s : s.slice(0, b)
}
