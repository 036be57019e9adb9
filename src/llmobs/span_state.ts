import type { Span } from '../trace/span.js'
import type { SpanData } from '../model/span_data.js'
import type { EventRecord } from '../export/ledger.js'
import type { IOValue } from './annotations.js'
import type { SpanKind } from './span_kinds.js'
import type { EventOwner } from './event_owner.js'

/** What LLM Observability knows about one of its spans, from start to event build. */
export interface LlmobsSpanState {
  /** The core that started the span: it builds the event and follows it to its fate. */
  owner: EventOwner
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
  /** This span's id in decimal, computed once (children and the event both need it). */
  spanIdDec: string | undefined
  /** UTF-16 units annotated so far (inputs, outputs, metadata): a cheap bound for the size check. */
  annotatedUnits: number
}

/**
 * LLMObs state lives in the span's `llmobs` slot: a field read is several times cheaper than a
 * WeakMap lookup on the finish path, and the state goes away with the span all the same.
 */
export function getState (span: SpanData): LlmobsSpanState | undefined {
  return (span as Partial<Span>).llmobs as LlmobsSpanState | undefined
}

export function setState (span: Span, state: LlmobsSpanState): void {
  span.llmobs = state
}

/** Tag that marks a span whose event went through the LLMObs writer: never ship it again. */
export const SUBMITTED_TAG = '_dd.llmobs.submitted'
export const META_STRUCT_KEY = '_llmobs'
