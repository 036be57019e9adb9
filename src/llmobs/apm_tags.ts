import { Span } from '../trace/span.js'
import { eventModel } from './event_builder.js'
import { isModelKind } from './span_kinds.js'
import type { LlmobsSpanState } from './span_state.js'

/**
 * What dd-trace 5 writes on the APM side of LLM Observability spans (OTEL-FACTS §4.4), so APM
 * views keyed on it keep working and the backend can tell these tags from an application's own.
 */

/** Marks `gen_ai.*` tags as the tracer's copy of the event: the backend must not convert them into a second event. */
export const ARTIFICIAL_GEN_AI_TAG = '_dd.llmobs.artificial_gen_ai_tags'
export const BRIDGE_TRACE_ID_TAG = 'llmobs_trace_id'
export const BRIDGE_PARENT_ID_TAG = 'llmobs_parent_id'
export const TRACE_SESSION_TAG = '_ml_obs.trace_session_id'

const USAGE_METRICS = ['input_tokens', 'output_tokens', 'total_tokens', 'cache_read_input_tokens', 'cache_write_input_tokens', 'reasoning_output_tokens']
/** The APM metric names, built once: a template string per key per span showed in profiles. */
const USAGE_TAGS = USAGE_METRICS.map((k) => `gen_ai.usage.${k}`)

/** At finish: the event's kind, model, app, session and token counts as `gen_ai.*` APM tags. */
export function writeGenAiTags (span: Span, st: LlmobsSpanState): void {
  const meta = span.meta
  meta[ARTIFICIAL_GEN_AI_TAG] = 'true'
  // A span adopted from an OTel GenAI span already carries its instrumentation's gen_ai.* tags:
  // they stay as the instrumentation wrote them (`??=`), and only what is missing is added.
  // The LLMObs kind itself (`llm`, `workflow`), not a semconv operation: this is what dd-trace sends.
  meta['gen_ai.operation.name'] ??= st.kind
  if (isModelKind(st.kind)) {
    const model = eventModel(st)
    if (model.name !== undefined) meta['gen_ai.request.model'] ??= model.name
    if (model.provider !== undefined) meta['gen_ai.provider.name'] ??= model.provider
  }
  meta['gen_ai.application.name'] ??= st.mlApp
  if (st.sessionId !== undefined) meta['gen_ai.conversation.id'] ??= st.sessionId
  const metrics = st.metrics
  for (let i = 0; i < USAGE_METRICS.length; i++) {
    const v = metrics[USAGE_METRICS[i]]
    if (v !== undefined) span.metrics[USAGE_TAGS[i]] ??= v
  }
}

/**
 * At start: the local root names the LLMObs trace its spans belong to (first writer wins), so
 * the backend can join APM spans of this trace to it; and the first session seen becomes the
 * trace's session.
 */
export function writeBridgeTags (span: Span, st: LlmobsSpanState, spanIdDec: string): void {
  const root = span.trace.localRoot
  // A root already finished may be on its way out: its tags are no longer ours to change.
  if (root === undefined || (root !== span && (!(root instanceof Span) || root.isFinished))) return
  if (root.meta[BRIDGE_TRACE_ID_TAG] === undefined) {
    root.meta[BRIDGE_TRACE_ID_TAG] = st.traceId
    root.meta[BRIDGE_PARENT_ID_TAG] = spanIdDec
  }
  if (st.sessionId !== undefined && root.meta[TRACE_SESSION_TAG] === undefined) root.meta[TRACE_SESSION_TAG] = st.sessionId
}
