/**
 * Buffers for finished payload bodies. Payloads are built often (every flush, every 413 split)
 * and live until their request completes, so each gets its own memory; but a fresh ArrayBuffer
 * per small payload costs more than encoding a 10-span trace. Small payloads are therefore cut
 * from a shared slab, the way Node pools Buffer.allocUnsafe below 4 KiB: a slab is freed by the GC
 * once every payload cut from it is gone. (So a payload kept for long, e.g. waiting for a retry,
 * pins its 512 KiB slab; and `payload.buffer` is the whole slab: use byteOffset/length.)
 */
const SLAB_BYTES = 512 * 1024
/** Payloads above this get their own allocation, so a slab never holds more than a few. */
const SLAB_MAX_PAYLOAD = 64 * 1024

let slab: Buffer | undefined
let slabPos = 0

/** An uninitialised Buffer of `size` bytes that the caller owns for good. */
export function allocPayload (size: number): Buffer {
  if (size > SLAB_MAX_PAYLOAD) return Buffer.allocUnsafeSlow(size)
  if (slab === undefined || slabPos + size > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES)
    slabPos = 0
  }
  const out = slab.subarray(slabPos, slabPos + size)
  // Keep the next payload 8-byte aligned, as Node's pool does.
  slabPos = (slabPos + size + 7) & ~7
  return out
}

/** Writes an array header for `count` elements at `at`; returns the next position. */
export function putArrayHeader (buf: Buffer, at: number, count: number): number {
  if (count < 16) {
    buf[at] = 0x90 | count
    return at + 1
  }
  if (count < 0x10000) {
    buf[at] = 0xdc
    buf[at + 1] = count >>> 8
    buf[at + 2] = count & 0xff
    return at + 3
  }
  buf[at] = 0xdd
  buf.writeUInt32BE(count, at + 1)
  return at + 5
}

export function arrayHeaderSize (count: number): number {
  return count < 16 ? 1 : count < 0x10000 ? 3 : 5
}
