import { readFileSync } from 'node:fs'
import { encodeChunkV04, assemblePayloadV04 } from '../../src/encode/v04.js'
import { MsgpackWriter } from '../../src/encode/msgpack_writer.js'
import { newEncodeStats } from '../../src/encode/encode_stats.js'
import type { SpanData } from '../../src/model/span_data.js'
import type { Counters } from '../../src/agent/counters.js'
import { zeroCounters } from '../../src/agent/counters.js'

/** Helpers for local-agent tests: real HTTP requests, payloads built with our encoders. */

export interface Reply {
  status: number
  body: string
  json: unknown
  headers: Headers
}

export async function request (base: string, path: string, init: { method?: string, headers?: Record<string, string>, body?: Uint8Array | string } = {}): Promise<Reply> {
  const res = await fetch(base + path, { method: init.method ?? 'GET', headers: init.headers, body: init.body })
  const body = await res.text()
  let json: unknown
  try { json = JSON.parse(body) } catch { json = undefined }
  return { status: res.status, body, json, headers: res.headers }
}

/** `headers`: e.g. `{ 'DD-API-KEY': key }` for an agent started with an API key. */
export async function getJson<T = Record<string, unknown>> (base: string, path: string, headers?: Record<string, string>): Promise<T> {
  const r = await request(base, path, { headers })
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body}`)
  return r.json as T
}

export function putTraces (base: string, body: Uint8Array, version: 'v0.4' | 'v0.5' = 'v0.4', headers: Record<string, string> = {}): Promise<Reply> {
  return request(base, `/${version}/traces`, { method: 'PUT', headers: { 'Content-Type': 'application/msgpack', ...headers }, body })
}

export function postEvp (base: string, events: unknown[], subdomain = 'llmobs-intake'): Promise<Reply> {
  const body = JSON.stringify(events.map((e) => ({ '_dd.stage': 'raw', '_dd.tracer_version': 'test', event_type: 'span', spans: [e] })))
  return request(base, '/evp_proxy/v2/api/v2/llmobs', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Datadog-EVP-Subdomain': subdomain }, body })
}

export async function counters (base: string, headers?: Record<string, string>): Promise<Counters> {
  return getJson<Counters>(base, '/api/counters', headers)
}

/** `POST /api/reset` as the agent accepts it: a JSON body (never a CORS-simple request). */
export function resetAgent (base: string, headers: Record<string, string> = {}): Promise<Reply> {
  return request(base, '/api/reset', { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: '{}' })
}

/** Zero counters with some set: for exact `deepEqual` checks. */
export function expected (partial: Partial<Counters>): Counters {
  return { ...zeroCounters(), ...partial }
}

let nextId = 0x1000
/** A unique 16-hex id for test spans. */
export function hexId (): string {
  nextId++
  return nextId.toString(16).padStart(16, '0')
}

export function spanData (overrides: Partial<SpanData> = {}): SpanData {
  return {
    traceId: '00000000000000aa',
    spanId: hexId(),
    parentId: '0000000000000000',
    name: 'op',
    service: 'svc',
    resource: 'res',
    type: '',
    startSec: 1_700_000_000,
    startNsec: 123_456_789,
    duration: 5_000_000,
    error: 0,
    meta: {},
    metrics: {},
    metaStruct: undefined,
    ...overrides,
  }
}

/** A v0.4 body from chunks of SpanData, encoded by our encoder. */
export function v04Body (chunks: SpanData[][]): Buffer {
  const parts: Buffer[] = []
  for (const chunk of chunks) {
    const w = new MsgpackWriter({ initialCapacity: 1024 })
    const r = encodeChunkV04(chunk, w, newEncodeStats())
    if (r !== 'ok') throw new Error(`encode failed: ${r}`)
    parts.push(w.toBuffer())
  }
  return assemblePayloadV04(parts)
}

/** `_llmobs` as our SDK writes it (DESIGN §3.5). */
export function llmobsDoc (traceId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    trace_id: traceId,
    parent_id: 'undefined',
    name: 'chat',
    ml_app: 'test-app',
    session_id: 'sess-1',
    tags: { env: 'test', ml_app: 'test-app', service: 'svc' },
    meta: { span: { kind: 'llm' }, model_name: 'gpt-4o', input: { messages: [{ role: 'user', content: 'hi' }] } },
    metrics: { input_tokens: 3, output_tokens: 4, total_tokens: 7 },
    _dd: {},
    ...overrides,
  }
}

/** An LLMObs span event as an LLMObs writer posts it. */
export function spanEvent (traceId: string, spanId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    trace_id: traceId,
    span_id: spanId,
    parent_id: 'undefined',
    name: 'chat',
    start_ns: 1_700_000_000_123_456_800, // as a double holds it
    duration: 5_000_000,
    status: 'ok',
    meta: { 'span.kind': 'llm' },
    metrics: {},
    tags: ['ml_app:test-app'],
    _dd: { span_id: spanId, trace_id: '0'.repeat(32), apm_trace_id: '0'.repeat(32) },
    ...overrides,
  }
}

const FIXTURES = new URL('../../../test/data/dd-trace-js-5.132/', import.meta.url)

export interface Fixture { method: string, url: string, headers: Record<string, string>, body: Buffer }

/** A captured dd-trace-js request (headers minus hop-by-hop ones). */
export function fixture (name: string): Fixture {
  const h = JSON.parse(readFileSync(new URL(`${name}.headers.json`, FIXTURES), 'utf8')) as { method: string, url: string, headers: Record<string, string> }
  const headers = { ...h.headers }
  delete headers.host
  delete headers.connection
  delete headers['content-length']
  return { method: h.method, url: h.url, headers, body: readFileSync(new URL(`${name}.body`, FIXTURES)) }
}

export function sendFixture (base: string, f: Fixture): Promise<Reply> {
  return request(base, f.url, { method: f.method, headers: f.headers, body: f.body })
}

export async function waitFor (predicate: () => Promise<boolean> | boolean, timeoutMs = 30_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
