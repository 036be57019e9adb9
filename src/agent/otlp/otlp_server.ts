import type { IncomingMessage, ServerResponse } from 'node:http'
import { log } from '../../diag/logger.js'
import type { AgentContext } from '../agent_context.js'
import { guardHost } from '../request_guards.js'
import { sendError, sendJson } from '../respond.js'
import { createTrackedServer, type AgentServer } from '../server.js'
import { answerOtherSignal, handleOtlpTraces } from './otlp_route.js'

/** OTLP/HTTP's default port (the spec's; gRPC's 4317 is not served). */
export const OTLP_DEFAULT_PORT = 4318

/**
 * The OTLP intake's own HTTP server (OTel exporters expect it on its own port), sharing the
 * agent's context: its store, its caps and its Host guard (a DNS-rebinding page must not fill
 * the store with forged spans through this port either).
 */
export function createOtlpServer (ctx: AgentContext): AgentServer {
  return createTrackedServer((req, res) => handle(ctx, req, res))
}

async function handle (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const target = req.url ?? '/'
    const q = target.indexOf('?')
    const pathname = q >= 0 ? target.slice(0, q) : target
    if (!guardHost(ctx, req, res)) return
    if (pathname === '/v1/traces') await handleOtlpTraces(ctx, req, res)
    else if (pathname === '/v1/logs' || pathname === '/v1/metrics') answerOtherSignal(ctx, req, res)
    else {
      req.resume()
      sendJson(res, 404, { error: `no such endpoint on the OTLP port: ${pathname.slice(0, 200)} (traces go to /v1/traces)` })
    }
  } catch (err) {
    if (ctx.closing.aborted) { res.destroy(); return }
    log.internalError('local agent OTLP request', err)
    if (!res.headersSent) sendError(res, 500, 'internal error in the local agent', true)
    else res.destroy()
  }
}
