/**
 * Glob patterns of sampling rules: `*` matches any run of characters (including none), `?`
 * exactly one, everything else itself. Matching ignores case, as dd-trace-js does (both sides are
 * lower-cased), and works on UTF-16 code units.
 *
 * The matcher is the classic two-pointer walk that remembers only the last `*`: worst case
 * O(pattern × subject), never exponential, unlike a regex built from the pattern.
 */
export interface Glob {
  /** The pattern as given. */
  readonly pattern: string
  /** True when the pattern is one or more `*`: it matches every string. */
  readonly matchesEverything: boolean
  matches (subject: string): boolean
}

const STAR = 42 // '*'
const QUESTION = 63 // '?'

/** Compiles once (lower-casing and classifying the pattern) so each match does only the walk. */
export function compileGlob (pattern: string): Glob {
  const lower = pattern.toLowerCase()
  let stars = 0
  let wildcards = 0
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i)
    if (c === STAR) stars++
    if (c === STAR || c === QUESTION) wildcards++
  }
  const matchesEverything = lower.length > 0 && stars === lower.length
  if (matchesEverything) {
    return { pattern, matchesEverything, matches: () => true }
  }
  if (wildcards === 0) {
    return { pattern, matchesEverything, matches: (subject) => subject.toLowerCase() === lower }
  }
  return { pattern, matchesEverything, matches: (subject) => walk(lower, subject.toLowerCase()) }
}

function walk (p: string, s: string): boolean {
  let pi = 0
  let si = 0
  let starP = -1 // index of the last `*` seen in the pattern
  let starS = 0 // subject index that `*` was last extended to
  while (si < s.length) {
    const c = pi < p.length ? p.charCodeAt(pi) : -1
    if (c === STAR) {
      // Try the star as empty first; widen it by one on a later mismatch.
      starP = pi++
      starS = si
    } else if (c !== -1 && (c === QUESTION || c === s.charCodeAt(si))) {
      pi++
      si++
    } else if (starP >= 0) {
      pi = starP + 1
      si = ++starS
    } else {
      return false
    }
  }
  while (pi < p.length && p.charCodeAt(pi) === STAR) pi++
  return pi === p.length
}
