import { createRequire } from 'node:module'

/**
 * The slice of better-sqlite3 the store uses, typed here because the package ships no types
 * (and @types/better-sqlite3 is not a dependency). Loaded lazily with `require`, so importing
 * `llmobs-ts` never loads the native addon (nor needs it installed) unless a local agent is started.
 */
export interface SqliteRunResult {
  changes: number
  lastInsertRowid: number | bigint
}

export type SqliteParam = string | number | bigint | null | Buffer
/** Named parameters (`@name` in SQL). */
export type SqliteNamed = Record<string, SqliteParam>

export interface SqliteStatement {
  run (...params: Array<SqliteParam | SqliteNamed>): SqliteRunResult
  get (...params: Array<SqliteParam | SqliteNamed>): unknown
  all (...params: Array<SqliteParam | SqliteNamed>): unknown[]
}

export interface SqliteDatabase {
  readonly open: boolean
  prepare (sql: string): SqliteStatement
  exec (sql: string): unknown
  pragma (source: string, options?: { simple?: boolean }): unknown
  /** Wraps `fn` in BEGIN/COMMIT; a throw inside rolls back and rethrows. */
  transaction<A extends unknown[], R> (fn: (...args: A) => R): (...args: A) => R
  close (): unknown
}

type DatabaseConstructor = new (filename: string, options?: { timeout?: number }) => SqliteDatabase

let ctor: DatabaseConstructor | undefined

/** The range the store is written and tested against; what the error tells users to install. */
export const SQLITE_PACKAGE = 'better-sqlite3@^12'

/**
 * better-sqlite3 is an optional peer dependency: tracer-only users never install (and compile)
 * a native addon. `startAgent()` rejects with this, and the CLI prints its message.
 */
export class MissingSqliteError extends Error {
  readonly code = 'ERR_LLMOBS_SQLITE_MISSING'
  constructor (cause: unknown) {
    super(`the local agent stores its data with better-sqlite3, an optional peer dependency of llmobs-ts that is not installed; install it: npm install ${SQLITE_PACKAGE}`, { cause })
    this.name = 'MissingSqliteError'
  }
}

export function openDatabase (filename: string): SqliteDatabase {
  if (ctor === undefined) {
    const require = createRequire(import.meta.url)
    try {
      ctor = require('better-sqlite3') as DatabaseConstructor
    } catch (err) {
      // Only the package itself missing: a broken native build has its own, more useful message.
      if (isMissing(err, 'better-sqlite3')) throw new MissingSqliteError(err)
      throw err
    }
  }
  return new ctor(filename)
}

function isMissing (err: unknown, pkg: string): boolean {
  const e = err as { code?: unknown, message?: unknown } | null
  return e !== null && typeof e === 'object' && e.code === 'MODULE_NOT_FOUND' &&
    typeof e.message === 'string' && e.message.startsWith(`Cannot find module '${pkg}'`)
}
