/**
 * Outcome of one HTTP exchange, as a union rather than exceptions: the retry decorator and the
 * writers branch on it, and nothing here can throw into a caller.
 */
export type TransportResult =
  | { kind: 'ok', status: number, body: string, attempts?: number }
  | { kind: 'retryable', status?: number, reason: string, retryAfterMs?: number, attempts?: number }
  | { kind: 'failed', status?: number, reason: string, attempts?: number }

export interface TransportRequest {
  method: 'GET' | 'PUT' | 'POST'
  path: string
  headers: Record<string, string>
  body?: Buffer | string
  timeoutMs: number
}

export interface Transport {
  send (req: TransportRequest): Promise<TransportResult>
}

/** 429 and 5xx mean "try again later"; 408 too. Other 4xx are final: resending cannot help. */
export function classifyStatus (status: number): 'ok' | 'retryable' | 'failed' {
  if (status >= 200 && status < 300) return 'ok'
  if (status === 429 || status === 408 || status >= 500) return 'retryable'
  return 'failed'
}

/** `Retry-After` as delta-seconds or an HTTP date; undefined when absent or unparseable. */
export function parseRetryAfter (value: string | string[] | undefined, now: number = Date.now()): number | undefined {
  if (Array.isArray(value)) value = value[0]
  if (value === undefined || value === '') return undefined
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000
  const at = Date.parse(value)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, at - now)
}
