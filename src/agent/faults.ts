import { invalid, isObject, jsonType } from './json_checks.js'

/** One scripted failure, set with `POST /api/faults`. */
export interface Fault {
  /** Prefix of the request path it applies to ("/v0.4/traces", "/evp_proxy/", "/"). */
  path: string
  /** Answer with this status (and `{"error": "injected fault"}`) without reading the body. */
  status: number | undefined
  /** Requests it still applies to. */
  count: number
  /** Wait this long first. With no status and no reset, the request is then served normally. */
  delayMs: number
  /** Reset the connection (destroy the socket) instead of answering. */
  reset: boolean
  /** `Retry-After` header value (seconds) to send with the status. */
  retryAfter: number | undefined
}

const MAX_DELAY_MS = 60_000
const MAX_FAULTS = 100

/**
 * Pending faults, matched in the order they were added: the first whose path prefixes the
 * request path takes it and spends one of its `count`. Faults never apply to the query API
 * (a test must always be able to read counters and clear faults).
 */
export class Faults {
  private readonly pending: Fault[] = []

  add (fault: Fault): void {
    if (this.pending.length >= MAX_FAULTS) invalid(`at most ${MAX_FAULTS} pending faults`)
    this.pending.push(fault)
  }

  take (pathname: string): Fault | undefined {
    for (let i = 0; i < this.pending.length; i++) {
      const f = this.pending[i]
      if (!pathname.startsWith(f.path)) continue
      f.count--
      if (f.count <= 0) this.pending.splice(i, 1)
      return f
    }
    return undefined
  }

  clear (): void {
    this.pending.length = 0
  }

  list (): Fault[] {
    return this.pending.map((f) => ({ ...f }))
  }
}

/**
 * `{"path": "/v0.4/traces", "status": 503, "count": 2, "delayMs": 0, "reset": false,
 * "retryAfter": 1}`; `{"clear": true}` removes every pending fault (and adds the one described
 * too, when it has a path). Returns undefined for a pure clear. Throws InvalidInput.
 */
export function parseFault (doc: unknown): { clear: boolean, fault: Fault | undefined } {
  if (!isObject(doc)) invalid(`body must be an object, got ${jsonType(doc)}`)
  const clear = doc.clear
  if (clear !== undefined && typeof clear !== 'boolean') invalid(`field "clear" must be a boolean, got ${jsonType(clear)}`)
  if (doc.path === undefined && clear === true) return { clear: true, fault: undefined }
  const path = doc.path
  if (typeof path !== 'string' || !path.startsWith('/')) invalid('field "path" must be a path prefix starting with "/"')
  const status = optionalInt(doc, 'status', 200, 599)
  const count = optionalInt(doc, 'count', 1, 1_000_000) ?? 1
  const delayMs = optionalInt(doc, 'delayMs', 0, MAX_DELAY_MS) ?? 0
  const retryAfter = optionalInt(doc, 'retryAfter', 0, 3600)
  const reset = doc.reset
  if (reset !== undefined && typeof reset !== 'boolean') invalid(`field "reset" must be a boolean, got ${jsonType(reset)}`)
  if (status === undefined && reset !== true && delayMs === 0) invalid('a fault needs "status", "reset": true or "delayMs" > 0')
  return { clear: clear === true, fault: { path, status, count, delayMs, reset: reset === true, retryAfter } }
}

function optionalInt (doc: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const v = doc[key]
  if (v === undefined || v === null) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    invalid(`field "${key}" must be an integer from ${min} to ${max}, got ${typeof v === 'number' ? String(v) : jsonType(v)}`)
  }
  return v
}
