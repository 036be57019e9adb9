/**
 * Strings recently made by joining a long part and a short one (a cut prompt and its marker),
 * remembered with their parts so an encoder can write the parts one after the other. Writing
 * the joined string itself makes V8 flatten it first: a copy of the whole, and as two-byte text
 * when the short part is not Latin-1 (the marker's ellipsis), which then encodes slower too.
 *
 * Found by identity: the encoder is handed the very string the cut produced. A few entries, each
 * given up once used or pushed out by newer ones, so at most that many strings are kept alive
 * past their event.
 */
export interface JoinedString { text: string, head: string, tail: string, utf8Bytes: number }

/** Joins shorter than this are written as they are: the flatten costs less than a lookup. */
export const JOINED_MIN_UNITS = 64 * 1024
const SLOTS = 4
const slots: Array<JoinedString | undefined> = new Array<JoinedString | undefined>(SLOTS).fill(undefined)
let nextSlot = 0

export function rememberJoined (entry: JoinedString): void {
  if (entry.text.length < JOINED_MIN_UNITS) return
  slots[nextSlot] = entry
  nextSlot = (nextSlot + 1) % SLOTS
}

/** The parts of `s` if it is a remembered join, forgetting it. */
export function takeJoined (s: string): JoinedString | undefined {
  for (let i = 0; i < SLOTS; i++) {
    const e = slots[i]
    // Lengths first: `===` between two long strings of equal length may compare their contents.
    if (e !== undefined && e.text.length === s.length && e.text === s) {
      slots[i] = undefined
      return e
    }
  }
  return undefined
}
