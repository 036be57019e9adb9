import { inspect } from 'node:util'

/**
 * Diagnostics logger. A tracer is a guest in the host process: it is silent unless
 * `DD_TRACE_DEBUG` or the `debug` option turns it on, except for `warnOnce`, which users
 * must see (misconfiguration, data loss) but never more than once per key.
 */
export type LogSink = (level: 'debug' | 'warn' | 'error', message: string) => void

const defaultSink: LogSink = (level, message) => {
  // stderr, never stdout: the host app may own stdout (CLIs, JSON logs).
  process.stderr.write(`[llmobs-ts] ${level}: ${message}\n`)
}

class Logger {
  private debugEnabled = false
  private sink: LogSink = defaultSink
  private readonly warned = new Set<string>()
  /** Internal errors caught at a guest boundary, by where they were caught. */
  readonly internalErrors = new Map<string, number>()

  configure (opts: { debug?: boolean, sink?: LogSink }): void {
    if (opts.debug !== undefined) this.debugEnabled = opts.debug
    if (opts.sink !== undefined) this.sink = opts.sink
  }

  get isDebug (): boolean { return this.debugEnabled }

  /** Lazy so hot paths pay nothing when debug is off. */
  debug (message: () => string): void {
    if (this.debugEnabled) this.safeWrite('debug', message())
  }

  warn (message: string): void { this.safeWrite('warn', message) }

  /**
   * Warns the first time `key` is seen; returns whether it warned. Pass a function when the
   * message describes user values: it then runs once, not on every repeated misuse.
   */
  warnOnce (key: string, message: string | (() => string)): boolean {
    if (this.warned.has(key)) return false
    this.warned.add(key)
    let text: string
    try { text = typeof message === 'string' ? message : message() } catch { text = `${key} (the warning's message could not be built)` }
    this.safeWrite('warn', text)
    return true
  }

  /** Counts and logs an error caught at a boundary where it must not reach user code. */
  internalError (where: string, err: unknown): void {
    this.internalErrors.set(where, (this.internalErrors.get(where) ?? 0) + 1)
    if (this.debugEnabled) this.safeWrite('error', `${where}: ${describeError(err)}`)
    else this.warnOnce(`internal:${where}`, `internal error in ${where} (further ones counted silently): ${describeError(err)}`)
  }

  /** For tests: forget which warnings were already given. */
  resetWarnings (): void { this.warned.clear(); this.internalErrors.clear() }

  private safeWrite (level: 'debug' | 'warn' | 'error', message: string): void {
    try { this.sink(level, message) } catch { /* a broken sink must not break tracing */ }
  }
}

/** Bound on a user value shown in a warning, in characters (before the ellipsis). */
export const DESCRIBE_MAX = 64
/** Bound on an error shown in a warning: messages carry more meaning than values. */
export const DESCRIBE_ERROR_MAX = 256

const INSPECT_OPTIONS = {
  // No user code runs: no custom inspect, no getters; Proxies are shown without firing traps.
  customInspect: false,
  getters: false,
  showProxy: false,
  depth: 1,
  maxArrayLength: 8,
  maxStringLength: DESCRIBE_MAX,
  breakLength: Infinity,
}

/**
 * Renders any value for a warning: never throws (Proxies, throwing toString or
 * Symbol.toPrimitive, BigInt, circular structures) and never runs user code, and the result is
 * at most `max` characters plus an ellipsis. Warnings go to a human; a 3 MB option value must not.
 *
 * @example log.warnOnce('x', () => `invalid kind ${describeValue(kind)}`)
 */
export function describeValue (v: unknown, max = DESCRIBE_MAX): string {
  let out: string
  try {
    switch (typeof v) {
      // Quoted and escaped (control characters, lone surrogates); cut below like everything else.
      case 'string': out = JSON.stringify(v.length > max ? v.slice(0, max + 1) : v); break
      case 'bigint': out = v.toString() + 'n'; break
      case 'symbol': out = Symbol.prototype.toString.call(v); break
      case 'number': case 'boolean': case 'undefined': out = String(v); break
      default: out = v === null ? 'null' : inspect(v, { ...INSPECT_OPTIONS, maxStringLength: max })
    }
  } catch {
    out = `[${typeof v}]`
  }
  return cut(out, max)
}

/**
 * `Name: message` for an Error, `describeValue` for anything else; bounded and never throws (a
 * `message` getter that throws, a 3 MB message, a thrown Proxy).
 */
export function describeError (err: unknown, max = DESCRIBE_ERROR_MAX): string {
  let isError = false
  try { isError = err instanceof Error } catch { /* a Proxy's getPrototypeOf trap threw */ }
  if (!isError) return describeValue(err, max)
  const e = err as Error
  return cut(`${readText(e, 'name', max)}: ${readText(e, 'message', max)}`, max)
}

function readText (e: Error, field: 'name' | 'message', max: number): string {
  try {
    const v: unknown = e[field]
    return typeof v === 'string' ? cut(v, max) : describeValue(v, max)
  } catch {
    return `[unreadable ${field}]`
  }
}

function cut (s: string, max: number): string {
  if (s.length <= max) return s
  // Do not leave half a surrogate pair before the ellipsis.
  const end = s.charCodeAt(max - 1) >= 0xd800 && s.charCodeAt(max - 1) <= 0xdbff ? max - 1 : max
  return s.slice(0, end) + '…'
}

export const log = new Logger()
