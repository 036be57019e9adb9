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

/** Membership in a \x1f-delimited set column (store_rollups.ts). */
export function inSet (column: string): string {
  return `instr(${column}, char(31) || ? || char(31)) > 0`
}

export function setMembers (v: unknown): string[] {
  return typeof v === 'string' && v !== '' ? v.split('\x1f').filter((x) => x !== '') : []
}

/** Matches a stored JSON evaluation value against a query string (categorical text or number/boolean). */
export const EVAL_VALUE = "(CASE WHEN json_type(e.value) = 'text' THEN json_extract(e.value, '$') ELSE e.value END) = ?"
