import { log } from '../diag/logger.js'
import { cutWithSize, jsonBytes, markerBound } from './cut_string.js'
import type { LlmobsSpanEvent } from './event.js'
import { mayExceed } from './size_gate.js'

/**
 * Makes an oversized event fit (DESIGN §3.5). Every string counts, keys included: strings
 * longer than one cap C are cut to C plus a marker, C as large as fits (water-filling), so
 * small fields stay whole and the big ones share the room equally. When strings alone cannot
 * make room the bulk is structure (huge arrays, huge key counts): containers longer than K keep
 * their first K entries, K as large as fits. Past that only the identity is kept. Identity
 * fields are never cut. The result is verified by serialising it, unless the caller vouches
 * that the event is plain JSON (`plain`: built by us from sanitised annotations, no processor
 * had it), where the walk's arithmetic is exact and a second serialisation of a megabyte would
 * only hold the event loop.
 *
 * Work is bounded by what is kept, not by what was given: a long string whose UTF-8 length alone
 * puts it above the cut level is cut without measuring its JSON (its JSON is at least that
 * long), so a 2.5 MB prompt costs one native length and the walk over the megabyte it keeps.
 */
export type TruncateOutcome = 'fits' | 'truncated' | 'too_large'

const TRUNCATED_IO = 'truncated_io'
/** Never cut, never counted as room: what the event is keyed and timed by. */
const IDENTITY = new Set(['start_ns', 'trace_id', 'span_id', 'parent_id', 'duration', 'status', '_dd'])
const META_IDENTITY = new Set(['span'])
/** Tags the intake attributes an event by: cut like any string, never dropped to make room. */
const RESERVED_TAGS = new Set(['ml_app', 'service', 'env', 'version', 'source', 'language', 'session_id', 'error', 'error_type'])
/** Messages, documents and tool calls have at most this many keys: dropping entries spares them. */
const MIN_OBJECT_ENTRIES = 8
/** Room kept for `,"collection_errors":["truncated_io"]`, added after the cut. */
const ERRORS_RESERVE = 64
/** When dropping entries, keep few enough that strings keep at least this much each. */
const MIN_USEFUL_CAP = 1024

interface Level { exempt: Set<string>, limited: boolean, root: boolean }
const ROOT: Level = { exempt: IDENTITY, limited: false, root: true }
const META: Level = { exempt: META_IDENTITY, limited: false, root: false }
const INNER: Level = { exempt: new Set(), limited: true, root: false }

export function truncateToFit (event: LlmobsSpanEvent, limitBytes: number, plain = false): TruncateOutcome {
  if (!mayExceed(event, limitBytes)) return 'fits'
  const source = event as unknown as Record<string, unknown>
  const caches: Caches = { keys: new Map(), sizes: new Map(), lower: new Map(), exact: false }
  let whole = tally(source, Infinity, caches)
  let before = whole.fixed + sum(whole.leaves)
  if (before <= limitBytes && whole.loose) {
    // Only lower bounds say it fits: measure exactly before deciding.
    caches.exact = true
    whole = tally(source, Infinity, caches)
    before = whole.fixed + sum(whole.leaves)
  }
  if (before <= limitBytes) return 'fits'
  const atLeast = whole.loose ? 'at least ' : ''
  const budget = limitBytes - ERRORS_RESERVE
  const trusted = plain && !Object.prototype.hasOwnProperty.call(source, 'collection_errors')
  let stage = 'strings'
  let done = attempt(source, whole, budget, limitBytes, trusted)
  if (done === undefined) {
    // Structure dominates: the entry search compares sizes across walks, so they must be exact.
    stage = 'entries'
    caches.exact = true
    whole = tally(source, Infinity, caches)
    const fewer = largestItems(source, whole, budget, MIN_USEFUL_CAP) ?? largestItems(source, whole, budget, 0)
    if (fewer !== undefined) done = attempt(source, fewer, budget, limitBytes, trusted)
  }
  if (done === undefined) {
    stage = 'identity'
    const skeleton = skeletonOf(source)
    done = attempt(skeleton, tally(skeleton, Infinity, caches), budget, limitBytes, trusted)
  }
  if (done === undefined) {
    log.warnOnce('llmobs.truncate.identity', `an LLM Observability event's identity fields alone exceed the ${limitBytes}-byte event size limit (an event processor made them so); the event is dropped`)
    return 'too_large'
  }
  adopt(source, done.out)
  log.warnOnce('llmobs.truncate', `an LLM Observability event of ${atLeast}${before} bytes was cut to ${done.bytes} to fit the ${limitBytes}-byte event size limit ` +
    `(${done.cuts.strings} string(s) cut, ${done.cuts.dropped} array or object entries dropped, stage: ${stage}); further truncations are counted in llmobs.stats().truncated`)
  return 'truncated'
}

/** Exact JSON.stringify size of an event-like value, without serialising it. */
export function jsonSize (value: Record<string, unknown>): number {
  const t = tally(value, Infinity, { keys: new Map(), sizes: new Map(), lower: new Map(), exact: true })
  return t.fixed + sum(t.leaves)
}

/**
 * One walk's measurements. `leaves` are the JSON bytes of the strings that could be cut. The
 * caches live for one truncation, across its walks: JSON sizes of long strings (scanning
 * megabytes again per walk would dominate) and Object.keys (on objects with many keys it costs
 * more than the rest of the walk). Long strings not measured yet count by `lower`, their UTF-8
 * length, a lower bound of their JSON size (`exact` off); a string the cut level leaves whole is
 * measured before the level is final.
 */
interface Caches { keys: Map<object, string[]>, sizes: Map<string, number>, lower: Map<string, number>, exact: boolean }
/** `loose`: some leaves are lower bounds (long strings not measured). */
interface Tally { items: number, fixed: number, leaves: number[], longest: number, caches: Caches, loose: boolean }
/** `bytes`: the JSON size of the rebuilt value, kept exact as strings are cut. */
interface Rebuild { items: number, cap: number, caches: Caches, cuts: Cuts, bytes: number }
interface Cuts { strings: number, dropped: number }
interface Done { out: Record<string, unknown>, bytes: number, cuts: Cuts }

/** Strings at least this long have their JSON size measured once per truncation. */
const LONG_STRING = 4096

function attempt (source: Record<string, unknown>, t0: Tally, budget: number, limitBytes: number, trusted: boolean): Done | undefined {
  const { t, cap } = settleLevel(source, t0, budget)
  if (cap < 0) return undefined
  const r: Rebuild = { items: t.items, cap, caches: t.caches, cuts: { strings: 0, dropped: 0 }, bytes: t.fixed + sum(t.leaves) }
  const out = rebuildObject(source, ROOT, r)
  const copy = out === source ? { ...source } : out
  const errors = copy.collection_errors
  if (!Array.isArray(errors)) copy.collection_errors = [TRUNCATED_IO]
  else if (!errors.includes(TRUNCATED_IO)) copy.collection_errors = [...errors, TRUNCATED_IO]
  // The walk's arithmetic is exact for plain JSON; for anything a processor may have put in
  // (getters, toJSON) serialising once proves it, and is what the guarantee rests on.
  const bytes = trusted ? r.bytes + ERRORS_SUFFIX_BYTES : Buffer.byteLength(JSON.stringify(copy))
  return bytes <= limitBytes ? { out: copy, bytes, cuts: r.cuts } : undefined
}

/** What `collection_errors` adds to an event that had none. */
const ERRORS_SUFFIX_BYTES = Buffer.byteLength(`,"collection_errors":["${TRUNCATED_IO}"]`)

/**
 * The cut level with every string it leaves whole measured exactly. A string counted by its
 * lower bound that still lies above the level is cut whatever its exact size (the exact size
 * is larger): only those under it are measured, and the level computed again, lower or equal.
 */
function settleLevel (source: Record<string, unknown>, t: Tally, budget: number): { t: Tally, cap: number } {
  for (;;) {
    const cap = capFor(t, budget)
    if (cap < 0 || !t.loose) return { t, cap }
    let measured = false
    for (const [s, lower] of t.caches.lower) {
      if (lower - markerBound(lower) > cap || t.caches.sizes.has(s)) continue
      t.caches.sizes.set(s, jsonBytes(s))
      measured = true
    }
    if (!measured) return { t, cap }
    t = tally(source, t.items, t.caches)
  }
}

/**
 * The walk with (nearly) the largest K, entries kept per container, that leaves every cut
 * string at least `minCap`. Each probe is a walk, so the search interpolates (sizes grow about
 * linearly with K) and stops within 1/64 of the best K rather than walking twenty times.
 */
function largestItems (source: Record<string, unknown>, whole: Tally, budget: number, minCap: number): Tally | undefined {
  let best = tally(source, 0, whole.caches)
  let lo = 0
  let needLo = need(best, minCap)
  if (needLo > budget) return undefined
  let hi = whole.longest
  let needHi = need(whole, minCap)
  let interpolate = true
  while (hi - lo > Math.max(1, lo >> 6)) {
    let mid = lo + Math.floor((hi - lo) / 2)
    if (interpolate && needHi > needLo) mid = Math.min(hi - 1, Math.max(lo + 1, lo + Math.floor((budget - needLo) / (needHi - needLo) * (hi - lo))))
    // Alternating with halving bounds the probes when sizes are far from linear.
    interpolate = !interpolate
    const t = tally(source, mid, whole.caches)
    const n = need(t, minCap)
    if (n <= budget) { lo = mid; needLo = n; best = t } else { hi = mid; needHi = n }
  }
  return best
}

/** Bytes the walk takes when every string is cut to at most `cap` plus its marker. */
function need (t: Tally, cap: number): number {
  let n = t.fixed
  for (const j of t.leaves) n += Math.min(j, cap + markerBound(j))
  return n
}

/**
 * Water-filling: the largest C such that cutting every string whose JSON exceeds C plus its
 * marker to C makes the walk fit `budget`; Infinity when nothing needs cutting, -1 when even
 * markers alone do not fit.
 */
function capFor (t: Tally, budget: number): number {
  let room = budget - t.fixed
  const excess = new Float64Array(t.leaves.length)
  for (let i = 0; i < t.leaves.length; i++) {
    const m = markerBound(t.leaves[i])
    room -= m
    excess[i] = t.leaves[i] - m
  }
  if (room < 0) return -1
  excess.sort()
  let rest = excess.length
  for (const e of excess) {
    if (e * rest > room) return Math.floor(room / rest)
    room -= e
    rest--
  }
  return Infinity
}

// Measuring and rebuilding walk the event the same way (same entries, same limits, same
// order): the rebuild cuts exactly the strings the measure counted as cut.

function tally (source: Record<string, unknown>, items: number, caches: Caches): Tally {
  const t: Tally = { items, fixed: 0, leaves: [], longest: 0, caches, loose: false }
  measureObject(source, ROOT, t)
  return t
}

function measureObject (o: Record<string, unknown>, level: Level, t: Tally): void {
  const keys = entriesOf(o, t.caches.keys)
  const n = level.limited ? Math.min(keys.length, Math.max(t.items, MIN_OBJECT_ENTRIES)) : keys.length
  if (level.limited && keys.length > t.longest) t.longest = keys.length
  t.fixed += 2 + Math.max(0, n - 1)
  for (let i = 0; i < n; i++) {
    const k = keys[i]
    measureString(k, t, 3) // quotes and colon
    const v = o[k]
    if (level.exempt.has(k)) t.fixed += exactBytes(v)
    else if (level.root && k === 'meta' && isPlainObject(v)) measureObject(v, META, t)
    else if (level.root && k === 'tags' && Array.isArray(v)) measureTags(v, t)
    else measureValue(v, t)
  }
}

function measureValue (v: unknown, t: Tally): void {
  if (typeof v === 'string') return measureString(v, t, 2)
  if (v === null || typeof v !== 'object') { t.fixed += primitiveBytes(v); return }
  if (hasToJSON(v)) { t.fixed += exactBytes(v); return }
  if (!Array.isArray(v)) return measureObject(v as Record<string, unknown>, INNER, t)
  const n = Math.min(v.length, t.items)
  if (v.length > t.longest) t.longest = v.length
  t.fixed += 2 + Math.max(0, n - 1)
  for (let i = 0; i < n; i++) measureValue(v[i], t)
}

/** Tags are "k:v" strings: key and value are cut separately so the key stays readable. */
function measureTags (tags: unknown[], t: Tally): void {
  let kept = 0
  let others = 0
  for (const tag of tags) {
    if (!isReservedTag(tag) && others++ >= t.items) continue
    kept++
    const colon = typeof tag === 'string' ? tag.indexOf(':') : -1
    if (colon < 0) { measureValue(tag, t); continue }
    measureString((tag as string).slice(0, colon), t, 3)
    measureString((tag as string).slice(colon + 1), t, 0)
  }
  if (tags.length > t.longest) t.longest = tags.length
  t.fixed += 2 + Math.max(0, kept - 1)
}

function measureString (s: string, t: Tally, around: number): void {
  const j = sizeOf(s, t.caches)
  if (s.length >= LONG_STRING && !t.caches.sizes.has(s)) t.loose = true
  t.fixed += around
  if (j > markerBound(j)) t.leaves.push(j)
  else t.fixed += j
}

function rebuildObject (o: Record<string, unknown>, level: Level, r: Rebuild): Record<string, unknown> {
  const keys = entriesOf(o, r.caches.keys)
  const n = level.limited ? Math.min(keys.length, Math.max(r.items, MIN_OBJECT_ENTRIES)) : keys.length
  let out: Record<string, unknown> | undefined
  if (n < keys.length) { out = {}; r.cuts.dropped += keys.length - n }
  for (let i = 0; i < n; i++) {
    const k = keys[i]
    const v = o[k]
    const k2 = cutIfOver(k, r)
    let v2: unknown
    if (level.exempt.has(k)) v2 = v
    else if (level.root && k === 'meta' && isPlainObject(v)) v2 = rebuildObject(v, META, r)
    else if (level.root && k === 'tags' && Array.isArray(v)) v2 = rebuildTags(v, r)
    else v2 = rebuildValue(v, r)
    if (out === undefined && (k2 !== k || v2 !== v)) {
      // Copy on write: user objects a processor handed in are never edited in place.
      out = {}
      for (let j = 0; j < i; j++) setOwn(out, keys[j], o[keys[j]])
    }
    if (out !== undefined) setOwn(out, k2, v2)
  }
  return out ?? o
}

function rebuildValue (v: unknown, r: Rebuild): unknown {
  if (typeof v === 'string') return cutIfOver(v, r)
  if (v === null || typeof v !== 'object' || hasToJSON(v)) return v
  if (!Array.isArray(v)) return rebuildObject(v as Record<string, unknown>, INNER, r)
  const n = Math.min(v.length, r.items)
  let out: unknown[] | undefined
  if (n < v.length) { out = v.slice(0, n); r.cuts.dropped += v.length - n }
  for (let i = 0; i < n; i++) {
    const x = v[i]
    const y = rebuildValue(x, r)
    if (y !== x) (out ??= v.slice(0, n))[i] = y
  }
  return out ?? v
}

function rebuildTags (tags: unknown[], r: Rebuild): unknown[] {
  const out: unknown[] = []
  let others = 0
  for (const tag of tags) {
    if (!isReservedTag(tag) && others++ >= r.items) { r.cuts.dropped++; continue }
    const colon = typeof tag === 'string' ? tag.indexOf(':') : -1
    if (colon < 0) out.push(rebuildValue(tag, r))
    else out.push(`${cutIfOver((tag as string).slice(0, colon), r)}:${cutIfOver((tag as string).slice(colon + 1), r)}`)
  }
  return out
}

function cutIfOver (s: string, r: Rebuild): string {
  // JSON takes at most 6 bytes per UTF-16 unit: most strings are dismissed without measuring.
  if (s.length * 6 - markerBound(0) <= r.cap) return s
  const j = sizeOf(s, r.caches)
  if (j - markerBound(j) <= r.cap) return s
  r.cuts.strings++
  const cut = cutWithSize(s, r.cap, s.length >= LONG_STRING ? utf8Of(s, r.caches) : undefined)
  r.bytes += cut.bytes - j
  return cut.text
}

/** JSON size of `s`; for a long string not measured yet, its lower bound unless `exact`. */
function sizeOf (s: string, caches: Caches): number {
  if (s.length < LONG_STRING) return jsonBytes(s)
  let j = caches.sizes.get(s)
  if (j !== undefined) return j
  if (!caches.exact) return utf8Of(s, caches)
  caches.sizes.set(s, j = jsonBytes(s))
  return j
}

function utf8Of (s: string, caches: Caches): number {
  let n = caches.lower.get(s)
  if (n === undefined) caches.lower.set(s, n = Buffer.byteLength(s))
  return n
}

/** The last resort: identity, name, kind, session and the reserved tags, nothing else. */
function skeletonOf (source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(source)) {
    const v = source[k]
    if (IDENTITY.has(k) || k === 'name' || k === 'session_id') out[k] = v
    else if (k === 'meta') out.meta = isPlainObject(v) && v.span !== undefined ? { span: v.span } : {}
    else if (k === 'tags') out.tags = Array.isArray(v) ? v.filter(isReservedTag) : []
    else if (k === 'metrics') out.metrics = {}
  }
  return out
}

/** Writes the cut event back into the object the caller holds (key order kept: start_ns stays first). */
function adopt (target: Record<string, unknown>, out: Record<string, unknown>): void {
  for (const k of Object.keys(target)) if (!Object.prototype.hasOwnProperty.call(out, k)) delete target[k]
  for (const k of Object.keys(out)) setOwn(target, k, out[k])
}

function isReservedTag (tag: unknown): boolean {
  if (typeof tag !== 'string') return false
  const colon = tag.indexOf(':')
  return RESERVED_TAGS.has(colon < 0 ? tag : tag.slice(0, colon))
}

/** Keys JSON.stringify writes (it skips undefined, functions and symbols), once per object. */
function entriesOf (o: Record<string, unknown>, cache: Map<object, string[]>): string[] {
  const cached = cache.get(o)
  if (cached !== undefined) return cached
  let keys = Object.keys(o)
  for (const k of keys) {
    if (!isSerializable(o[k])) { keys = keys.filter((x) => isSerializable(o[x])); break }
  }
  // Only objects worth it: a cache entry per message would cost more than it saves.
  if (keys.length > 64) cache.set(o, keys)
  return keys
}

function isSerializable (v: unknown): boolean {
  return v !== undefined && typeof v !== 'function' && typeof v !== 'symbol'
}

function primitiveBytes (v: unknown): number {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v).length : 4
  if (typeof v === 'boolean') return v ? 4 : 5
  if (typeof v === 'bigint') return exactBytes(v) // throws, as serialising would
  return 4 // null; undefined, functions and symbols become null inside arrays
}

function exactBytes (v: unknown): number {
  const json = JSON.stringify(v)
  return json === undefined ? 4 : Buffer.byteLength(json)
}

function hasToJSON (v: object): boolean {
  return typeof (v as { toJSON?: unknown }).toJSON === 'function'
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !hasToJSON(v)
}

/** `__proto__` as a key must become an own property, as JSON.parse makes it. */
function setOwn (o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true })
  else o[k] = v
}

function sum (xs: number[]): number {
  let n = 0
  for (const x of xs) n += x
  return n
}
