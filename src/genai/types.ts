/**
 * Plain data in, plain data out: the GenAI mapping imports nothing from the rest of src/ so the
 * OTel bridge (SDK side) and the local agent's OTLP intake can both use it.
 */

/** An attribute value as OTel spans hold it; OTLP kvlists may arrive as plain objects. */
export type AttrValue = string | number | boolean | bigint | Array<string | number | boolean | null> | null | undefined

export type Attributes = Record<string, AttrValue | unknown>

export interface GenAiSpanEvent {
  name: string
  timeUnixNano?: bigint | string | number
  attributes?: Attributes
}

/**
 * One finished span. `kind` is the @opentelemetry/api SpanKind (INTERNAL=0 … CONSUMER=4) unless
 * `kindEncoding: 'otlp'` says it is the OTLP enum (UNSPECIFIED=0, INTERNAL=1 … CONSUMER=5). The
 * mapping itself does not depend on the kind today; it is normalised so callers never have to
 * remember which encoding they hold.
 */
export interface GenAiSpanInput {
  name: string
  kind?: number
  kindEncoding?: 'api' | 'otlp'
  attributes: Attributes
  resource?: Attributes
  events?: GenAiSpanEvent[]
  status?: { code: number, message?: string }
  scope?: { name?: string, version?: string }
}

export interface ToolCall { name: string, arguments: unknown, tool_id?: string, type?: string }
export interface ToolResult { result: string, tool_id?: string, name?: string, type?: string }
export interface Message { role: string, content: string, tool_calls?: ToolCall[], tool_results?: ToolResult[] }
export interface Document { text: string, name?: string, id?: string, score?: number }

/** Exactly one of the three is set when the side is present (the event's IOValue). */
export interface GenAiIO { messages?: Message[], documents?: Document[], value?: string }

export type GenAiKind = 'llm' | 'embedding' | 'workflow' | 'agent' | 'tool' | 'task' | 'retrieval'

export interface ToolDefinition { name: string, description?: string, schema?: unknown }

export interface GenAiMapped {
  admitted: true
  /** The attribute that admitted the span (e.g. `gen_ai.operation.name`, `ai.operationId`). */
  admittedBy: string
  kind: GenAiKind
  name: string
  modelName?: string
  modelProvider?: string
  input: GenAiIO
  output: GenAiIO
  metadata: Record<string, unknown>
  metrics: Record<string, number>
  toolDefinitions?: ToolDefinition[]
  sessionId?: string
  /** Resource `service.name`: the event's ml_app and `service` tag when nothing else names them. */
  mlApp?: string
  tags: Record<string, string>
  error?: { message: string, type: string, stack?: string }
  /** `otel_warning_*` values (DESIGN §9.2), deduplicated, in the order first met. */
  warnings: string[]
}

export interface GenAiNotAdmitted {
  admitted: false
  /** `opted_out` when `dd_llmobs_enabled=false`; `failed` when the mapping itself broke. */
  reason: 'not_genai' | 'opted_out' | 'failed'
  warnings: string[]
}

export type GenAiResult = GenAiMapped | GenAiNotAdmitted
