import { invalid } from './json_checks.js'

/**
 * Parameters shared by the query API's lists (limit, cursor, since/until, sort, order), parsed
 * strictly: anything malformed throws InvalidInput naming the parameter and the valid form
 * (answered 400 by `validate`).
 */
export const DEFAULT_LIMIT = 100
/** 1000, not less: the list callers before v2 (the UI, tests, tools) ask for `limit=1000`. */
export const LIMIT_CAP = 1000
/** Totals are counted up to this many rows; past it a list says `more` instead of a total. */
export const TOTAL_CAP = 10_000

export type Order = 'asc' | 'desc'

export interface ListParams {
  limit: number
  sort: string
  order: Order
  /** The sort key of the last row of the previous page (values as the cursor carried them). */
  after: unknown[] | undefined
  /** Span start range, ns since the epoch: since inclusive, until exclusive. */
  since: bigint | undefined
  until: bigint | undefined
}

export const COMMON_PARAMS = ['limit', 'cursor', 'since', 'until', 'sort', 'order']

/** Refuses parameters a list does not know: a typo ("stauts") would otherwise silently match everything. */
export function checkKnown (url: URL, known: readonly string[]): void {
  for (const name of url.searchParams.keys()) {
    if (!known.includes(name)) invalid(`unknown parameter "${name.slice(0, 64)}" (this endpoint takes ${known.join(', ')})`)
  }
}

export function param (url: URL, name: string): string | undefined {
  const v = url.searchParams.get(name)
  return v === null || v === '' ? undefined : v
}

/** `sorts[0]` is the default sort. `list` names the listing in cursors. */
export function listParams (url: URL, list: string, sorts: readonly string[]): ListParams {
  const limit = limitOf(url)
  const sort = param(url, 'sort') ?? sorts[0]
  if (!sorts.includes(sort)) invalid(`"sort" must be one of ${sorts.join(', ')}, got ${show(sort)}`)
  const orderRaw = param(url, 'order') ?? 'desc'
  if (orderRaw !== 'asc' && orderRaw !== 'desc') invalid(`"order" must be asc or desc, got ${show(orderRaw)}`)
  const order: Order = orderRaw
  const since = timeOf(url, 'since')
  const until = timeOf(url, 'until')
  if (since !== undefined && until !== undefined && since >= until) invalid('"since" must be before "until"')
  const raw = param(url, 'cursor')
  const after = raw === undefined ? undefined : decodeCursor(raw, list, sort, order)
  return { limit, sort, order, after, since, until }
}

function limitOf (url: URL): number {
  const raw = param(url, 'limit')
  if (raw === undefined) return DEFAULT_LIMIT
  if (!/^[0-9]{1,12}$/.test(raw) || Number(raw) < 1) invalid(`"limit" must be a positive integer, got ${show(raw)}`)
  return Math.min(Number(raw), LIMIT_CAP)
}

const ISO = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/

/** ISO-8601 date(-time) or epoch milliseconds, as ns since the epoch. */
export function timeOf (url: URL, name: string): bigint | undefined {
  const raw = param(url, name)
  if (raw === undefined) return undefined
  let ms: number
  if (/^[0-9]{1,15}$/.test(raw)) ms = Number(raw)
  else if (ISO.test(raw)) ms = Date.parse(raw)
  else ms = NaN
  if (!Number.isFinite(ms)) invalid(`"${name}" must be an ISO-8601 date-time (2026-01-31T12:00:00Z) or epoch milliseconds, got ${show(raw)}`)
  return BigInt(Math.trunc(ms)) * 1_000_000n
}

/** An opaque cursor: base64url of JSON naming the listing, its sort and order, and the last key. */
export function encodeCursor (list: string, sort: string, order: Order, key: unknown[]): string {
  return Buffer.from(JSON.stringify({ l: list, s: sort, o: order, k: key })).toString('base64url')
}

function decodeCursor (raw: string, list: string, sort: string, order: Order): unknown[] {
  let doc: unknown
  try {
    if (!/^[A-Za-z0-9_-]{1,4096}$/.test(raw)) throw new Error('not base64url')
    doc = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'))
  } catch {
    return invalid('"cursor" is not a cursor this agent gave out (pass next_cursor of the previous page unchanged)')
  }
  const c = doc as { l?: unknown, s?: unknown, o?: unknown, k?: unknown }
  if (doc === null || typeof doc !== 'object' || !Array.isArray(c.k) || !c.k.every((v) => typeof v === 'string' || typeof v === 'number')) {
    return invalid('"cursor" is not a cursor this agent gave out (pass next_cursor of the previous page unchanged)')
  }
  if (c.l !== list || c.s !== sort || c.o !== order) {
    return invalid(`"cursor" belongs to another listing or sort (${String(c.l)} sort=${String(c.s)} order=${String(c.o)}); this is ${list} sort=${sort} order=${order}`)
  }
  return c.k
}

export function show (s: string): string {
  return JSON.stringify(s.slice(0, 64))
}

/** A key value of an int64 column in a cursor: its exact decimal text. */
export function int64Key (v: unknown, what: string): bigint {
  if (typeof v === 'string' && /^-?[0-9]{1,19}$/.test(v)) return BigInt(v)
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v)
  return invalid(`"cursor" is damaged (${what})`)
}
