/**
 * Remembers the msgpack encoding of strings that repeat from span to span (tag keys and values,
 * service and operation names), so the writer can copy them natively: a hit costs about as much
 * as copying 10 chars by hand, whatever the length.
 *
 * A miss costs far more than it saves (a map insertion and a copy into the arena), so the cache
 * watches its own hit rate: over each window of lookups it must hit at least 3 times in 4, or it
 * empties itself and stays out of the way for the next ~million strings before trying again. A
 * workload of mostly unique values (URLs, queries, ids) thus pays for one window now and then,
 * not for every string. Memory is bounded by the entry count and the arena size.
 */
const MAX_ENTRIES = 2048
const ARENA_BYTES = 128 * 1024
const WINDOW = 4096
const PAUSE = 1 << 20

export class EncodedStringCache {
  private readonly entries = new Map<string, Uint8Array>()
  private arena: Uint8Array | undefined
  private arenaPos = 0
  private lookups = 0
  private hits = 0
  private paused = 0

  /** False while the cache sits out after a poor window (each call counts one string). */
  active (): boolean {
    if (this.paused === 0) return true
    this.paused--
    return false
  }

  get (s: string): Uint8Array | undefined {
    const hit = this.entries.get(s)
    if (hit !== undefined) this.hits++
    if (++this.lookups === WINDOW) this.review()
    return hit
  }

  /** Remembers `bytes[start, end)` as the encoding of `s`. */
  add (s: string, bytes: Uint8Array, start: number, end: number): void {
    const len = end - start
    const arena = this.arena ?? (this.arena = new Uint8Array(ARENA_BYTES))
    if (this.arenaPos + len > arena.length || this.entries.size >= MAX_ENTRIES) this.clear()
    arena.set(bytes.subarray(start, end), this.arenaPos)
    this.entries.set(s, arena.subarray(this.arenaPos, this.arenaPos + len))
    this.arenaPos += len
  }

  private review (): void {
    if (this.hits * 4 < this.lookups * 3) {
      this.clear()
      this.arena = undefined
      this.paused = PAUSE
    }
    this.lookups = 0
    this.hits = 0
  }

  private clear (): void {
    // Entries handed out earlier are views of the arena: they go with the map, never reused.
    this.entries.clear()
    this.arenaPos = 0
  }
}
