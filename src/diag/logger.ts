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

  /** Warns the first time `key` is seen; returns whether it warned. */
  warnOnce (key: string, message: string): boolean {
    if (this.warned.has(key)) return false
    this.warned.add(key)
    this.safeWrite('warn', message)
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

export function describeError (err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`
  try { return String(err) } catch { return 'unprintable error' }
}

export const log = new Logger()
