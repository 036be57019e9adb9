import type { IncomingMessage, ServerResponse } from 'node:http'
import { type AgentContext, REFUSED, allowMethods, readJson, reject, validate } from './agent_context.js'
import { parseFault } from './faults.js'
import { queryApi } from './query_api.js'
import { param } from './query_params.js'
import { sendJson } from './respond.js'

const DEFAULT_LIMIT = 100
const MAX_LIMIT = 1000

/** Paths of the query API: never subject to faults. */
export function isQueryPath (pathname: string): boolean {
  return pathname === '/api/spans' || pathname === '/api/traces' || pathname.startsWith('/api/traces/') ||
    pathname === '/api/counters' || pathname === '/api/reset' || pathname === '/api/faults' ||
    pathname === '/api/evaluations' || pathname === '/api/chunks' || pathname === '/api/sessions' ||
    pathname.startsWith('/api/sessions/') || pathname === '/api/summary' || pathname === '/api/changes'
}

/** `limit` of the chunk list: default 100, values above 1000 are capped; anything but a positive integer is refused. */
function limitOf (ctx: AgentContext, res: ServerResponse, url: URL): number | undefined {
  const raw = url.searchParams.get('limit')
  if (raw === null || raw === '') return DEFAULT_LIMIT
  if (!/^[0-9]{1,12}$/.test(raw) || Number(raw) < 1) {
    reject(ctx, res, 400, `"limit" must be a positive integer, got ${JSON.stringify(raw.slice(0, 32))}`)
    return undefined
  }
  return Math.min(Number(raw), MAX_LIMIT)
}

/**
 * `GET /api/traces/<trace_id>` → `{trace_id, session_id, cost_usd, cost_complete, trace, spans,
 * evaluations, apm_chunks}`: its spans in start order (with cost and price), the evaluations
 * joined on them and the summaries of the APM chunks they rode or belong to. 404 when no span
 * of it is stored.
 */
export function handleTrace (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (!allowMethods(ctx, req, res, ['GET'])) return
  const traceId = safeDecode(url.pathname.slice('/api/traces/'.length))
  const api = queryApi(ctx.store)
  const q = ctx.store.queries
  const spans = api.spans.ofTrace(traceId)
  const trace = api.traces.one(traceId)
  if (spans.length === 0 || trace === null) { sendJson(res, 404, { error: `trace ${JSON.stringify(traceId.slice(0, 128))} not found` }); return }
  const apmIds = new Set<string>()
  for (const s of spans) {
    const dd = (s.event as { _dd?: { apm_trace_id?: unknown } })._dd
    if (typeof dd?.apm_trace_id === 'string') apmIds.add(dd.apm_trace_id)
  }
  sendJson(res, 200, {
    trace_id: traceId,
    session_id: trace.session_id,
    cost_usd: trace.cost_usd,
    cost_complete: trace.cost_complete,
    usage_source: trace.usage_source,
    trace,
    spans,
    evaluations: q.listEvaluations({ traceId, limit: MAX_LIMIT }),
    apm_chunks: [...apmIds].flatMap((id) => q.listChunks({ traceId: id, limit: 100 })),
  })
}

/** `GET /api/chunks?trace_id=&limit=` → `{"chunks": [...]}`: APM chunk summaries, newest first. */
export function handleChunks (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (!allowMethods(ctx, req, res, ['GET'])) return
  const limit = limitOf(ctx, res, url)
  if (limit === undefined) return
  sendJson(res, 200, { chunks: ctx.store.queries.listChunks({ traceId: param(url, 'trace_id'), limit }) })
}

export function handleCounters (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): void {
  if (!allowMethods(ctx, req, res, ['GET'])) return
  sendJson(res, 200, ctx.store.counters())
}

/** `POST /api/reset`: deletes every stored span, chunk and evaluation and zeroes the counters. */
export function handleReset (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): void {
  if (!allowMethods(ctx, req, res, ['POST'])) return
  req.resume()
  ctx.store.reset()
  sendJson(res, 200, { ok: true })
}

/** `GET` lists pending faults, `POST` adds one (see faults.ts), `DELETE` clears them. */
export async function handleFaults (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!allowMethods(ctx, req, res, ['GET', 'POST', 'DELETE'])) return
  if (req.method === 'GET') { sendJson(res, 200, { faults: ctx.faults.list() }); return }
  if (req.method === 'DELETE') {
    req.resume()
    ctx.faults.clear()
    sendJson(res, 200, { faults: [] })
    return
  }
  const doc = await readJson(ctx, req, res, 64 * 1024)
  if (doc === REFUSED) return
  const ok = validate(ctx, res, () => {
    const { clear, fault } = parseFault(doc)
    if (clear) ctx.faults.clear()
    if (fault !== undefined) ctx.faults.add(fault)
  })
  if (ok === REFUSED) return
  sendJson(res, 200, { faults: ctx.faults.list() })
}

export function safeDecode (s: string): string {
  try { return decodeURIComponent(s) } catch { return s }
}
