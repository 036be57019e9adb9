import { crc32 } from 'node:zlib'
import { APPEND_BATCH, BATCH_ENTRY_HEAD, HEADER_BYTES, kindByte, type EventKind } from './record_codec.js'

const FIRST_CAPACITY = 64 * 1024
const KEEP_CAPACITY = 4 * 1024 * 1024

/**
 * The appends of one event-loop turn to one segment, encoded as they come straight into one
 * reused buffer: one record (`[len][crc][3][entries]`, see record_codec.ts), so one checksum and
 * one write per turn instead of an allocation, a copy and a checksum per event.
 */
export class AppendBatch {
  private buf = Buffer.allocUnsafe(FIRST_CAPACITY)
  /** Bytes used; 0 while empty (the record header is reserved at the first entry). */
  private end = 0
  private lastAt = 0
  count = 0

  /** Encodes one entry; returns the bytes it added to the record (its header too, for the first). */
  add (seq: number, kind: EventKind, json: string): number {
    const before = this.end
    if (before === 0) this.end = HEADER_BYTES + 1
    // UTF-8 takes at most 3 bytes per UTF-16 unit: room for the worst case, so no byteLength scan.
    const need = this.end + BATCH_ENTRY_HEAD + json.length * 3
    if (need > this.buf.length) this.grow(need)
    const buf = this.buf
    const at = this.lastAt = this.end
    buf[at] = kindByte(kind)
    buf.writeUInt32LE(seq, at + 1)
    const n = buf.write(json, at + BATCH_ENTRY_HEAD)
    buf.writeUInt32LE(n, at + 5)
    this.end = at + BATCH_ENTRY_HEAD + n
    this.count++
    return this.end - before
  }

  /** Takes back the entry just added (it did not fit the spool's budget). */
  undoLast (): void {
    this.count--
    this.end = this.count === 0 ? 0 : this.lastAt
  }

  /**
   * The sealed record, a view of the reused buffer: valid until the next `add`, so it is
   * written (or copied) at once. Undefined when empty. Empties the batch.
   */
  seal (): Buffer | undefined {
    if (this.count === 0) return undefined
    const buf = this.buf
    buf[HEADER_BYTES] = APPEND_BATCH
    const body = buf.subarray(HEADER_BYTES, this.end)
    buf.writeUInt32LE(body.length, 0)
    buf.writeUInt32LE(crc32(body), 4)
    const out = buf.subarray(0, this.end)
    this.clear()
    return out
  }

  clear (): void {
    this.end = 0
    this.count = 0
    // A burst must not keep a large buffer for the life of the process; steady traffic keeps
    // its size (regrowing it every turn would copy each turn's appends again).
    if (this.buf.length > KEEP_CAPACITY) this.buf = Buffer.allocUnsafe(FIRST_CAPACITY)
  }

  private grow (need: number): void {
    const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2))
    this.buf.copy(next, 0, 0, this.end)
    this.buf = next
  }
}
