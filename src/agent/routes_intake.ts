import type { IncomingMessage, ServerResponse } from 'node:http'
import { type AgentContext, REFUSED, allowMethods, readJson, readJsonText, reject, validate } from './agent_context.js'
import { type AgentlessDecodedSpan, decodeAgentlessTraces } from './decode/agentless_json.js'
import { evaluationsFromBody } from './evaluations.js'
import { sameSecret } from './request_guards.js'
import { sendJson } from './respond.js'
import { spansFromEnvelopes } from './span_events.js'
import { type ArrivalPath, count, newBatch } from './store.js'
import { ingestChunks } from './trace_ingest.js'

/** Span events (EVP or agentless): validated as a whole, then stored in one transaction. */
export async function acceptSpanEvents (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, path: ArrivalPath, maxBytes: number): Promise<void> {
  const doc = await readJson(ctx, req, res, maxBytes)
  if (doc === REFUSED) return
  const spans = validate(ctx, res, () => spansFromEnvelopes(doc, path))
  if (spans === REFUSED || !ctx.store.isOpen) return
  const batch = newBatch()
  batch.spans = spans
  count(batch, 'payloads_received')
  count(batch, path === 'evp' ? 'llmobs_evp' : 'llmobs_agentless', spans.length)
  ctx.store.commit(batch)
  sendJson(res, 202, {})
}

export async function acceptEvaluations (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, path: ArrivalPath, maxBytes: number): Promise<void> {
  const doc = await readJson(ctx, req, res, maxBytes)
  if (doc === REFUSED) return
  const evaluations = validate(ctx, res, () => evaluationsFromBody(doc, path))
  if (evaluations === REFUSED || !ctx.store.isOpen) return
  const batch = newBatch()
  batch.evaluations = evaluations
  count(batch, 'payloads_received')
  count(batch, 'evaluations', evaluations.length)
  ctx.store.commit(batch)
  sendJson(res, 202, {})
}

/** `POST /api/v2/llmobs` (agentless LLMObs intake). */
export async function handleAgentlessLlmobs (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!allowMethods(ctx, req, res, ['POST']) || !checkApiKey(ctx, req, res)) return
  await acceptSpanEvents(ctx, req, res, 'agentless', ctx.maxEvpBodyBytes)
}

/** `POST /api/intake/llm-obs/v2/eval-metric` (agentless evaluations). */
export async function handleAgentlessEvaluations (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!allowMethods(ctx, req, res, ['POST']) || !checkApiKey(ctx, req, res)) return
  await acceptEvaluations(ctx, req, res, 'agentless', ctx.maxEvpBodyBytes)
}

/**
 * `POST /v1/input`: agentless APM (JSON `{"traces": [{"spans": [...]}]}`, meta_struct inline).
 * The intake keeps LLMObs for every chunk here (no Agent in between): no sampling, path
 * `agentless`. Chunks are still summarised with their priority.
 */
export async function handleV1Input (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (!allowMethods(ctx, req, res, ['POST', 'PUT']) || !checkApiKey(ctx, req, res)) return
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > ctx.maxTraceBodyBytes) {
    reject(ctx, res, 413, `declared Content-Length ${declared} exceeds the limit of ${ctx.maxTraceBodyBytes} bytes`, true)
    return
  }
  const text = await readJsonText(ctx, req, res, ctx.maxTraceBodyBytes)
  if (text === REFUSED) return
  const decoded = decodeAgentlessTraces(text)
  if (!decoded.ok) { reject(ctx, res, 400, `invalid agentless payload: ${decoded.reason}`); return }
  const batch = newBatch()
  const ok = validate(ctx, res, () => ingestChunks<AgentlessDecodedSpan>(decoded.chunks, {
    endpoint: '/v1/input',
    path: 'agentless',
    sampling: undefined,
    hasLlmobs: (span) => span.metaStructJson._llmobs !== undefined && span.metaStructJson._llmobs !== null,
    llmobsOf: (span) => span.metaStructJson._llmobs,
  }, batch))
  if (ok === REFUSED || !ctx.store.isOpen) return
  count(batch, 'payloads_received')
  ctx.store.commit(batch)
  sendJson(res, 202, {})
}

/**
 * Agentless endpoints need `DD-API-KEY`; with a configured key it must match (compared in
 * constant time). Refused with 403, as the intake does. The key is never logged or echoed.
 */
function checkApiKey (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): boolean {
  const given = req.headers['dd-api-key']
  if (typeof given !== 'string' || given === '') {
    reject(ctx, res, 403, 'missing DD-API-KEY header', true)
    return false
  }
  if (ctx.apiKey !== undefined && !sameSecret(given, ctx.apiKey)) {
    reject(ctx, res, 403, 'invalid API key', true)
    return false
  }
  return true
}
