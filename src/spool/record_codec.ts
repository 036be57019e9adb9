import { crc32 } from 'node:zlib'

/**
 * The spool's on-disk record: `[u32 length][u32 crc32 of the body][body]`, little-endian, the
 * body starting with its type. A segment is a run of these, appended only.
 *
 * - append  `[1][u8 kind][u32 seq][event JSON, UTF-8]`: an event, exactly as the writer sends it
 * - release `[2][u32 seq]...`: those events' fates are settled (delivered or dropped)
 * - append batch `[3]` then entries `[u8 kind][u32 seq][u32 n][n bytes of event JSON]`: the
 *   appends of one event-loop turn (what the spool writes; a torn batch loses only that turn,
 *   which was not durable yet)
 *
 * Releases go to the segment that holds the appends they settle, so a segment is read alone:
 * what it appended minus what it released is what a replay owes.
 */
export const HEADER_BYTES = 8
const APPEND = 1
const RELEASE = 2
export const APPEND_BATCH = 3
/** kind, seq, byte length. */
export const BATCH_ENTRY_HEAD = 9
/** Larger than any event (1 MiB) or release batch can be: a bigger length is damage, not data. */
export const MAX_BODY_BYTES = 16 * 1024 * 1024

export type EventKind = 'span' | 'eval'

export function kindByte (kind: EventKind): number { return kind === 'span' ? 0 : 1 }

export function encodeAppend (seq: number, kind: EventKind, json: string): Buffer {
  const jsonBytes = Buffer.byteLength(json)
  const buf = Buffer.allocUnsafe(HEADER_BYTES + 6 + jsonBytes)
  buf[HEADER_BYTES] = APPEND
  buf[HEADER_BYTES + 1] = kindByte(kind)
  buf.writeUInt32LE(seq, HEADER_BYTES + 2)
  buf.write(json, HEADER_BYTES + 6, 'utf8')
  return seal(buf)
}

export function encodeRelease (seqs: readonly number[]): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_BYTES + 1 + 4 * seqs.length)
  buf[HEADER_BYTES] = RELEASE
  for (let i = 0; i < seqs.length; i++) buf.writeUInt32LE(seqs[i], HEADER_BYTES + 1 + 4 * i)
  return seal(buf)
}

function seal (buf: Buffer): Buffer {
  const body = buf.subarray(HEADER_BYTES)
  buf.writeUInt32LE(body.length, 0)
  buf.writeUInt32LE(crc32(body), 4)
  return buf
}

export interface Unsettled { seq: number, kind: EventKind, json: string }

export interface DecodedSegment {
  /** Appended and not released, in append order. */
  unsettled: Unsettled[]
  /** Bytes up to the end of the last good record: where a damaged segment is cut. */
  goodBytes: number
  /**
   * `torn`: the last record is incomplete or fails its checksum with nothing after it (a write
   * cut short by a crash). `corrupt`: a bad record with data after it, which no crash of an
   * append-only writer produces (a flipped byte, an overwrite): everything after it is lost.
   */
  damage: 'none' | 'torn' | 'corrupt'
}

export function decodeSegment (buf: Buffer): DecodedSegment {
  const appended = new Map<number, Unsettled>()
  let pos = 0
  let damage: DecodedSegment['damage'] = 'none'
  while (pos < buf.length) {
    const problem = readRecord(buf, pos, appended)
    if (problem === undefined) {
      pos += HEADER_BYTES + buf.readUInt32LE(pos)
      continue
    }
    damage = problem === 'short' || onlyZeros(buf, pos) || problem.end >= buf.length ? 'torn' : 'corrupt'
    break
  }
  return { unsettled: [...appended.values()], goodBytes: pos, damage }
}

/** undefined when the record at `pos` is good (and applied); else where the bad one ends. */
function readRecord (buf: Buffer, pos: number, appended: Map<number, Unsettled>): 'short' | { end: number } | undefined {
  if (buf.length - pos < HEADER_BYTES) return 'short'
  const len = buf.readUInt32LE(pos)
  if (len < 1 || len > MAX_BODY_BYTES) return { end: pos + HEADER_BYTES }
  const end = pos + HEADER_BYTES + len
  if (end > buf.length) return 'short'
  const body = buf.subarray(pos + HEADER_BYTES, end)
  if (crc32(body) !== buf.readUInt32LE(pos + 4)) return { end }
  if (body[0] === APPEND && len >= 6) {
    const seq = body.readUInt32LE(2)
    appended.set(seq, { seq, kind: body[1] === 0 ? 'span' : 'eval', json: body.toString('utf8', 6) })
    return undefined
  }
  if (body[0] === APPEND_BATCH) {
    readBatch(body, appended)
    return undefined
  }
  if (body[0] === RELEASE && (len - 1) % 4 === 0) {
    for (let i = 1; i < len; i += 4) appended.delete(body.readUInt32LE(i))
    return undefined
  }
  // A checksummed record of a type we do not know: written by a newer version; skip it.
  return undefined
}

/** Entries of a batch whose checksum held; one that overruns it (a bug, not damage) ends the read. */
function readBatch (body: Buffer, appended: Map<number, Unsettled>): void {
  let at = 1
  while (at + BATCH_ENTRY_HEAD <= body.length) {
    const seq = body.readUInt32LE(at + 1)
    const n = body.readUInt32LE(at + 5)
    const from = at + BATCH_ENTRY_HEAD
    if (from + n > body.length) return
    appended.set(seq, { seq, kind: body[at] === 0 ? 'span' : 'eval', json: body.toString('utf8', from, from + n) })
    at = from + n
  }
}

/** A file system may leave a preallocated, zero-filled tail after a power loss. */
function onlyZeros (buf: Buffer, from: number): boolean {
  for (let i = from; i < buf.length; i++) if (buf[i] !== 0) return false
  return true
}
