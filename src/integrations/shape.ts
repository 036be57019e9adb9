/**
 * Tolerant readers for provider payloads. Provider SDKs change their shapes between versions
 * and users pass hand-built objects; the integrations read what they recognise and skip the
 * rest instead of throwing.
 */
export type Rec = Record<string, unknown>

export function rec (v: unknown): Rec | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? v as Rec : undefined
}

export function str (v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined
}

export function num (v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined
}

export function list (v: unknown): unknown[] {
  return Array.isArray(v) ? v : []
}

/** Tool-call arguments arrive as JSON text; the event carries the object when it parses. */
export function parseArgs (v: unknown): unknown {
  if (typeof v !== 'string') return v ?? {}
  if (v === '') return {}
  try { return JSON.parse(v) as unknown } catch { return v }
}

/** Every defined request parameter except the ones recorded elsewhere (messages, model, tools). */
export function pickMetadata (body: Rec | undefined, exclude: ReadonlySet<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  if (body === undefined) return out
  for (const k of Object.keys(body)) {
    if (exclude.has(k)) continue
    let v: unknown
    try { v = body[k] } catch { continue } // a throwing getter is the SDK's business, not ours
    if (v === undefined || typeof v === 'function') continue
    // Signals, streams and other live objects are not request parameters worth recording.
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) !== Object.prototype) continue
    out[k] = v
  }
  return out
}

/**
 * Text of a content value that is a string or a list of parts. Text parts contribute their
 * text; other parts a short placeholder, so a multimodal message still shows what it held.
 */
export function contentText (content: unknown): string {
  if (typeof content === 'string') return content
  if (content === null || content === undefined) return ''
  if (!Array.isArray(content)) return rec(content) !== undefined ? partText(content as Rec) : String(content)
  const out: string[] = []
  for (const p of content) {
    if (typeof p === 'string') { out.push(p); continue }
    const r = rec(p)
    if (r !== undefined) {
      const t = partText(r)
      if (t !== '') out.push(t)
    }
  }
  return out.join('\n')
}

function partText (p: Rec): string {
  const text = str(p.text) ?? str(p.refusal) ?? str(p.thinking)
  if (text !== undefined) return text
  const type = str(p.type)
  return type === undefined ? '' : `[${type}]`
}

/** Classes and other functions read as property bags (static members of SDK classes). */
export function fnRec (v: unknown): Rec | undefined {
  return typeof v === 'function' ? v as unknown as Rec : undefined
}
