import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import { log } from '../diag/logger.js'
import type { AgentContext, Handler } from './agent_context.js'
import type { Fault } from './faults.js'
import { handleEvpProxy, handleInfo, tracesHandler } from './routes_agent.js'
import { handleAgentlessEvaluations, handleAgentlessLlmobs, handleV1Input } from './routes_intake.js'
import { handleChunks, handleCounters, handleFaults, handleReset, handleTrace, isQueryPath } from './routes_query.js'
import {
  handleChanges, handleEvaluations, handleSession, handleSessions, handleSpans, handleSummary, handleTraces,
} from './routes_query_v2.js'
import { guardCrossSite, guardHost, guardQueryKey } from './request_guards.js'
import { answerQuietly, quietStatus } from './routes_quiet.js'
import { serveUi } from './ui/serve_ui.js'
import { sendError, sendJson } from './respond.js'

const EXACT = new Map<string, Handler>(Object.entries({
  '/info': handleInfo,
  '/v0.4/traces': tracesHandler('v0.4'),
  '/v0.5/traces': tracesHandler('v0.5'),
  '/api/v2/llmobs': handleAgentlessLlmobs,
  '/api/intake/llm-obs/v2/eval-metric': handleAgentlessEvaluations,
  '/v1/input': handleV1Input,
  '/api/spans': handleSpans,
  '/api/traces': handleTraces,
  '/api/counters': handleCounters,
  '/api/reset': handleReset,
  '/api/faults': handleFaults,
  '/api/evaluations': handleEvaluations,
  '/api/chunks': handleChunks,
  '/api/sessions': handleSessions,
  '/api/summary': handleSummary,
  '/api/changes': handleChanges,
}))
const EVP_PROXY = /^\/evp_proxy\/v[1-4]\//

export interface AgentServer {
  readonly server: http.Server
  /** Requests whose handler has not settled yet. */
  inFlight (): number
  /** Resolves once no handler is running (at once when none is). */
  drained (): Promise<void>
}

/** The local agent's HTTP server: plain node:http, one routing table. */
export function createAgentServer (ctx: AgentContext): AgentServer {
  return createTrackedServer((req, res) => handle(ctx, req, res))
}

/**
 * A node:http server that counts its running handlers, so close() can wait for them: the agent's
 * port and the OTLP port share it.
 */
export function createTrackedServer (handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>): AgentServer {
  let inFlight = 0
  let waiters: Array<() => void> = []
  const settled = (): void => {
    inFlight--
    if (inFlight > 0) return
    const w = waiters
    waiters = []
    for (const resolve of w) resolve()
  }
  const server = http.createServer({ keepAliveTimeout: 5000, headersTimeout: 30_000, requestTimeout: 120_000 }, (req, res) => {
    inFlight++
    handler(req, res).then(settled, settled)
  })
  // Malformed HTTP (bad request line, invalid Content-Length, ...): answer 400 if the socket allows.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    else socket.destroy()
  })
  return {
    server,
    inFlight: () => inFlight,
    drained: () => inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => { waiters.push(resolve) }),
  }
}

async function handle (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://local-agent')
    } catch {
      sendError(res, 400, 'malformed request target', true)
      return
    }
    const pathname = url.pathname
    if (!guardHost(ctx, req, res)) return
    if (isQueryPath(pathname)) {
      if (!guardCrossSite(ctx, req, res) || !guardQueryKey(ctx, req, res)) return
    } else {
      const fault = ctx.faults.take(pathname)
      if (fault !== undefined && await applyFault(ctx, req, res, fault)) return
    }
    const exact = EXACT.get(pathname)
    if (exact !== undefined) {
      await exact(ctx, req, res, url)
    } else if (EVP_PROXY.test(pathname)) {
      await handleEvpProxy(ctx, req, res, url)
    } else if (pathname.startsWith('/api/traces/')) {
      handleTrace(ctx, req, res, url)
    } else if (pathname.startsWith('/api/sessions/')) {
      handleSession(ctx, req, res, url)
    } else if (!serveUi(req, res)) {
      const quiet = quietStatus(pathname)
      if (quiet !== undefined) answerQuietly(ctx, req, res, quiet)
      else {
        req.resume()
        sendJson(res, 404, { error: `no such endpoint: ${pathname.slice(0, 200)}` })
      }
    }
  } catch (err) {
    if (ctx.closing.aborted) { res.destroy(); return }
    log.internalError('local agent request', err)
    if (!res.headersSent) sendError(res, 500, 'internal error in the local agent', true)
    else res.destroy()
  }
}

/**
 * Applies a fault before anything of the body is read. Returns true when the request was
 * answered (status or reset) or abandoned; a delay-only fault returns false and the request is
 * served.
 */
async function applyFault (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, fault: Fault): Promise<boolean> {
  ctx.store.bump('faults_injected')
  if (fault.delayMs > 0 && !await waitWhileConnected(ctx, res, fault.delayMs)) {
    // The client left or the agent is closing: nobody is waiting for an answer.
    res.destroy()
    return true
  }
  if (fault.reset) {
    req.socket.destroy()
    return true
  }
  if (fault.status === undefined) return false
  const headers: Record<string, string> = { Connection: 'close' }
  if (fault.retryAfter !== undefined) headers['Retry-After'] = String(fault.retryAfter)
  sendJson(res, fault.status, { error: 'injected fault' }, headers)
  return true
}

/**
 * Waits `ms`, or less when the client goes away or the agent closes. Resolves true when the
 * full delay passed with the client still there; never rejects, so a request held by a delay
 * always settles, whatever ends it.
 */
function waitWhileConnected (ctx: AgentContext, res: ServerResponse, ms: number): Promise<boolean> {
  if (ctx.closing.aborted || res.destroyed || res.socket === null || res.socket.destroyed) return Promise.resolve(false)
  return new Promise((resolve) => {
    const finish = (stayed: boolean): void => {
      clearTimeout(timer)
      ctx.closing.removeEventListener('abort', gone)
      res.off('close', gone)
      resolve(stayed)
    }
    const gone = (): void => finish(false)
    const timer = setTimeout(() => finish(true), ms)
    ctx.closing.addEventListener('abort', gone, { once: true })
    res.once('close', gone)
  })
}
