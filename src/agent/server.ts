import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import { log } from '../diag/logger.js'
import type { AgentContext, Handler } from './agent_context.js'
import type { Fault } from './faults.js'
import { handleEvpProxy, handleInfo, tracesHandler } from './routes_agent.js'
import { handleAgentlessEvaluations, handleAgentlessLlmobs, handleV1Input } from './routes_intake.js'
import {
  handleChunks, handleCounters, handleEvaluations, handleFaults, handleReset, handleSpans, handleTrace, handleTraces,
  isQueryPath,
} from './routes_query.js'
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
}))
const EVP_PROXY = /^\/evp_proxy\/v[1-4]\//

/** The local agent's HTTP server: plain node:http, one routing table. */
export function createAgentServer (ctx: AgentContext): http.Server {
  const server = http.createServer({ keepAliveTimeout: 5000, headersTimeout: 30_000, requestTimeout: 120_000 }, (req, res) => {
    void handle(ctx, req, res)
  })
  // Malformed HTTP (bad request line, invalid Content-Length, ...): answer 400 if the socket allows.
  server.on('clientError', (_err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n')
    else socket.destroy()
  })
  return server
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
    if (!isQueryPath(pathname)) {
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
 * answered (status or reset); a delay-only fault returns false and the request is served.
 */
async function applyFault (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, fault: Fault): Promise<boolean> {
  ctx.store.bump('faults_injected')
  if (fault.delayMs > 0) await sleep(fault.delayMs, undefined, { signal: ctx.closing })
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
