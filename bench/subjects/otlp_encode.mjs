// OTLP encoding of a 10-span trace (an HTTP root, LLM calls with GenAI attributes, an event and a
// link): ours (protobuf, JSON) vs the official serializers of @opentelemetry/otlp-transformer
// 0.223 (the newest on Node 20), from the same spans. The official ones start from SDK
// ReadableSpans, ours from the OtlpTracesRequest the exporter builds; that build is not counted.
//
// `node bench/subjects/otlp_encode.mjs <subject>` prints {"nsPerOp":...} (a timing subject for
// bench/run.mjs); `node bench/subjects/otlp_encode.mjs <subject> <n>` encodes n times and prints
// nothing, for instruction counts:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded \
//     --predictable-gc-schedule bench/subjects/otlp_encode.mjs <subject> <n>
// (the difference between a long and a short run, so start-up cancels).
// Subjects: llmobs-ts (protobuf), llmobs-ts-json, otel (protobuf), otel-json.
import { SpanKind, SpanStatusCode, TraceFlags, ROOT_CONTEXT, trace } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { ProtobufTraceSerializer, JsonTraceSerializer } from '@opentelemetry/otlp-transformer'
import { measure } from '../lib/measure.mjs'
import { encodeTracesRequest } from '../../dist/src/encode/otlp/index.js'

const subject = process.argv[2]
const count = process.argv[3] === undefined ? undefined : Number(process.argv[3])

function makeSpans () {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'bench', 'service.version': '1.0.0', 'deployment.environment.name': 'bench', 'telemetry.sdk.language': 'nodejs' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  })
  const tracer = provider.getTracer('bench-lib', '1.0.0')
  const t0 = 1764000000000
  const root = tracer.startSpan('GET /chat', { kind: SpanKind.SERVER, startTime: t0, attributes: { 'http.request.method': 'GET', 'http.route': '/chat', 'http.response.status_code': 200, 'url.path': '/chat', 'server.address': 'localhost' } })
  const ctx = trace.setSpan(ROOT_CONTEXT, root)
  for (let i = 0; i < 9; i++) {
    const llm = i % 3 === 0
    const span = tracer.startSpan(llm ? 'chat gpt-4o-mini' : `step ${i}`, {
      kind: llm ? SpanKind.CLIENT : SpanKind.INTERNAL,
      startTime: t0 + i,
      links: i === 1 ? [{ context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: TraceFlags.SAMPLED }, attributes: { 'link.kind': 'retry' } }] : [],
      attributes: llm
        ? {
            'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.response.model': 'gpt-4o-mini-2024-07-18',
            'gen_ai.usage.input_tokens': 120, 'gen_ai.usage.output_tokens': 48, 'gen_ai.request.temperature': 0.2, 'gen_ai.response.finish_reasons': ['stop'],
            'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'What is the capital of France?' }] }]),
            'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Paris.' }], finish_reason: 'stop' }]),
          }
        : { 'code.function.name': `step${i}`, 'app.items': i, 'app.ok': true },
    }, ctx)
    if (i === 2) span.addEvent('exception', { 'exception.type': 'Error', 'exception.message': 'retry' }, t0 + i)
    if (i === 4) span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' })
    span.end(t0 + i + 5)
  }
  root.end(t0 + 20)
  return exporter.getFinishedSpans()
}

const nanos = (hr) => BigInt(hr[0]) * 1_000_000_000n + BigInt(hr[1])
const value = (v) => Array.isArray(v) ? v.map(value) : typeof v === 'number' && Number.isInteger(v) ? BigInt(v) : v
const attrs = (a) => Object.entries(a ?? {}).map(([key, v]) => ({ key, value: value(v) }))

/** The same spans as our exporter would hand them to the codec. */
function toRequest (spans) {
  return {
    resourceSpans: [{
      resource: { attributes: attrs(spans[0].resource.attributes), droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeSpans: [{
        scope: { name: 'bench-lib', version: '1.0.0', attributes: [], droppedAttributesCount: 0 },
        schemaUrl: '',
        spans: spans.map((s) => ({
          traceId: s.spanContext().traceId, spanId: s.spanContext().spanId, traceState: '', parentSpanId: s.parentSpanContext?.spanId ?? '',
          flags: s.spanContext().traceFlags | 0x100, name: s.name, kind: s.kind + 1, startTimeUnixNano: nanos(s.startTime), endTimeUnixNano: nanos(s.endTime),
          attributes: attrs(s.attributes), droppedAttributesCount: 0,
          events: s.events.map((e) => ({ timeUnixNano: nanos(e.time), name: e.name, attributes: attrs(e.attributes), droppedAttributesCount: 0 })), droppedEventsCount: 0,
          links: s.links.map((l) => ({ traceId: l.context.traceId, spanId: l.context.spanId, traceState: '', attributes: attrs(l.attributes), droppedAttributesCount: 0, flags: l.context.traceFlags | 0x100 })), droppedLinksCount: 0,
          status: { code: s.status.code, message: s.status.message ?? '' },
        })),
      }],
    }],
  }
}

const spans = makeSpans()
if (spans.length !== 10) throw new Error(`expected 10 spans, got ${spans.length}`)
const request = toRequest(spans)

const SUBJECTS = {
  'llmobs-ts': () => encodeTracesRequest(request, 'protobuf'),
  'llmobs-ts-json': () => encodeTracesRequest(request, 'json'),
  otel: () => ProtobufTraceSerializer.serializeRequest(spans),
  'otel-json': () => JsonTraceSerializer.serializeRequest(spans),
}
const op = SUBJECTS[subject]
if (op === undefined) throw new Error(`unknown subject ${subject}; one of ${Object.keys(SUBJECTS).join(', ')}`)

if (count !== undefined) {
  for (let i = 0; i < count; i++) op()
} else {
  const result = await measure(op, { iterations: 20_000, warmup: 5_000 })
  process.stdout.write(JSON.stringify(result) + '\n')
}
