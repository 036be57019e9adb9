import http from 'node:http'
import https from 'node:https'
import { runAsExporter } from '../trace/context_storage.js'
import type { AgentEndpoint } from '../config/tracer_config.js'
import { classifyStatus, parseRetryAfter, type Transport, type TransportRequest, type TransportResult } from './result.js'

/** Agents answer with small JSON documents; anything bigger is not worth buffering. */
const MAX_RESPONSE_BYTES = 1024 * 1024

/**
 * One keep-alive connection pool to one endpoint (TCP or unix socket). Every request runs in the
 * exporter context so HTTP instrumentation never traces the tracer's own traffic.
 */
export class HttpTransport implements Transport {
  private readonly agent: http.Agent
  private readonly mod: typeof http | typeof https
  private closed = false

  constructor (private readonly endpoint: AgentEndpoint) {
    const secure = endpoint.kind === 'http' && endpoint.origin.startsWith('https:')
    this.mod = secure ? https : http
    const Ctor = secure ? https.Agent : http.Agent
    this.agent = new Ctor({ keepAlive: true, maxSockets: 8, keepAliveMsecs: 1000 })
  }

  send (req: TransportRequest): Promise<TransportResult> {
    // Final, not retryable: a retry loop still running past a shutdown must end, not reconnect.
    if (this.closed) return Promise.resolve({ kind: 'failed', reason: 'transport closed (shutdown)' })
    return runAsExporter(() => this.exchange(req))
  }

  close (): void {
    this.closed = true
    this.agent.destroy()
  }

  private exchange (req: TransportRequest): Promise<TransportResult> {
    return new Promise<TransportResult>((resolve) => {
      let settled = false
      const done = (r: TransportResult): void => {
        if (settled) return
        settled = true
        clearTimeout(timer)
        resolve(r)
      }
      const headers: Record<string, string | number> = { ...req.headers }
      if (req.body !== undefined) headers['Content-Length'] = Buffer.byteLength(req.body)
      const ep = this.endpoint
      const options: http.RequestOptions = ep.kind === 'unix'
        ? { socketPath: ep.socketPath, path: req.path, method: req.method, headers, agent: this.agent }
        : { host: ep.host, port: ep.port, path: req.path, method: req.method, headers, agent: this.agent }

      let request: http.ClientRequest
      try {
        request = this.mod.request(options, (res) => {
          const chunks: Buffer[] = []
          let size = 0
          res.on('data', (c: Buffer) => {
            size += c.length
            if (size <= MAX_RESPONSE_BYTES) chunks.push(c)
          })
          res.on('error', (err) => done({ kind: 'retryable', reason: `response error: ${err.message}` }))
          res.on('end', () => {
            const status = res.statusCode ?? 0
            const body = Buffer.concat(chunks).toString('utf8')
            const cls = classifyStatus(status)
            if (cls === 'ok') done({ kind: 'ok', status, body })
            else if (cls === 'retryable') done({ kind: 'retryable', status, reason: `HTTP ${status}`, retryAfterMs: parseRetryAfter(res.headers['retry-after']) })
            else done({ kind: 'failed', status, reason: `HTTP ${status}${body !== '' ? `: ${body.slice(0, 200)}` : ''}` })
          })
        })
      } catch (err) {
        resolve({ kind: 'failed', reason: `request could not be created: ${(err as Error).message}` })
        return
      }
      // A request in flight must not hold the host process open by itself: a destination that
      // never answers would otherwise keep it alive for the whole retry budget. Callers that do
      // want to wait (flush, shutdown, the exit flush) hold the loop with their own deadline timer.
      request.on('socket', (socket) => { socket.unref() })
      const timer = setTimeout(() => {
        request.destroy(new Error(`timed out after ${req.timeoutMs} ms`))
      }, req.timeoutMs)
      timer.unref()
      request.on('error', (err) => done({ kind: 'retryable', reason: `network error: ${err.message}` }))
      if (req.body !== undefined) request.end(req.body)
      else request.end()
    })
  }
}
