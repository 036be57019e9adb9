/**
 * Wall-clock anchored monotonic time. Spans measure durations with the monotonic clock (immune
 * to NTP steps) and place their start on the epoch through one anchor taken at load.
 *
 * Epoch nanoseconds (~1.8e18) exceed 2^53, so they are handled as (sec, nsec) pairs and turned
 * into exact uint32 halves for int64 encoding without BigInt on the hot path.
 */
const ORIGIN_MS = performance.timeOrigin
const ORIGIN_SEC = Math.floor(ORIGIN_MS / 1000)
const ORIGIN_NSEC = Math.round((ORIGIN_MS - ORIGIN_SEC * 1000) * 1e6)

/** Monotonic nanoseconds since the process time origin (exact well past a year of uptime). */
export function monotonicNs (): number {
  return Math.round(performance.now() * 1e6)
}

/** Epoch seconds for a monotonic reading. */
export function epochSecOf (monoNs: number): number {
  return ORIGIN_SEC + Math.floor((ORIGIN_NSEC + monoNs) / 1e9)
}

/** Nanoseconds within the epoch second for a monotonic reading. */
export function epochNsecOf (monoNs: number): number {
  const total = ORIGIN_NSEC + monoNs
  return total - Math.floor(total / 1e9) * 1e9
}

/** Monotonic reading that corresponds to a user-supplied epoch time in milliseconds. */
export function monotonicFromEpochMs (epochMs: number): number {
  return Math.round((epochMs - ORIGIN_MS) * 1e6)
}

// 1e9 = 512 * 1953125: sec * 1953125 stays below 2^52 for any sec < 2^31, so every step is exact.
const TWO_32 = 4294967296
const TWO_23 = 8388608

/** High 32 bits of sec * 1e9 + nsec as an unsigned 64-bit integer. */
export function epochNsHigh (sec: number, nsec: number): number {
  const a = sec * 1953125
  const aHi = Math.floor(a / TWO_23)
  const sum = (a - aHi * TWO_23) * 512 + nsec
  return aHi + Math.floor(sum / TWO_32)
}

/** Low 32 bits of sec * 1e9 + nsec as an unsigned 64-bit integer. */
export function epochNsLow (sec: number, nsec: number): number {
  const a = sec * 1953125
  const aHi = Math.floor(a / TWO_23)
  const sum = (a - aHi * TWO_23) * 512 + nsec
  return sum - Math.floor(sum / TWO_32) * TWO_32
}

/**
 * Exact epoch nanoseconds as a decimal string (every LLMObs event's start_ns). With nsec inside
 * its second the digits are sec's followed by nsec padded to nine, no BigInt needed.
 */
export function epochNsString (sec: number, nsec: number): string {
  if (sec > 0 && Number.isInteger(sec) && Number.isInteger(nsec) && nsec >= 0 && nsec < 1e9) {
    return String(sec) + String(nsec + 1e9).slice(1)
  }
  return (BigInt(sec) * 1000000000n + BigInt(nsec)).toString()
}
