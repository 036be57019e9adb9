import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { gunzipSync } from 'node:zlib'
import { fileURLToPath } from 'node:url'
import protobuf from 'protobufjs'

/**
 * A loopback OTLP/HTTP receiver (127.0.0.1:0) that decodes with protobufjs loaded from the
 * vendored official .proto text: independent of our codec, so encoder bugs cannot cancel out.
 * JSON requests are read with JSON.parse by the OTLP/JSON rules (hex ids, int64 as strings).
 * Both come out in one plain shape: ids hex, times as decimal strings, attribute values typed
 * (int64 → bigint, double → number, bytes → Buffer, kvlist → object).
 */
export interface OtlpReceived {
  headers: http.IncomingHttpHeaders
  /** The body as sent (still gzipped when it was). */
  raw: Buffer
  contentType: string
  request: DecodedRequest
}

export interface DecodedSpan {
  traceId: string
  spanId: string
  parentSpanId: string
  traceState: string
  flags: number
  name: string
  kind: number
  startTimeUnixNano: string
  endTimeUnixNano: string
  attributes: Record<string, unknown>
  events: Array<{ name: string, timeUnixNano: string, attributes: Record<string, unknown> }>
  links: Array<{ traceId: string, spanId: string, traceState: string, flags: number, attributes: Record<string, unknown> }>
  status: { code: number, message: string }
}

export interface DecodedRequest {
  resourceSpans: Array<{ resource: Record<string, unknown>, scopeSpans: Array<{ scope: { name: string, version: string }, spans: DecodedSpan[] }> }>
}

export interface OtlpReply { status?: number, headers?: Record<string, string>, body?: Buffer | string, destroy?: boolean }

export interface OtlpSink {
  url: string
  /** Every request received, whatever the answer. */
  all: OtlpReceived[]
  spans (): DecodedSpan[]
  resource (): Record<string, unknown>
  waitFor (predicate: () => boolean, timeoutMs?: number): Promise<void>
  close (): Promise<void>
}

const PROTO_DIR = fileURLToPath(new URL('../../../src/encode/otlp/proto/', import.meta.url))

let types: { request: protobuf.Type, response: protobuf.Type } | undefined
function protoTypes (): { request: protobuf.Type, response: protobuf.Type } {
  if (types !== undefined) return types
  const root = new protobuf.Root()
  root.resolvePath = (_origin, target) => target.startsWith(PROTO_DIR) ? target : PROTO_DIR + target
  root.loadSync(['opentelemetry/proto/collector/trace/v1/trace_service.proto'], { keepCase: false })
  types = {
    request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  }
  return types
}

/** A protobuf ExportTraceServiceResponse with a partial success, encoded by the official definitions. */
export function partialSuccessBody (rejectedSpans: number, errorMessage: string): Buffer {
  const t = protoTypes().response
  return Buffer.from(t.encode(t.fromObject({ partialSuccess: { rejectedSpans, errorMessage } })).finish())
}

export async function startOtlpSink (script?: (r: OtlpReceived, index: number) => OtlpReply | undefined): Promise<OtlpSink> {
  const all: OtlpReceived[] = []
  let n = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const raw = Buffer.concat(chunks)
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw
      const contentType = String(req.headers['content-type'] ?? '')
      const rec: OtlpReceived = { headers: req.headers, raw, contentType, request: decode(body, contentType) }
      all.push(rec)
      const reply = script?.(rec, n++) ?? {}
      if (reply.destroy === true) { req.socket.destroy(); return }
      res.writeHead(reply.status ?? 200, { 'Content-Type': contentType, ...reply.headers })
      res.end(reply.body ?? '')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const spans = (): DecodedSpan[] => all.flatMap((r) => r.request.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)))
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    all,
    spans,
    resource: () => all[0]?.request.resourceSpans[0]?.resource ?? {},
    waitFor: async (predicate, timeoutMs = 30_000) => {
      const end = Date.now() + timeoutMs
      while (!predicate()) {
        if (Date.now() > end) throw new Error('otlp sink waitFor timed out')
        await new Promise((r) => setTimeout(r, 10))
      }
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

function decode (body: Buffer, contentType: string): DecodedRequest {
  if (contentType.startsWith('application/json')) return fromJson(JSON.parse(body.toString('utf8')))
  const t = protoTypes().request
  const obj = t.toObject(t.decode(body), { longs: String, enums: Number, bytes: String, defaults: true, arrays: true, objects: true, oneofs: true })
  return fromProto(obj)
}

const b64hex = (s: string): string => Buffer.from(s ?? '', 'base64').toString('hex')

function fromProto (o: any): DecodedRequest {
  return {
    resourceSpans: (o.resourceSpans ?? []).map((rs: any) => ({
      resource: attrs(rs.resource?.attributes, 'proto'),
      scopeSpans: (rs.scopeSpans ?? []).map((ss: any) => ({
        scope: { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' },
        spans: (ss.spans ?? []).map((s: any): DecodedSpan => ({
          traceId: b64hex(s.traceId),
          spanId: b64hex(s.spanId),
          parentSpanId: b64hex(s.parentSpanId),
          traceState: s.traceState ?? '',
          flags: s.flags ?? 0,
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: String(s.startTimeUnixNano),
          endTimeUnixNano: String(s.endTimeUnixNano),
          attributes: attrs(s.attributes, 'proto'),
          events: (s.events ?? []).map((e: any) => ({ name: e.name, timeUnixNano: String(e.timeUnixNano), attributes: attrs(e.attributes, 'proto') })),
          links: (s.links ?? []).map((l: any) => ({ traceId: b64hex(l.traceId), spanId: b64hex(l.spanId), traceState: l.traceState ?? '', flags: l.flags ?? 0, attributes: attrs(l.attributes, 'proto') })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
        })),
      })),
    })),
  }
}

function fromJson (o: any): DecodedRequest {
  return {
    resourceSpans: (o.resourceSpans ?? []).map((rs: any) => ({
      resource: attrs(rs.resource?.attributes, 'json'),
      scopeSpans: (rs.scopeSpans ?? []).map((ss: any) => ({
        scope: { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '' },
        spans: (ss.spans ?? []).map((s: any): DecodedSpan => ({
          traceId: String(s.traceId ?? '').toLowerCase(),
          spanId: String(s.spanId ?? '').toLowerCase(),
          parentSpanId: String(s.parentSpanId ?? '').toLowerCase(),
          traceState: s.traceState ?? '',
          flags: s.flags ?? 0,
          name: s.name,
          kind: s.kind,
          startTimeUnixNano: String(s.startTimeUnixNano),
          endTimeUnixNano: String(s.endTimeUnixNano),
          attributes: attrs(s.attributes, 'json'),
          events: (s.events ?? []).map((e: any) => ({ name: e.name, timeUnixNano: String(e.timeUnixNano), attributes: attrs(e.attributes, 'json') })),
          links: (s.links ?? []).map((l: any) => ({ traceId: String(l.traceId).toLowerCase(), spanId: String(l.spanId).toLowerCase(), traceState: l.traceState ?? '', flags: l.flags ?? 0, attributes: attrs(l.attributes, 'json') })),
          status: { code: s.status?.code ?? 0, message: s.status?.message ?? '' },
        })),
      })),
    })),
  }
}

function attrs (list: any[] | undefined, _from: 'proto' | 'json'): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const kv of list ?? []) out[kv.key] = value(kv.value)
  return out
}

function value (v: any): unknown {
  if (v === undefined || v === null) return null
  // protobufjs with oneofs: true names the member that is set.
  if (typeof v.value === 'string' && v[v.value] !== undefined) return value({ [v.value]: v[v.value] })
  if (v.stringValue !== undefined && v.stringValue !== null) return v.stringValue
  if (v.boolValue !== undefined && v.boolValue !== null) return v.boolValue
  if (v.intValue !== undefined && v.intValue !== null) return BigInt(v.intValue)
  if (v.doubleValue !== undefined && v.doubleValue !== null) return Number(v.doubleValue)
  if (v.bytesValue !== undefined && v.bytesValue !== null) return Buffer.from(v.bytesValue, 'base64')
  if (v.arrayValue !== undefined && v.arrayValue !== null) return (v.arrayValue.values ?? []).map(value)
  if (v.kvlistValue !== undefined && v.kvlistValue !== null) return attrs(v.kvlistValue.values, 'json')
  return null
}
