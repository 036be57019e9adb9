import type { IncomingMessage, ServerResponse } from 'node:http'
import { TRACER_VERSION } from '../version.js'
import { type AgentContext, REFUSED, allowMethods, reject, validate } from './agent_context.js'
import { readBody } from './body.js'
import { decodeMetaStructValue } from './decode/trace_span.js'
import type { DecodedSpan } from './decode/trace_span.js'
import { decodeV04 } from './decode/v04.js'
import { decodeV05 } from './decode/v05.js'
import { acceptEvaluations, acceptSpanEvents } from './routes_intake.js'
import { isMsgpackType, sendJson } from './respond.js'
import { answerQuietly } from './routes_quiet.js'
import { newBatch, count } from './store.js'
import { ingestChunks, invalidLlmobs } from './trace_ingest.js'

/** Headers the real Agent's EVP proxy forwards (everything else is stripped). */
const EVP_ALLOWED_HEADERS = ['Content-Type', 'Accept-Encoding', 'Content-Encoding', 'User-Agent', 'DD-CI-PROVIDER-NAME']
const SUBDOMAIN = /^[A-Za-z0-9._-]{1,128}$/

/** `GET /info`: what tracers read to discover endpoints and features. */
export function handleInfo (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): void {
  if (!allowMethods(ctx, req, res, ['GET', 'HEAD'])) return
  sendJson(res, 200, {
    version: `llmobs-ts-${TRACER_VERSION}`,
    git_commit: '',
    endpoints: ['/v0.4/traces', '/v0.5/traces', '/evp_proxy/v1/', '/evp_proxy/v2/', '/evp_proxy/v3/', '/evp_proxy/v4/'],
    client_drop_p0s: false,
    span_meta_structs: true,
    long_running_spans: false,
    evp_proxy_allowed_headers: EVP_ALLOWED_HEADERS,
    feature_flags: [],
    config: { default_env: 'none', statsd_port: 0, receiver_port: 0, analyzed_spans_by_service: {} },
    peer_tags: [],
  })
}

/**
 * `PUT|POST /v0.4/traces` and `/v0.5/traces`: msgpack only (415 otherwise), 25 MiB cap (413),
 * strict decoding (400 with the decoder's reason). Chunks go through the Agent's sampling;
 * kept chunks' `_llmobs` become span events (path `trace`). Answers the configured
 * `rate_by_service`.
 */
export function tracesHandler (version: 'v0.4' | 'v0.5') {
  return async (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (!allowMethods(ctx, req, res, ['PUT', 'POST'])) return
    if (!isMsgpackType(req.headers['content-type'])) {
      reject(ctx, res, 415, `Content-Type must be application/msgpack, got ${JSON.stringify(req.headers['content-type'] ?? '')}`, true)
      return
    }
    const body = await readBody(req, ctx.maxTraceBodyBytes)
    if (!body.ok) { reject(ctx, res, body.status, body.reason, true); return }
    const decoded = version === 'v0.4' ? decodeV04(body.body) : decodeV05(body.body)
    if (!decoded.ok) { reject(ctx, res, 400, `invalid ${version} payload: ${decoded.reason}`); return }
    const sampling = ctx.sampler.begin(Date.now())
    const batch = newBatch()
    const ok = validate(ctx, res, () => ingestChunks<DecodedSpan>(decoded.chunks, {
      endpoint: `/${version}/traces`,
      path: 'trace',
      sampling,
      hasLlmobs: (span) => span.metaStruct._llmobs !== undefined,
      llmobsOf: (span, where) => {
        const value = decodeMetaStructValue(span.metaStruct._llmobs)
        return value.ok ? value.value : invalidLlmobs(where, value.reason)
      },
    }, batch))
    if (ok === REFUSED || !ctx.store.isOpen) return
    count(batch, 'payloads_received')
    ctx.store.commit(batch)
    sampling.commit()
    sendJson(res, 200, { rate_by_service: ctx.rates })
  }
}

/**
 * `/evp_proxy/v<N>/<path>`: the Agent's proxy to Datadog's intakes. Requires
 * `X-Datadog-EVP-Subdomain` (400 without), 10 MiB cap. LLMObs span events (`api/v2/llmobs`,
 * subdomain `llmobs-intake`) and evaluations (`api/intake/llm-obs/v2/eval-metric`, subdomain
 * `api`) are taken in; anything else proxied there is answered 202 and dropped quietly.
 */
export async function handleEvpProxy (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const inner = url.pathname.replace(/^\/evp_proxy\/v[1-4]\//, '')
  const subdomain = req.headers['x-datadog-evp-subdomain']
  if (typeof subdomain !== 'string' || subdomain === '') {
    reject(ctx, res, 400, 'missing X-Datadog-EVP-Subdomain header', true)
    return
  }
  if (!SUBDOMAIN.test(subdomain)) {
    reject(ctx, res, 400, 'invalid X-Datadog-EVP-Subdomain header', true)
    return
  }
  const declared = Number(req.headers['content-length'] ?? 0)
  if (declared > ctx.maxEvpBodyBytes) {
    reject(ctx, res, 413, `declared Content-Length ${declared} exceeds the EVP proxy limit of ${ctx.maxEvpBodyBytes} bytes`, true)
    return
  }
  if (inner === 'api/v2/llmobs') {
    if (!allowMethods(ctx, req, res, ['POST'])) return
    if (subdomain !== 'llmobs-intake') { reject(ctx, res, 400, `LLMObs span events go to subdomain "llmobs-intake", got "${subdomain}"`, true); return }
    await acceptSpanEvents(ctx, req, res, 'evp', ctx.maxEvpBodyBytes)
    return
  }
  if (inner === 'api/intake/llm-obs/v2/eval-metric' || inner === 'api/intake/llm-obs/v1/eval-metric') {
    if (!allowMethods(ctx, req, res, ['POST'])) return
    if (subdomain !== 'api') { reject(ctx, res, 400, `evaluations go to subdomain "api", got "${subdomain}"`, true); return }
    await acceptEvaluations(ctx, req, res, 'evp', ctx.maxEvpBodyBytes)
    return
  }
  answerQuietly(ctx, req, res, 202)
}
