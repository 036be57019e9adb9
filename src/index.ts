/**
 * llmobs-ts public API. Everything users may import is exported here, by name; other modules
 * are internal and may change without notice.
 */
export { tracer } from './root/global_tracer.js'
export type { GlobalTracer } from './root/global_tracer.js'
export { Tracer } from './root/tracer.js'
export type { SpanOptions, TracerStats } from './root/tracer.js'
export type { PropagationStats } from './trace/propagation/propagator.js'
export type { TracerOptions } from './config/tracer_config.js'
export { Span } from './trace/span.js'
export type { TagValue } from './trace/span.js'
export { SpanContext } from './trace/span_context.js'
export type { SpanData } from './model/span_data.js'
export type { UserProcessor } from './pipeline/processor_chain.js'
export type { PayloadFate, TraceFailureReason } from './export/payload_fate.js'
export { USER_REJECT, AUTO_REJECT, AUTO_KEEP, USER_KEEP } from './model/trace_state.js'
export { llmobs, LLMObs } from './llmobs/sdk.js'
export type { LlmobsTraceOptions, ExportedSpan, EvaluationOptions, AnnotationContext, FlushOptions } from './llmobs/sdk.js'
export type { EventProcessor } from './llmobs/llmobs_core.js'
export type { ExportMode } from './llmobs/export_mode.js'
export { withLambda, waitUntilFlush } from './llmobs/serverless.js'
export type { ServerlessOptions, LambdaOptions } from './llmobs/serverless.js'
export type { LlmobsOptions } from './config/llmobs_config.js'
export type {
  Annotation, AnnotationInput, AnnotationOutput, LlmobsSpan,
  MessageInput, MessagesInput, DocumentInput, DocumentsInput, ToolCallInput, ToolResultInput,
} from './llmobs/annotation_types.js'
// The shapes events carry (what `registerProcessor` sees); annotate() accepts these too.
export type { IOValue, Message, Document, ToolCall, ToolResult } from './llmobs/annotations.js'
export type { LlmobsSpanEvent, EventMeta } from './llmobs/event.js'
export type { LlmobsStats, DeliveryTotals, DropReason } from './export/ledger.js'
export type { SpanKind } from './llmobs/span_kinds.js'
export { startAgent } from './agent/start_agent.js'
export type { AgentOptions, LocalAgent, AgentLogger, Counters } from './agent/start_agent.js'
export type { CounterName } from './agent/counters.js'
// The local agent's store, read-only (`agent.store`): what tests and tools query.
export type { Store } from './agent/store.js'
export type { StoreQueries, SpanRecord, TraceSummary, ChunkRecord, EvaluationRecord, SpanFilter } from './agent/store_queries.js'
export { wrapOpenAI } from './integrations/openai/instrument.js'
export { wrapAnthropic } from './integrations/anthropic/instrument.js'
export { llmobsMiddleware, llmobsEmbeddingMiddleware } from './integrations/ai_sdk/middleware.js'
export type { LlmobsLanguageModelMiddleware, LlmobsEmbeddingModelMiddleware } from './integrations/ai_sdk/middleware.js'
export type { WrapOptions } from './integrations/options.js'
export type { PriceRow } from './agent/prices.js'
export type { RetentionLimits } from './agent/retention.js'
export type { SpoolOptions, FsyncPolicy } from './config/llmobs_config.js'
export type { SpoolCounters } from './export/ledger.js'
export type { TraceState } from './model/trace_state.js'
