/**
 * llmobs-ts public API. Everything users may import is exported here, by name; other modules
 * are internal and may change without notice.
 */
export { tracer } from './trace/global_tracer.js'
export { Tracer } from './trace/tracer.js'
export type { SpanOptions } from './trace/tracer.js'
export type { TracerOptions } from './config/tracer_config.js'
export { Span } from './trace/span.js'
export type { TagValue } from './trace/span.js'
export { SpanContext } from './trace/span_context.js'
export type { SpanData } from './trace/span_data.js'
export type { UserProcessor } from './pipeline/processor_chain.js'
export type { PayloadFate } from './export/payload_fate.js'
export { USER_REJECT, AUTO_REJECT, AUTO_KEEP, USER_KEEP } from './trace/trace_state.js'
export { llmobs, LLMObs } from './llmobs/sdk.js'
export type { LlmobsTraceOptions, ExportedSpan, EvaluationOptions } from './llmobs/sdk.js'
export type { LlmobsOptions } from './config/llmobs_config.js'
export type { Annotation, Message, Document, ToolCall, ToolResult } from './llmobs/annotations.js'
export type { LlmobsSpanEvent } from './llmobs/event.js'
export type { LlmobsStats, DropReason } from './export/ledger.js'
export type { SpanKind } from './llmobs/span_kinds.js'
export { startAgent } from './agent/start_agent.js'
export type { AgentOptions, LocalAgent, AgentLogger, Counters } from './agent/start_agent.js'
