import type { OtlpAttribute, OtlpResourceSpans, OtlpSpan, OtlpTracesRequest, OtlpValue } from '../../src/encode/otlp/otlp_types.js'

/** OTLP values built by hand, for intake tests that start from decoded data. */
export function attrs (record: Record<string, OtlpValue>): OtlpAttribute[] {
  return Object.entries(record).map(([key, value]) => ({ key, value }))
}

let next = 0x100
export function spanHex (): string {
  next++
  return next.toString(16).padStart(16, '0')
}

export const T0 = 1_764_000_000_000_000_000n

export function otlpSpan (traceId: string, over: Partial<OtlpSpan> & { attrs?: Record<string, OtlpValue> } = {}): OtlpSpan {
  const { attrs: a, ...rest } = over
  return {
    traceId,
    spanId: spanHex(),
    traceState: '',
    parentSpanId: '',
    flags: 0x101,
    name: 'span',
    kind: 1,
    startTimeUnixNano: T0,
    endTimeUnixNano: T0 + 5_000_000n,
    attributes: attrs(a ?? {}),
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, message: '' },
    ...rest,
  }
}

export function otlpRequest (spans: OtlpSpan[], resource: Record<string, OtlpValue> = { 'service.name': 'otlp-app' }): OtlpTracesRequest {
  const rs: OtlpResourceSpans = {
    resource: { attributes: attrs(resource), droppedAttributesCount: 0 },
    scopeSpans: [{ scope: { name: 'test-scope', version: '1.0.0', attributes: [], droppedAttributesCount: 0 }, spans, schemaUrl: '' }],
    schemaUrl: '',
  }
  return { resourceSpans: [rs] }
}

/** The OpenTelemetry GenAI semconv attributes of one chat call. */
export const CHAT_ATTRS: Record<string, OtlpValue> = {
  'gen_ai.operation.name': 'chat',
  'gen_ai.provider.name': 'openai',
  'gen_ai.request.model': 'gpt-4o',
  'gen_ai.response.model': 'gpt-4o-2024-08-06',
  'gen_ai.request.temperature': 0.7,
  'gen_ai.usage.input_tokens': 12n,
  'gen_ai.usage.output_tokens': 5n,
  'gen_ai.conversation.id': 'c1',
  'gen_ai.input.messages': '[{"role":"user","parts":[{"type":"text","content":"hi"}]}]',
  'gen_ai.output.messages': '[{"role":"assistant","parts":[{"type":"text","content":"hello"}],"finish_reason":"stop"}]',
}
