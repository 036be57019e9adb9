import type { IncomingMessage, ServerResponse } from 'node:http'
import { decodeTracesRequest, encodeStatus, encodeTracesResponse } from '../../encode/otlp/index.js'
import type { OtlpEncoding, OtlpTracesResponse } from '../../encode/otlp/otlp_types.js'
import type { AgentContext } from '../agent_context.js'
import { readBody } from '../body.js'
import { mediaType } from '../respond.js'
import { count, newBatch } from '../store.js'
import { ingestOtlp } from './otlp_ingest.js'

/** google.rpc.Code values for the Status body of a refusal. */
const INVALID_ARGUMENT = 3
const RESOURCE_EXHAUSTED = 8

const CONTENT_TYPES: Record<OtlpEncoding, string> = { protobuf: 'application/x-protobuf', json: 'application/json' }

/** The request's encoding from its Content-Type (parameters such as `charset` ignored). */
export function otlpEncoding (header: string | undefined): OtlpEncoding | undefined {
  const t = mediaType(header)
  return t === 'application/x-protobuf' ? 'protobuf' : t === 'application/json' ? 'json' : undefined
}

/**
 * `POST /v1/traces` (OTLP/HTTP): protobuf or JSON, gzip or deflate, under the agent's trace
 * body cap before and after decompression. Answers in the request's encoding (the spec's rule):
 * 200 with an empty response, or with `partial_success` naming the spans it refused; 400 with a
 * google.rpc.Status saying why the body did not decode; 413 above the cap; 415 for any other
 * Content-Type (answered in JSON: the sender's encoding is unknown then).
 */
export async function handleOtlpTraces (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    refuse(ctx, res, 405, `method ${req.method ?? '?'} not allowed here (use POST)`, 'json', { Allow: 'POST' })
    return
  }
  const enc = otlpEncoding(req.headers['content-type'])
  if (enc === undefined) {
    refuse(ctx, res, 415, `Content-Type must be application/x-protobuf or application/json, got ${JSON.stringify((req.headers['content-type'] ?? '').slice(0, 128))}`, 'json')
    return
  }
  const body = await readBody(req, ctx.maxTraceBodyBytes)
  if (!body.ok) {
    refuse(ctx, res, body.status, body.reason, enc)
    return
  }
  const decoded = decodeTracesRequest(body.body, enc)
  if (!decoded.ok) {
    ctx.store.bump('otlp_decode_errors')
    refuse(ctx, res, 400, `invalid OTLP ${enc} traces request: ${decoded.reason}`, enc)
    return
  }
  if (!ctx.store.isOpen) { res.destroy(); return }
  const batch = newBatch()
  const result = ingestOtlp(decoded.value, batch)
  count(batch, 'payloads_received')
  ctx.store.commit(batch)
  const answer: OtlpTracesResponse = result.rejected > 0
    ? { partialSuccess: { rejectedSpans: BigInt(result.rejected), errorMessage: result.message } }
    : {}
  send(res, 200, encodeTracesResponse(answer, enc), enc)
}

/**
 * `/v1/logs` and `/v1/metrics`: an app pointed at the agent with OTEL_EXPORTER_OTLP_ENDPOINT
 * exports those too. The agent keeps neither; an empty success (valid for every signal's
 * response) keeps those exporters from logging errors and retrying.
 */
export function answerOtherSignal (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): void {
  req.resume()
  ctx.store.bump('requests_quiet')
  const enc = otlpEncoding(req.headers['content-type']) ?? 'json'
  send(res, 200, enc === 'json' ? Buffer.from('{}') : new Uint8Array(0), enc)
}

function refuse (ctx: AgentContext, res: ServerResponse, status: number, reason: string, enc: OtlpEncoding, headers: Record<string, string> = {}): void {
  ctx.store.bump('requests_rejected')
  // The body may be partly unread: the connection cannot be reused.
  const code = status === 413 ? RESOURCE_EXHAUSTED : INVALID_ARGUMENT
  send(res, status, encodeStatus(code, reason, enc), enc, { Connection: 'close', ...headers })
}

function send (res: ServerResponse, status: number, body: Uint8Array, enc: OtlpEncoding, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return
  res.writeHead(status, { 'Content-Type': CONTENT_TYPES[enc], 'Content-Length': body.byteLength, ...headers })
  res.end(body)
}
