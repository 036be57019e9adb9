import { createRequire } from 'node:module'

/**
 * The slice of better-sqlite3 the store uses, typed here because the package ships no types
 * (and @types/better-sqlite3 is not a dependency). Loaded lazily with `require`, so importing
 * `llmobs-ts` never loads the native addon unless a local agent is started.
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

export function openDatabase (filename: string): SqliteDatabase {
  if (ctor === undefined) {
    const require = createRequire(import.meta.url)
    ctor = require('better-sqlite3') as DatabaseConstructor
  }
  return new ctor(filename)
}
