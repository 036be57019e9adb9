import type { LlmobsSpanEvent } from '../../src/llmobs/event.js'

/** What truncation adds after the cut: the room it keeps for it is 64 bytes. */
export const ERRORS_SUFFIX = Buffer.byteLength(',"collection_errors":["truncated_io"]')
export const MARKER_RE = /…\[truncated (\d+) bytes to fit the event size limit\]$/

export type Wire = Record<string, any>

/** An LLMObs span event as the SDK builds it, with `meta` and top-level fields to add. */
export function event (meta: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): LlmobsSpanEvent {
  return {
    start_ns: '1700000000123456789',
    trace_id: '6567f4a500000000a1b2c3d4e5f60718',
    span_id: '1234567890123',
    parent_id: 'undefined',
    name: 'chat',
    duration: 42_000,
    status: 'ok',
    meta: { span: { kind: 'llm' }, ...meta },
    metrics: { input_tokens: 3 },
    tags: ['language:javascript', 'ml_app:app', 'service:svc'],
    _dd: { span_id: '1234567890123', trace_id: '6567f4a5000000000000000000000abc', apm_trace_id: '6567f4a5000000000000000000000abc' },
    ...extra,
  } as LlmobsSpanEvent
}

export const bytesOf = (e: unknown): number => Buffer.byteLength(JSON.stringify(e))
