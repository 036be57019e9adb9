import http from 'node:http'
import https from 'node:https'
import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import { parseRetryAfter } from '../transport/result.js'
import { runAsExporter } from '../trace/context_storage.js'
import { TRACER_VERSION } from '../version.js'

const gzip = promisify(gzipCb)

/** The spec's advice (OTEL-FACTS §3.1): a client reads at most 4 MiB of response. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024

export type OtlpHttpResult =
  | { kind: 'ok', status: number, body: Buffer }
  | { kind: 'retryable', status?: number, reason: string, retryAfterMs?: number }
  /** `exhausted`: a retryable failure that ran out of attempts or time (not a final answer). */
  | { kind: 'failed', status?: number, reason: string, exhausted?: boolean }

/**
 * OTLP/HTTP's own status rules, which are not the Agent's: only 429, 502, 503 and 504 (and no
 * answer at all) may be retried; every other 4xx and 5xx is final (OTEL-FACTS §3.4).
 */
export function classifyOtlpStatus (status: number): 'ok' | 'retryable' | 'failed' {
  if (status >= 200 && status < 300) return 'ok'
  if (status === 429 || status === 502 || status === 503 || status === 504) return 'retryable'
  return 'failed'
}

export interface RetryPolicy { maxAttempts: number, baseDelayMs: number, maxDelayMs: number }

export interface SendOutcome { result: OtlpHttpResult, attempts: number }

/**
 * One keep-alive connection pool to the OTLP endpoint. Requests run in the exporter context, so
 * HTTP instrumentation never traces the exporter's own traffic. Header values (API keys) are
 * never logged or put in a reason.
 */
export class OtlpHttpClient {
  private readonly url: URL
  private readonly agent: http.Agent
  private readonly mod: typeof http | typeof https
  private closed = false

  constructor (url: string, private readonly headers: Record<string, string>, private readonly random: () => number = Math.random) {
    this.url = new URL(url)
    const secure = this.url.protocol === 'https:'
    this.mod = secure ? https : http
    this.agent = new (secure ? https.Agent : http.Agent)({ keepAlive: true, maxSockets: 4, keepAliveMsecs: 1000 })
  }

  /**
   * Sends one export request, retrying what OTLP allows with exponential backoff and full jitter,
   * a `Retry-After` overriding the backoff; every attempt and wait inside `deadlineMs`. A wait that
   * would end past the deadline ends the export now, as a failure.
   */
  async export (body: Uint8Array, contentType: string, compress: boolean, deadlineMs: number, policy: RetryPolicy, onRetry: () => void): Promise<SendOutcome> {
    const deadline = Date.now() + deadlineMs
    let payload: Buffer = Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    if (compress) payload = await gzip(payload)
    for (let attempt = 1; ; attempt++) {
      const remaining = deadline - Date.now()
      if (remaining <= 0) return { result: { kind: 'failed', reason: `export timeout of ${deadlineMs} ms reached before attempt ${attempt}`, exhausted: true }, attempts: attempt - 1 }
      const result = await this.post(payload, contentType, compress, remaining)
      if (result.kind !== 'retryable') return { result, attempts: attempt }
      if (attempt >= policy.maxAttempts) {
        return { result: { kind: 'failed', status: result.status, reason: `retries exhausted after ${attempt} attempts (last: ${result.reason})`, exhausted: true }, attempts: attempt }
      }
      const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1))
      const wait = result.retryAfterMs ?? Math.floor(this.random() * cap)
      if (Date.now() + wait >= deadline) {
        return { result: { kind: 'failed', status: result.status, reason: `export timeout of ${deadlineMs} ms would pass before the next attempt (last: ${result.reason})`, exhausted: true }, attempts: attempt }
      }
      onRetry()
      await sleep(wait)
    }
  }

  close (): void {
    this.closed = true
    this.agent.destroy()
  }

  private post (body: Buffer, contentType: string, gzipped: boolean, timeoutMs: number): Promise<OtlpHttpResult> {
    // Final: a retry loop running past shutdown must end, not reconnect.
    if (this.closed) return Promise.resolve({ kind: 'failed', reason: 'exporter shut down' })
    return runAsExporter(() => new Promise<OtlpHttpResult>((resolve) => {
      let settled = false
      const done = (r: OtlpHttpResult): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(r)
      }
      const headers: Record<string, string | number> = {
        ...this.headers,
        'Content-Type': contentType,
        'Content-Length': body.length,
        'User-Agent': `llmobs-ts/${TRACER_VERSION}`,
      }
      if (gzipped) headers['Content-Encoding'] = 'gzip'
      const u = this.url
      let req: http.ClientRequest
      try {
        req = this.mod.request({ host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? undefined : Number(u.port), path: u.pathname + u.search, method: 'POST', headers, agent: this.agent }, (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (c: Buffer) => {
            size += c.length
            if (size <= MAX_RESPONSE_BYTES) chunks.push(c)
          })
          res.on('end', () => {
            const status = res.statusCode ?? 0
            const cls = classifyOtlpStatus(status)
            const text = (): string => Buffer.concat(chunks).toString('utf8').slice(0, 200).replace(/[^\x20-\x7e]+/g, ' ').trim()
            if (cls === 'ok') done({ kind: 'ok', status, body: size <= MAX_RESPONSE_BYTES ? Buffer.concat(chunks) : Buffer.alloc(0) })
            else if (cls === 'retryable') done({ kind: 'retryable', status, reason: `HTTP ${status}`, retryAfterMs: parseRetryAfter(res.headers['retry-after']) })
            else done({ kind: 'failed', status, reason: `HTTP ${status}${text() !== '' ? `: ${text()}` : ''}` })
          })
          res.on('error', (err) => done({ kind: 'retryable', reason: `response error: ${err.message}` }))
        })
      } catch (err) {
        done({ kind: 'failed', reason: `request could not be made: ${(err as Error)?.message}` })
        return
      }
      const timer = setTimeout(() => {
        done({ kind: 'retryable', reason: `no answer within ${Math.round(timeoutMs)} ms` })
        req.destroy()
      }, timeoutMs)
      timer.unref()
      req.on('error', (err) => done({ kind: 'retryable', reason: `network error: ${err.message}` }))
      req.end(body)
    }))
  }
}

function sleep (ms: number): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, ms).unref() })
}
