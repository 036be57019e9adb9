/**
 * String-level pieces of truncation (DESIGN §3.5): how many bytes a string costs inside JSON,
 * and how to cut one to a byte budget with the marker that says how much went.
 */

const MARKER_HEAD = '…[truncated '
const MARKER_TAIL = ' bytes to fit the event size limit]'
/** Bytes of the marker without its number (the ellipsis is 3 bytes of UTF-8, the rest ASCII). */
const MARKER_FIXED = Buffer.byteLength(MARKER_HEAD) + MARKER_TAIL.length

// eslint-disable-next-line no-control-regex -- control characters are exactly what JSON escapes
const CONTROL = /[\u0000-\u001f]/

export function marker (removedBytes: number): string {
  return `${MARKER_HEAD}${removedBytes}${MARKER_TAIL}`
}

/**
 * The most bytes a cut string's marker can take: the number it carries is at most the string's
 * UTF-8 length, which is at most its JSON length, so that length's digits bound the marker.
 */
export function markerBound (jsonBytes: number): number {
  return MARKER_FIXED + String(jsonBytes).length
}

/** Bytes `s` takes between its quotes in JSON.stringify output. */
export function jsonBytes (s: string): number {
  // JSON.stringify escapes quotes, backslashes, control characters and lone surrogates (as
  // \udxxx); strings without any, nearly all of them, take the native byte count. The checks are
  // ordered cheapest first: indexOf and isWellFormed run at memory speed, the regex does not.
  if ((s as unknown as WellFormed).isWellFormed() && !CONTROL.test(s)) {
    // Then only quotes and backslashes are escaped, one byte each on top of the UTF-8: counted
    // with indexOf (native) instead of walking a prompt of megabytes in a JS loop, which held the
    // event loop for milliseconds per prose prompt (quotes in text are the rule, not the exception).
    return Buffer.byteLength(s) + occurrences(s, '"') + occurrences(s, '\\')
  }
  // Counted rather than serialised: escaping can make a copy six times the string's size.
  return scan(s, Infinity).bytes
}

function occurrences (s: string, ch: string): number {
  let n = 0
  for (let i = s.indexOf(ch); i >= 0; i = s.indexOf(ch, i + 1)) n++
  return n
}

/** ES2024, present from Node 20 (engines: >= 20.19); our TypeScript lib is ES2022. */
interface WellFormed { isWellFormed: () => boolean }

/**
 * The cut form of `s`: its longest prefix whose JSON text fits `capBytes` (never splitting a
 * surrogate pair), then the marker counting the UTF-8 bytes removed.
 */
export function cutString (s: string, capBytes: number): string {
  const kept = s.slice(0, scan(s, capBytes).end)
  return kept + marker(Buffer.byteLength(s) - Buffer.byteLength(kept))
}

/** Walks `s` as JSON.stringify writes it, up to `capBytes`: where it stopped and the bytes so far. */
function scan (s: string, capBytes: number): { end: number, bytes: number } {
  let bytes = 0
  let i = 0
  while (i < s.length) {
    const c = s.charCodeAt(i)
    let units = 1
    let w: number
    if (c < 0x20) w = c === 8 || c === 9 || c === 10 || c === 12 || c === 13 ? 2 : 6
    else if (c === 0x22 || c === 0x5c) w = 2
    else if (c < 0x80) w = 1
    else if (c < 0x800) w = 2
    else if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0
      if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) { w = 4; units = 2 } else w = 6
    } else w = 3
    if (bytes + w > capBytes) break
    bytes += w
    i += units
  }
  return { end: i, bytes }
}
