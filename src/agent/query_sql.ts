import { invalid } from './json_checks.js'
import type { Order } from './query_params.js'
import type { SqliteDatabase, SqliteNamed, SqliteParam, SqliteStatement } from './sqlite.js'

/** A WHERE clause built from filters, with named parameters (never values spliced into SQL). */
export class Where {
  readonly parts: string[] = []
  readonly params: SqliteNamed = {}
  private n = 0

  /** Adds `sql`, where each `?` stands for the next of `values`. */
  add (sql: string, ...values: SqliteParam[]): this {
    let i = 0
    this.parts.push(sql.replace(/\?/g, () => {
      const name = `p${this.n++}`
      this.params[name] = values[i++]
      return `@${name}`
    }))
    return this
  }

  sql (): string {
    return this.parts.length === 0 ? '' : 'WHERE ' + this.parts.join(' AND ')
  }

  copy (): Where {
    const w = new Where()
    w.parts.push(...this.parts)
    Object.assign(w.params, this.params)
    w.n = this.n
    return w
  }
}

/**
 * Keyset pagination on (sort column, tie-breakers...): rows strictly after the previous page's
 * last key in the listing's order, so equal sort values never repeat or skip a row.
 */
export function keyset (where: Where, columns: readonly string[], order: Order, key: SqliteParam[]): void {
  where.add(`(${columns.join(', ')}) ${order === 'desc' ? '<' : '>'} (${columns.map(() => '?').join(', ')})`, ...key)
}

export function orderBy (columns: readonly string[], order: Order): string {
  return 'ORDER BY ' + columns.map((c) => `${c} ${order === 'desc' ? 'DESC' : 'ASC'}`).join(', ')
}

/** Prepared statements by SQL text: the lists build a few dozen distinct shapes at most. */
export class StatementCache {
  private readonly cache = new Map<string, SqliteStatement>()
  constructor (private readonly db: SqliteDatabase) {}

  get (sql: string): SqliteStatement {
    let st = this.cache.get(sql)
    if (st === undefined) {
      if (this.cache.size > 500) this.cache.clear()
      st = this.db.prepare(sql)
      this.cache.set(sql, st)
    }
    return st
  }
}

/**
 * Checks a full-text query against FTS5's syntax (words, "phrase", prefix*, AND/OR/NOT, NEAR)
 * by running it once: a syntax error becomes a 400 instead of a 500 mid-listing.
 */
export function checkFtsQuery (cache: StatementCache, q: string): string {
  if (q.length > 1000) invalid('"q" must be at most 1000 characters')
  const fts = ftsQuery(q)
  try {
    cache.get('SELECT rowid FROM llmobs_fts WHERE llmobs_fts MATCH ? LIMIT 1').get(fts)
  } catch (err) {
    invalid(`"q" is not a valid full-text query (words, "a phrase", prefix*, AND/OR/NOT, parentheses): ${err instanceof Error ? err.message : String(err)}`)
  }
  return fts
}

const BAREWORD = /^[\p{L}\p{N}_]+\*?$/u
const OPERATORS = new Set(['AND', 'OR', 'NOT'])

/**
 * What people type, as FTS5 syntax: a term with characters FTS5 barewords cannot hold
 * (`gpt-4o`, `user@example.com`, `a.b`) is quoted, so it means its words in sequence instead of
 * a column filter or a syntax error. Quoted phrases, operators, parentheses and `prefix*` pass.
 */
export function ftsQuery (q: string): string {
  const out: string[] = []
  let i = 0
  while (i < q.length) {
    const c = q[i]
    if (/\s/.test(c)) { i++; continue }
    if (c === '(' || c === ')') { out.push(c); i++; continue }
    if (c === '"') {
      const end = q.indexOf('"', i + 1)
      // Unterminated: left as typed, for FTS5 to refuse with its reason.
      const stop = end < 0 ? q.length : end + 1
      let token = q.slice(i, stop)
      if (q[stop] === '*') { token += '*'; i = stop + 1 } else i = stop
      out.push(token)
      continue
    }
    let j = i
    while (j < q.length && !/[\s()"]/.test(q[j])) j++
    const word = q.slice(i, j)
    i = j
    if (OPERATORS.has(word) || BAREWORD.test(word) || word.startsWith('NEAR')) { out.push(word); continue }
    const prefix = word.endsWith('*')
    out.push(`"${(prefix ? word.slice(0, -1) : word).replaceAll('"', '""')}"${prefix ? '*' : ''}`)
  }
  return out.join(' ')
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/**
 * An FTS5 snippet made from \x01...\x02 markers as HTML: everything escaped, the markers (and
 * only they) turned into <mark>. The indexed text never carries the markers (span_derive.ts).
 */
export function snippetHtml (raw: string): string {
  return raw.replace(/[&<>"']/g, (c) => ESCAPES[c]).replaceAll('\x01', '<mark>').replaceAll('\x02', '</mark>')
}

/**
 * The snippet of one matching row. With SQLite 3.53's FTS5, `MATCH ? AND rowid = ?` ignores the
 * bound rowid (every match comes back); `rowid = CAST(? AS INTEGER)` is honoured.
 */
export const SNIPPET_OF_ROW = 'MATCH ? AND rowid = CAST(? AS INTEGER)'

export const SNIPPET = "snippet(llmobs_fts, 0, char(1), char(2), '…', 16)"

/**
 * How a listing with `q` finds its rows. FTS5 returns matches in rowid order, never in the
 * listing's order, so there are two ways: list every match then sort them (cheap when there
 * are few), or walk the listing's index in its order and check each candidate against the
 * full-text index by rowid (cheap when matches are common: about limit / (matches per row)
 * checks). Past this many matches the second wins: at worst (the matches just over this count
 * in a store of N rows) a page of L rows checks about L * N / FTS_SPARSE candidates, while
 * listing a common word's matches (half of a million-span store) would sort them all.
 */
export const FTS_SPARSE = 20_000

/** Prefix terms expanded to at most this many indexed words; past it, matches are listed. */
const MAX_EXPANSION = 16

export interface FtsPlan {
  /** List every match, then sort (few matches, or a query that cannot be checked row by row cheaply). */
  sparse: boolean
  /** The query to run: `q`, or `q` with its prefix terms spelled out as the words they match. */
  q: string
}

/**
 * How to run a checked FTS5 query `q` in a listing. A prefix term (`warrant*`) checked against
 * one rowid makes FTS5 merge the whole doclist of every word with that prefix, each time (2 ms
 * a check at 40k spans, growing with the store): so for the row-by-row walk a prefix term
 * becomes the OR of the words it matches in the index (fts5vocab), which FTS5 checks by seeking.
 * It matches the same rows; a snippet may pick another fragment when several words match.
 */
export function ftsPlan (cache: StatementCache, q: string): FtsPlan {
  const r = cache.get(`SELECT COUNT(*) AS n FROM (SELECT 1 FROM llmobs_fts WHERE llmobs_fts MATCH ? LIMIT ${FTS_SPARSE})`).get(q) as { n: number }
  if (r.n < FTS_SPARSE) return { sparse: true, q }
  const expanded = expandPrefixes(cache, q)
  return expanded === null ? { sparse: true, q } : { sparse: false, q: expanded }
}

/** `q` with each bareword prefix term replaced by the OR of its words; null when one cannot be. */
function expandPrefixes (cache: StatementCache, q: string): string | null {
  const out: string[] = []
  let i = 0
  while (i < q.length) {
    if (q[i] === '"') {
      const end = q.indexOf('"', i + 1)
      const stop = end < 0 ? q.length : end + 1
      // A phrase prefix ("a b"*) has no word list to spell out.
      if (q[stop] === '*') return null
      out.push(q.slice(i, stop))
      i = stop
      continue
    }
    let j = i
    while (j < q.length && q[j] !== '"') j++
    for (const part of q.slice(i, j).split(/(\s+|[()])/)) {
      if (part.startsWith('NEAR')) return null
      if (!part.endsWith('*') || part.length < 2) { out.push(part); continue }
      const words = prefixWords(cache, part.slice(0, -1))
      if (words === null) return null
      out.push(`(${words.map((w) => `"${w.replaceAll('"', '""')}"`).join(' OR ')})`)
    }
    i = j
  }
  return out.join('')
}

/** The indexed words starting with `prefix` (ASCII only: others fold differently), at most MAX_EXPANSION. */
function prefixWords (cache: StatementCache, prefix: string): string[] | null {
  if (!/^[A-Za-z0-9_]+$/.test(prefix)) return null
  const lower = prefix.toLowerCase()
  const rows = cache.get(`SELECT term FROM llmobs_fts_vocab WHERE term >= ? ORDER BY term LIMIT ${MAX_EXPANSION + 1}`).all(lower) as Array<{ term: string }>
  const words = rows.map((r) => r.term).filter((t) => t.startsWith(lower))
  if (words.length > MAX_EXPANSION) return null
  // No word has the prefix: a word that cannot occur keeps the query valid and matching nothing.
  return words.length === 0 ? [lower + '\x00'] : words
}

/**
 * Whether span row `idColumn` matches the bound query, by rowid. `CAST(... AS INTEGER)`: see
 * SNIPPET_OF_ROW (FTS5 of SQLite 3.53 ignores a rowid constraint it cannot see as an integer).
 */
export function ftsRowMatches (idColumn: string): string {
  return `EXISTS (SELECT 1 FROM llmobs_fts WHERE llmobs_fts MATCH ? AND llmobs_fts.rowid = CAST(${idColumn} AS INTEGER))`
}

/** Membership in a \x1f-delimited set column (store_rollups.ts). */
export function inSet (column: string): string {
  return `instr(${column}, char(31) || ? || char(31)) > 0`
}

export function setMembers (v: unknown): string[] {
  return typeof v === 'string' && v !== '' ? v.split('\x1f').filter((x) => x !== '') : []
}

/** Matches a stored JSON evaluation value against a query string (categorical text or number/boolean). */
export const EVAL_VALUE = "(CASE WHEN json_type(e.value) = 'text' THEN json_extract(e.value, '$') ELSE e.value END) = ?"
