import type { Span } from '../trace/span.js'
import type { SpanData } from '../trace/span_data.js'
import type { EventRecord } from '../export/ledger.js'
import type { IOValue } from './annotations.js'
import type { SpanKind } from './span_kinds.js'

/** What LLM Observability knows about one of its spans, from start to event build. */
export interface LlmobsSpanState {
  kind: SpanKind
  name: string
  mlApp: string
  sessionId: string | undefined
  modelName: string | undefined
  modelProvider: string | undefined
  /** LLMObs trace id, 32 hex; shared by every LLMObs span of one LLMObs trace. */
  traceId: string
  /** Nearest LLMObs ancestor's span id (decimal), or "undefined". */
  parentId: string
  input: IOValue | undefined
  output: IOValue | undefined
  metadata: Record<string, unknown> | undefined
  metrics: Record<string, number>
  tags: Record<string, string>
  toolDefinitions: unknown[] | undefined
  /** Set at finish: the event, owned by the ledger until its fate is settled. */
  record: EventRecord | undefined
}

/**
 * LLMObs state per APM span. A WeakMap, not a field on Span: only LLM spans pay for it, and a
 * span the user drops takes its state with it.
 */
const states = new WeakMap<SpanData, LlmobsSpanState>()

export function getState (span: SpanData): LlmobsSpanState | undefined {
  return states.get(span)
}

export function setState (span: Span, state: LlmobsSpanState): void {
  states.set(span, state)
}

/** Tag that marks a span whose event went through the LLMObs writer: never ship it again. */
export const SUBMITTED_TAG = '_dd.llmobs.submitted'
export const META_STRUCT_KEY = '_llmobs'
