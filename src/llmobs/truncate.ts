import type { LlmobsSpanEvent } from './event.js'

/**
 * Makes an oversized event fit (DESIGN §3.5): the references drop all input/output; we cut the
 * longest input/output strings first, each ending with a marker saying how much was cut, and
 * keep everything else. Returns whether anything was truncated.
 */
export function truncateToFit (event: LlmobsSpanEvent, limitBytes: number): boolean {
  if (!mayExceed(event, limitBytes)) return false
  let size = Buffer.byteLength(JSON.stringify(event))
  if (size <= limitBytes) return false

  const slots = collectIOStrings(event)
  slots.sort((a, b) => b.get().length - a.get().length)
  for (const slot of slots) {
    if (size <= limitBytes) break
    const text = slot.get()
    // Cut the excess plus room for the marker from this string (at least all of it but the marker).
    const excess = size - limitBytes
    const keepBytes = Math.max(0, Buffer.byteLength(text) - excess - 96)
    const kept = prefixWithinBytes(text, keepBytes)
    const removed = Buffer.byteLength(text) - Buffer.byteLength(kept)
    slot.set(`${kept}…[truncated ${removed} bytes to fit the event size limit]`)
    size = Buffer.byteLength(JSON.stringify(event))
  }
  if (size > limitBytes) {
    // Input/output alone could not make room: the remaining bulk is metadata or tool definitions.
    if (event.meta.metadata !== undefined) event.meta.metadata = { _truncated: `metadata removed to fit the event size limit` }
    if (event.meta.tool_definitions !== undefined) event.meta.tool_definitions = []
  }
  const errors = event.collection_errors ?? (event.collection_errors = [])
  if (!errors.includes('truncated_io')) errors.push('truncated_io')
  return true
}

interface Slot { get: () => string, set: (v: string) => void }

function collectIOStrings (event: LlmobsSpanEvent): Slot[] {
  const slots: Slot[] = []
  for (const io of [event.meta.input, event.meta.output]) {
    if (io === undefined) continue
    if ('value' in io) slots.push({ get: () => io.value, set: (v) => { io.value = v } })
    if ('messages' in io) {
      for (const m of io.messages) {
        slots.push({ get: () => m.content, set: (v) => { m.content = v } })
        for (const r of m.tool_results ?? []) slots.push({ get: () => r.result, set: (v) => { r.result = v } })
      }
    }
    if ('documents' in io) for (const d of io.documents) slots.push({ get: () => d.text, set: (v) => { d.text = v } })
  }
  return slots
}

/** A cheap upper bound so ordinary events never pay for a serialisation here. */
export function mayExceed (event: LlmobsSpanEvent, limitBytes: number): boolean {
  // A UTF-16 unit is at most 6 bytes of JSON (\uXXXX); 64 KiB covers the fixed fields.
  return stringUnits(event, 0) * 6 + 65536 > limitBytes
}

function stringUnits (v: unknown, depth: number): number {
  if (typeof v === 'string') return v.length
  if (v === null || typeof v !== 'object' || depth > 70) return 8
  let n = 0
  if (Array.isArray(v)) {
    for (const x of v) n += stringUnits(x, depth + 1) + 1
  } else {
    for (const k in v) n += k.length + stringUnits((v as Record<string, unknown>)[k], depth + 1) + 2
  }
  return n
}

/** The longest prefix of `s` whose UTF-8 encoding fits `maxBytes`, never splitting a surrogate pair. */
function prefixWithinBytes (s: string, maxBytes: number): string {
  if (maxBytes <= 0) return ''
  let bytes = 0
  let i = 0
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i)
    let w = c < 0x80 ? 1 : c < 0x800 ? 2 : 3
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) w = 4
    if (bytes + w > maxBytes) break
    bytes += w
    if (w === 4) i++
  }
  return s.slice(0, i)
}
