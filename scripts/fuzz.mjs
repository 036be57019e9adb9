/* global structuredClone, AbortSignal */
// `npm run fuzz` (node scripts/fuzz.mjs): the local agent's decoders under mutated input, then
// the same mutations over HTTP against a running agent. Every decoder must answer every input
// with a result (or, for the JSON checkers, an InvalidInput with a reason) — never another
// exception, never a slow call, never unbounded memory, never a polluted prototype. Over HTTP:
// only 2xx or 4xx, a reason with every refusal, nothing stored from a refused request, and the
// agent still serving at the end.
//
// Options: --per-decoder=<n> (default 100000), --http=<n per endpoint> (default 5000),
// --seed=<int>|random (default fixed), --json (one JSON line on stdout; the table on stderr),
// --call-budget-ms=<n>|off (default 250; the test suite turns it off: on a busy machine a slow
// call is not a wrong one, and a hang still fails it by timeout), --only=all|datadog|otlp (default
// all: the Datadog-protocol decoders and endpoints, the OTLP intake's, or both; the suite runs the
// two halves as two test files, so each fits its time budget on a loaded machine).
// The test suite runs it smaller (test/e2e/agent_fuzz_scaled.test.ts).
import { readFileSync } from 'node:fs'
import { Packr, Unpackr } from 'msgpackr'
import { decodeV04 } from '../dist/src/agent/decode/v04.js'
import { decodeV05 } from '../dist/src/agent/decode/v05.js'
import { decodeMsgpack } from '../dist/src/agent/decode/msgpack_value.js'
import { decodeMetaStructValue } from '../dist/src/agent/decode/trace_span.js'
import { decodeAgentlessTraces } from '../dist/src/agent/decode/agentless_json.js'
import { spansFromEnvelopes } from '../dist/src/agent/span_events.js'
import { evaluationsFromBody } from '../dist/src/agent/evaluations.js'
import { eventFromLlmobs } from '../dist/src/agent/extract.js'
import { InvalidInput } from '../dist/src/agent/json_checks.js'
import { startAgent } from '../dist/src/agent/start_agent.js'
import { MsgpackWriter } from '../dist/src/encode/msgpack_writer.js'
import { assemblePayloadV04, encodeChunkV04 } from '../dist/src/encode/v04.js'
import { V05PayloadBuilder } from '../dist/src/encode/v05.js'
import { newEncodeStats } from '../dist/src/encode/encode_stats.js'
import { decodeStatus, decodeTracesRequest, encodeTracesRequest } from '../dist/src/encode/otlp/index.js'
import { ingestOtlp } from '../dist/src/agent/otlp/otlp_ingest.js'
import { newBatch } from '../dist/src/agent/store.js'

const args = process.argv.slice(2)
const option = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback
const PER_DECODER = Number(option('per-decoder', '100000'))
const HTTP_PER_ENDPOINT = Number(option('http', '5000'))
const seedArg = option('seed', '20240607')
const SEED = seedArg === 'random' ? Math.floor(Math.random() * 2 ** 31) : Number(seedArg)
const JSON_OUT = args.includes('--json')
const ONLY = option('only', 'all')
if (!['all', 'datadog', 'otlp'].includes(ONLY)) throw new Error(`--only must be all, datadog or otlp, got ${ONLY}`)
/** One decode of a body of a few KiB must never take long (no quadratic paths, no hangs). */
const budgetArg = option('call-budget-ms', '250')
const CALL_BUDGET_MS = budgetArg === 'off' ? Infinity : Number(budgetArg)
const HEAP_BUDGET_BYTES = 256 * 1024 * 1024
const say = (line) => (JSON_OUT ? process.stderr : process.stdout).write(line + '\n')

/** mulberry32: small, seedable; the seed reproduces a run. */
function rng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = rng(SEED)
const int = (n) => Math.floor(rand() * n)
const pick = (xs) => xs[int(xs.length)]

// ---- base inputs: what tracers really send ------------------------------------------------
const DATA = new URL('../test/data/dd-trace-js-5.132/', import.meta.url)
const packr = new Packr({ useRecords: false, variableMapSize: true })
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' })
const llmobsDoc = (traceId) => ({
  trace_id: traceId,
  parent_id: 'undefined',
  name: 'chat',
  ml_app: 'fuzz-app',
  session_id: 's-1',
  tags: { env: 'fuzz', ml_app: 'fuzz-app', service: 'svc' },
  meta: { span: { kind: 'llm' }, model_name: 'm', input: { messages: [{ role: 'user', content: 'héllo "q"' }] }, metadata: { flags: [true, null, 1.5] } },
  metrics: { input_tokens: 3, output_tokens: 4 },
  _dd: { span_id: '1', trace_id: 'a'.repeat(32), apm_trace_id: 'a'.repeat(32) },
})
function ourV04 () {
  const span = {
    traceId: 'fedcba9876543210', spanId: '00000000000000ff', parentId: '0000000000000000', name: 'llm', service: 's', resource: 'r', type: 'llm',
    startSec: 1795611232, startNsec: 1, duration: 99, error: 0, meta: { '_dd.p.tid': '6553f10000000000' }, metrics: { _sampling_priority_v1: 1 }, metaStruct: { _llmobs: llmobsDoc('fz-1') },
  }
  const w = new MsgpackWriter()
  encodeChunkV04([span, { ...span, spanId: '0000000000000100', parentId: '00000000000000ff', metaStruct: undefined, metrics: {} }], w, newEncodeStats())
  return assemblePayloadV04([w.toBuffer()])
}
function ourV05 () {
  const b = new V05PayloadBuilder()
  b.addChunk([{ traceId: '0000000000000abc', spanId: '0000000000000001', parentId: '0000000000000000', name: 'n', service: 's', resource: 'r', type: 'web', startSec: 1795611232, startNsec: 5, duration: 7, error: 1, meta: { a: 'b' }, metrics: { _sampling_priority_v1: 2 }, metaStruct: undefined }], newEncodeStats())
  return b.finish()
}
const v04Bases = [readFileSync(new URL('01_v0.4_traces.body', DATA)), ourV04(), packr.pack([[{ trace_id: 0xffffffffffffffffn, span_id: 3, parent_id: null, name: 'x', start: 2n ** 62n, duration: 7, error: 1, meta: { k: 'v' }, metrics: { m: 0.5 }, meta_struct: { _llmobs: packr.pack(llmobsDoc('fz-2')) } }], []])]
const v05Bases = [readFileSync(new URL('v05-01_v0.5_traces.body', DATA)), ourV05()]
const metaStructBases = [packr.pack(llmobsDoc('fz-3')), packr.pack({ trace_id: 'x', tags: ['a:b'], meta: { 'span.kind': 'tool' }, span_links: [{ trace_id: 'y' }] })]
const agentlessBases = [JSON.stringify({ traces: [{ spans: [{ trace_id: 'fedcba9876543210', span_id: 'ff', parent_id: '0', name: 'n', service: 's', resource: 'r', type: 'llm', start: 1795611232, duration: 5, error: 0, meta: { '_dd.p.tid': '6553f10000000000' }, metrics: { _sampling_priority_v1: 0 }, meta_struct: { _llmobs: llmobsDoc('fz-4') } }] }] })]
const evpBases = [readFileSync(new URL('02_evp_proxy_v2_api_v2_llmobs.body', DATA), 'utf8'), JSON.stringify([{ event_type: 'span', spans: [{ ...llmobsDoc('fz-5'), span_id: '77', start_ns: 1795611232000000000, duration: 5, status: 'ok', tags: ['ml_app:fuzz-app'] }] }])]
// OTLP: a GenAI chat span under an HTTP server span, with an event and a link, as exporters send it.
const otlpKv = (o) => Object.entries(o).map(([key, value]) => ({ key, value }))
const otlpSpanOf = (spanId, parentSpanId, name, attributes) => ({
  traceId: '5b8efff798038103d269b633813fc60c', spanId, traceState: '', parentSpanId, flags: 0x101, name, kind: 3,
  startTimeUnixNano: 1795611232000000000n, endTimeUnixNano: 1795611232500000000n, attributes: otlpKv(attributes), droppedAttributesCount: 0,
  events: [{ timeUnixNano: 1795611232100000000n, name: 'gen_ai.client.inference.operation.details', attributes: otlpKv({ 'gen_ai.system_instructions': '[{"type":"text","content":"be brief"}]' }), droppedAttributesCount: 0 }],
  droppedEventsCount: 0,
  links: [{ traceId: 'aa'.repeat(16), spanId: 'bb'.repeat(8), traceState: '', attributes: otlpKv({ from: 'x' }), droppedAttributesCount: 0, flags: 1 }],
  droppedLinksCount: 0,
  status: { code: 0, message: '' },
})
const otlpRequestBase = {
  resourceSpans: [{
    resource: { attributes: otlpKv({ 'service.name': 'fuzz-app', 'deployment.environment.name': 'fuzz' }), droppedAttributesCount: 0 },
    scopeSpans: [{
      scope: { name: 'fuzz', version: '1', attributes: [], droppedAttributesCount: 0 },
      spans: [
        otlpSpanOf('00000000000000aa', '', 'GET /chat', { 'http.request.method': 'GET', 'http.route': '/chat' }),
        otlpSpanOf('00000000000000ab', '00000000000000aa', 'chat', {
          'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.response.model': 'gpt-4o', 'gen_ai.usage.input_tokens': 12n,
          'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"héllo"}]}]', 'gen_ai.request.stop_sequences': ['a', 'b'],
          'app.meta': { kvlist: otlpKv({ k: 1.5, b: new Uint8Array([1, 2]) }) },
        }),
      ],
      schemaUrl: '',
    }],
    schemaUrl: '',
  }],
}
const otlpProtoBases = [Buffer.from(encodeTracesRequest(otlpRequestBase, 'protobuf'))]
const otlpJsonBases = [Buffer.from(encodeTracesRequest(otlpRequestBase, 'json')).toString('utf8')]
/** The OTLP intake without HTTP: decode, then the mapping into a batch (which must never throw). */
const otlpIntake = (bytes, enc) => {
  const d = decodeTracesRequest(bytes, enc)
  if (!d.ok) return false
  ingestOtlp(d.value, newBatch())
  return true
}
const evalBases = [readFileSync(new URL('03_evp_proxy_v2_api_intake_llm_obs_v2_eval_metric.body', DATA), 'utf8')]

// ---- mutations ----------------------------------------------------------------------------
const INTERESTING = [0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcf, 0xd3, 0xd4, 0xd8, 0xd9, 0xdb, 0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff]
const LENGTH_FIELD = { 0xc4: 1, 0xc5: 2, 0xc6: 4, 0xc7: 1, 0xc8: 2, 0xc9: 4, 0xd9: 1, 0xda: 2, 0xdb: 4, 0xdc: 2, 0xdd: 4, 0xde: 2, 0xdf: 4 }

/** Framing-level: flips, magic bytes, insertions, deletions, splices, length fields, truncation. */
function mutateBytes (input, bases) {
  let b = Buffer.from(input)
  for (let k = 0, rounds = 1 + int(3); k < rounds; k++) {
    const at = int(b.length + 1)
    switch (int(8)) {
      case 0: for (let i = 0, n = 1 + int(4); i < n && b.length > 0; i++) b[int(b.length)] ^= 1 << int(8); break
      case 1: if (b.length > 0) b[int(b.length)] = pick(INTERESTING); break
      case 2: b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(8) }, () => (rand() < 0.5 ? pick(INTERESTING) : int(256)))), b.subarray(at)]); break
      case 3: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(16)))]); break
      case 4: { const o = pick(bases); const from = int(o.length); b = Buffer.concat([b.subarray(0, at), Buffer.from(o.subarray(from, from + 1 + int(64))), b.subarray(Math.min(b.length, at + int(64)))]); break }
      case 5: {
        const heads = []
        for (let i = 0; i < b.length; i++) if (LENGTH_FIELD[b[i]] !== undefined) heads.push(i)
        if (heads.length === 0) break
        const h = pick(heads)
        const choice = int(3)
        for (let i = 1; i <= LENGTH_FIELD[b[h]] && h + i < b.length; i++) b[h + i] = choice === 0 ? 0xff : choice === 1 ? b[h + i] ^ 1 : int(256)
        break
      }
      case 6: b = b.subarray(0, at); break
      default: { const len = 1 + int(32); b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]) }
    }
  }
  return b
}

const JSON_CHARS = '{}[]",:-0123456789.eE \\ntfu\u0000\ud800'
/** Character-level for JSON text. */
function mutateText (src) {
  let s = src
  for (let k = 0, rounds = 1 + int(3); k < rounds; k++) {
    const at = int(s.length + 1)
    switch (int(5)) {
      case 0: s = s.slice(0, at) + pick(JSON_CHARS) + s.slice(at + 1); break
      case 1: s = s.slice(0, at) + pick(JSON_CHARS) + s.slice(at); break
      case 2: s = s.slice(0, at) + s.slice(at + 1 + int(8)); break
      case 3: s = s.slice(0, at); break
      default: { const len = 1 + int(32); s = s.slice(0, at + len) + s.slice(at, at + len) + s.slice(at + len) }
    }
  }
  return s
}

/** Values of every type a decoder may meet in the wrong place. */
function oddValue (forMsgpack) {
  switch (int(16)) {
    case 0: return null
    case 1: return rand() < 0.5
    case 2: return -1
    case 3: return 2 ** 53 + 1
    case 4: return forMsgpack ? 2n ** 64n - 1n : 1e308
    case 5: return forMsgpack ? -(2n ** 63n) : -1e308
    case 6: return 0.5
    case 7: return ''
    case 8: return 'x'.repeat(int(3) === 0 ? 70_000 : 40)
    case 9: return []
    case 10: return {}
    case 11: return forMsgpack ? new Uint8Array([0xc1, 0xff, 0x00]) : '\u0000\ud800'
    case 12: { let v = []; for (let i = 0, n = 50 + int(200); i < n; i++) v = [v]; return v }
    case 13: return JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}')
    case 14: return Array.from({ length: 1 + int(2000) }, (_, i) => i)
    default: return 'undefined'
  }
}

/** Every container node of a value tree, with a way to replace or delete a child. */
function nodes (v, out = [], depth = 0) {
  if (v === null || typeof v !== 'object' || v instanceof Uint8Array || depth > 40) return out
  out.push(v)
  for (const k of Object.keys(v)) nodes(v[k], out, depth + 1)
  return out
}

/** Structure-level: a field of the wrong type, missing, duplicated, or an unexpected key. */
function mutateValue (value, forMsgpack) {
  const root = structuredClone(value)
  const all = nodes(root)
  for (let k = 0, rounds = 1 + int(2); k < rounds && all.length > 0; k++) {
    const node = pick(all)
    const keys = Object.keys(node)
    const key = keys.length > 0 ? pick(keys) : undefined
    switch (int(5)) {
      case 0: if (key !== undefined) node[key] = oddValue(forMsgpack); break
      case 1: if (key !== undefined) { if (Array.isArray(node)) node.splice(Number(key), 1); else delete node[key] } break
      case 2: if (Array.isArray(node)) node.push(structuredClone(node[0] ?? oddValue(forMsgpack))); else node[pick(['__proto__', 'constructor', 'hasOwnProperty', 'toString', '', 'span_links', 'x'.repeat(300)])] = oddValue(forMsgpack); break
      case 3: if (key !== undefined && typeof node[key] === 'string') node[key] = node[key] + pick(['\u0000', '\ud800', '"', '\\', 'é', '0'.repeat(30)]); break
      default: if (key !== undefined) node[key] = structuredClone(pick(all))
    }
  }
  return root
}

// ---- the decoders under test --------------------------------------------------------------
const carrier = { spanId: 255n, name: 'carrier', start: 1795611232000000001n, duration: 5n, error: 0 }
const tolerate = (fn) => { try { return fn() } catch (err) { if (err instanceof InvalidInput) return 'invalid'; throw err } }
const parsedOrInvalid = (text, check) => { let doc; try { doc = JSON.parse(text) } catch { return 'invalid' } return tolerate(() => check(doc)) }
const okOf = (r) => (r === 'invalid' ? false : r?.ok ?? true)

const DECODERS = [
  { name: 'v0.4 traces (msgpack)', bases: v04Bases, structured: () => unpackr.unpack(pick(v04Bases)), encode: (v) => packr.pack(v), run: (b) => okOf(decodeV04(b)) },
  { name: 'v0.5 traces (msgpack)', bases: v05Bases, structured: () => unpackr.unpack(pick(v05Bases)), encode: (v) => packr.pack(v), run: (b) => okOf(decodeV05(b)) },
  // Map keys must be strings here, so v0.5 (integer-keyed maps) is not a base: its bytes still come in through splices.
  { name: 'msgpack values', bases: [...v04Bases, ...metaStructBases], structured: () => unpackr.unpack(pick(metaStructBases)), encode: (v) => packr.pack(v), run: (b) => okOf(decodeMsgpack(b)) },
  { name: 'meta_struct documents', bases: metaStructBases, structured: () => unpackr.unpack(pick(metaStructBases)), encode: (v) => packr.pack(v), run: (b) => okOf(decodeMetaStructValue(b)) },
  {
    name: '_llmobs extraction',
    bases: metaStructBases,
    structured: () => llmobsDoc('fz-6'),
    encode: (v) => packr.pack(v),
    run: (b) => { const d = decodeMetaStructValue(b); return d.ok ? okOf(tolerate(() => eventFromLlmobs(d.value, carrier, 'a'.repeat(32), 'trace', 'chunk 0 span 0'))) : false },
  },
  { name: '/v1/input agentless JSON', text: true, bases: agentlessBases, structured: () => JSON.parse(pick(agentlessBases)), encode: (v) => JSON.stringify(v), run: (t) => okOf(decodeAgentlessTraces(t)) },
  { name: 'LLMObs span events JSON', text: true, bases: evpBases, structured: () => JSON.parse(pick(evpBases)), encode: (v) => JSON.stringify(v), run: (t) => okOf(parsedOrInvalid(t, (d) => spansFromEnvelopes(d, 'evp'))) },
  { name: 'eval-metric JSON', text: true, bases: evalBases, structured: () => JSON.parse(pick(evalBases)), encode: (v) => JSON.stringify(v), run: (t) => okOf(parsedOrInvalid(t, (d) => evaluationsFromBody(d, 'evp'))) },
]
// The OTLP intake's decode + mapping; a mutant that no longer encodes falls back to byte mutations.
const OTLP_DECODERS = [
  { name: 'OTLP intake (protobuf)', bases: otlpProtoBases, structured: () => structuredClone(otlpRequestBase), encode: (v) => encodeTracesRequest(v, 'protobuf'), run: (b) => otlpIntake(b, 'protobuf') },
  { name: 'OTLP intake (JSON)', text: true, bases: otlpJsonBases, structured: () => JSON.parse(pick(otlpJsonBases)), encode: (v) => JSON.stringify(v), run: (t) => otlpIntake(Buffer.from(t), 'json') },
]

function mutantFor (d) {
  if (rand() < 0.5) {
    try { return d.encode(mutateValue(d.structured(), !d.text)) } catch { /* an unencodable mutant: fall back to bytes */ }
  }
  return d.text ? mutateText(pick(d.bases)) : mutateBytes(pick(d.bases), d.bases)
}

const protoKeys = () => Object.getOwnPropertyNames(Object.prototype).join(',')
const pristine = protoKeys()

function fuzzDecoder (d, n) {
  for (const base of d.bases) if (!d.run(d.text ? base : Buffer.from(base))) throw new Error(`${d.name}: a base input is not accepted`)
  const r = { decoder: d.name, payloads: n, accepted: 0, rejected: 0, slowestMs: 0, failures: [] }
  const heapStart = process.memoryUsage().heapUsed
  let heapPeak = heapStart
  const t0 = performance.now()
  for (let i = 0; i < n; i++) {
    const input = mutantFor(d)
    const started = performance.now()
    try {
      if (d.run(input)) r.accepted++
      else r.rejected++
    } catch (err) {
      if (r.failures.length < 5) r.failures.push(`#${i} threw ${err?.name}: ${String(err?.message).slice(0, 200)} for ${d.text ? JSON.stringify(input.slice(0, 300)) : Buffer.from(input).subarray(0, 300).toString('hex')}`)
      else r.failures.push('')
    }
    const took = performance.now() - started
    if (took > r.slowestMs) r.slowestMs = took
    if (i % 500 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed)
  }
  r.ms = Math.round(performance.now() - t0)
  r.heapPeakMiB = Math.round((heapPeak - heapStart) / 1048576)
  if (r.slowestMs > CALL_BUDGET_MS) r.failures.push(`slowest call ${r.slowestMs.toFixed(1)} ms (budget ${CALL_BUDGET_MS} ms)`)
  if (heapPeak - heapStart > HEAP_BUDGET_BYTES) r.failures.push(`heap grew ${r.heapPeakMiB} MiB`)
  if (protoKeys() !== pristine || ({}).polluted !== undefined) r.failures.push('Object.prototype was modified')
  if (r.rejected < n / 10) r.failures.push(`only ${r.rejected} of ${n} rejected: the mutations are too gentle to prove much`)
  if (r.accepted === 0) r.failures.push('no mutant accepted: the mutations never reach the semantic checks')
  r.slowestMs = Number(r.slowestMs.toFixed(2))
  return r
}

// ---- over HTTP ----------------------------------------------------------------------------
const ENDPOINTS = [
  { path: '/v0.4/traces', method: 'PUT', type: 'application/msgpack', decoder: DECODERS[0] },
  { path: '/v0.5/traces', method: 'PUT', type: 'application/msgpack', decoder: DECODERS[1] },
  { path: '/evp_proxy/v2/api/v2/llmobs', method: 'POST', type: 'application/json', headers: { 'X-Datadog-EVP-Subdomain': 'llmobs-intake' }, decoder: DECODERS[6] },
  { path: '/api/v2/llmobs', method: 'POST', type: 'application/json', headers: { 'DD-API-KEY': 'fuzz' }, decoder: DECODERS[6] },
  { path: '/v1/input', method: 'POST', type: 'application/json', headers: { 'DD-API-KEY': 'fuzz' }, decoder: DECODERS[5] },
  { path: '/evp_proxy/v2/api/intake/llm-obs/v2/eval-metric', method: 'POST', type: 'application/json', headers: { 'X-Datadog-EVP-Subdomain': 'api' }, decoder: DECODERS[7] },
  // On the agent's OTLP port; refusals carry a google.rpc.Status in the request's encoding.
  { path: '/v1/traces', otlp: true, method: 'POST', type: 'application/x-protobuf', decoder: OTLP_DECODERS[0], reason: (bytes) => decodeStatus(bytes, 'protobuf') },
  { path: '/v1/traces', otlp: true, method: 'POST', type: 'application/json', decoder: OTLP_DECODERS[1], reason: (bytes) => decodeStatus(bytes, 'json') },
]

async function fuzzHttp (n) {
  const agent = await startAgent({ port: 0, otlpPort: 0, db: ':memory:', logger: { info: () => {}, warn: () => {} } })
  const rows = []
  const rssStart = process.memoryUsage().rss
  try {
    for (const ep of ENDPOINTS.filter((e) => ONLY === 'all' || (ONLY === 'otlp') === (e.otlp === true))) {
      const before = agent.counters()
      const spansBefore = agent.store.queries.countSpans()
      const r = { endpoint: ep.otlp ? `OTLP ${ep.path} (${ep.type})` : ep.path, requests: n, accepted: 0, rejected: 0, slowestMs: 0, failures: [] }
      let next = 0
      const worker = async () => {
        while (next < n) {
          const i = next++
          const body = mutantFor(ep.decoder)
          const started = performance.now()
          let res
          try {
            res = await fetch((ep.otlp ? agent.otlpUrl : agent.url) + ep.path, { method: ep.method, headers: { 'Content-Type': ep.type, ...ep.headers }, body, signal: AbortSignal.timeout(10_000) })
          } catch (err) {
            r.failures.push(`#${i}: no answer (${err?.name}: ${err?.message})`)
            continue
          }
          const bytes = new Uint8Array(await res.arrayBuffer())
          const text = new TextDecoder().decode(bytes)
          r.slowestMs = Math.max(r.slowestMs, performance.now() - started)
          if (res.status >= 200 && res.status < 300) r.accepted++
          else if (res.status >= 400 && res.status < 500) {
            r.rejected++
            let reason
            if (ep.reason !== undefined) {
              const status = ep.reason(bytes)
              // A 415 names no encoding it could answer in: JSON, as the other endpoints.
              reason = status.ok ? status.value.message : decodeStatus(bytes, 'json').value?.message
            } else {
              try { reason = JSON.parse(text).error } catch { reason = undefined }
            }
            if (typeof reason !== 'string' || reason === '') r.failures.push(`#${i}: ${res.status} without a reason: ${text.slice(0, 100)}`)
          } else r.failures.push(`#${i}: status ${res.status} ${text.slice(0, 200)}`)
        }
      }
      await Promise.all(Array.from({ length: 8 }, worker))
      const after = agent.counters()
      const stored = (c) => c.llmobs_extracted + c.llmobs_evp + c.llmobs_agentless + c.llmobs_otlp - c.duplicates_suppressed
      if (after.payloads_received - before.payloads_received !== r.accepted) r.failures.push(`payloads_received grew by ${after.payloads_received - before.payloads_received}, ${r.accepted} accepted`)
      if (after.requests_rejected - before.requests_rejected !== r.rejected) r.failures.push(`requests_rejected grew by ${after.requests_rejected - before.requests_rejected}, ${r.rejected} refused`)
      if (agent.store.queries.countSpans() - spansBefore !== stored(after) - stored(before)) r.failures.push('rows stored differ from what the counters say was accepted')
      if (r.rejected < n / 10 || r.accepted === 0) r.failures.push(`accepted ${r.accepted}, rejected ${r.rejected}: both outcomes must be exercised`)
      r.slowestMs = Number(r.slowestMs.toFixed(1))
      rows.push(r)
    }
    const info = await fetch(agent.url + '/info')
    if (info.status !== 200) rows[rows.length - 1].failures.push('the agent stopped serving')
    await info.text()
  } finally {
    await agent.close()
  }
  return { rows, rssGrowthMiB: Math.round((process.memoryUsage().rss - rssStart) / 1048576) }
}

// ---- run and report -----------------------------------------------------------------------
const started = performance.now()
say(`fuzz: seed ${SEED}, ${PER_DECODER} mutated inputs per decoder, ${HTTP_PER_ENDPOINT} per HTTP endpoint`)
const decoders = [...(ONLY === 'otlp' ? [] : DECODERS), ...(ONLY === 'datadog' ? [] : OTLP_DECODERS)].map((d) => fuzzDecoder(d, PER_DECODER))
const http = HTTP_PER_ENDPOINT > 0 ? await fuzzHttp(HTTP_PER_ENDPOINT) : { rows: [], rssGrowthMiB: 0 }
const elapsedS = Math.round((performance.now() - started) / 1000)

say('')
say('| decoder | inputs | accepted | rejected | slowest call | time | failures |')
say('|---|---:|---:|---:|---:|---:|---|')
for (const r of decoders) say(`| ${r.decoder} | ${r.payloads} | ${r.accepted} | ${r.rejected} | ${r.slowestMs} ms | ${r.ms} ms | ${r.failures.length === 0 ? 'none' : r.failures.filter(Boolean).join('; ')} |`)
if (http.rows.length > 0) {
  say('')
  say('| HTTP endpoint | requests | 2xx | 4xx | slowest | failures |')
  say('|---|---:|---:|---:|---:|---|')
  for (const r of http.rows) say(`| ${r.endpoint} | ${r.requests} | ${r.accepted} | ${r.rejected} | ${r.slowestMs} ms | ${r.failures.length === 0 ? 'none' : r.failures.slice(0, 5).join('; ')} |`)
  say(`\nrss growth over the HTTP fuzz: ${http.rssGrowthMiB} MiB`)
}
say(`took ${elapsedS} s (seed ${SEED})`)
const failed = [...decoders, ...http.rows].some((r) => r.failures.length > 0) || http.rssGrowthMiB > 512
if (JSON_OUT) console.log(JSON.stringify({ ok: !failed, seed: SEED, elapsedS, decoders, http }))
process.exitCode = failed ? 1 : 0
