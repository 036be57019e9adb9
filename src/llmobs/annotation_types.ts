import type { Span } from '../trace/span.js'
import type { SpanKind } from './span_kinds.js'

/*
 * What `llmobs.annotate()` accepts, per span kind (DESIGN §3.5; annotations.ts normalises it at
 * runtime). The shapes are types only: at runtime anything is accepted and sent as well as it
 * can be, because annotate() never throws into user code. The types exist so that a typo in a
 * message or document field fails to compile instead of silently sending an empty message.
 */

/** A tool call on a model message. camelCase and the wire's snake_case spellings are both accepted. */
export interface ToolCallInput {
  name: string
  /** Sent as JSON. */
  arguments?: unknown
  toolId?: string
  tool_id?: string
  type?: string
}

/** A tool's result given back to the model. */
export interface ToolResultInput {
  /** Strings pass through; anything else is sent as its JSON text. */
  result: unknown
  toolId?: string
  tool_id?: string
  name?: string
  type?: string
}

/** A model message. A plain string is a message without a role. */
export interface MessageInput {
  role?: string
  /** Strings pass through; content parts (arrays, objects) are sent as their JSON text. */
  content?: string | null | readonly unknown[] | Record<string, unknown>
  toolCalls?: readonly ToolCallInput[]
  tool_calls?: readonly ToolCallInput[]
  toolResults?: readonly ToolResultInput[]
  tool_results?: readonly ToolResultInput[]
  /** The call a `role: 'tool'` message answers. */
  toolId?: string
  tool_id?: string
}

/** A document embedded or retrieved. A plain string is a document's text. */
export interface DocumentInput {
  text: string
  name?: string
  id?: string | number
  score?: number
}

export type MessagesInput = string | MessageInput | ReadonlyArray<string | MessageInput>
export type DocumentsInput = string | DocumentInput | ReadonlyArray<string | DocumentInput>

/**
 * `inputData` by kind: messages for llm, documents for embedding, the query text for
 * retrieval; tool, task, workflow and agent spans take any value (sent as JSON).
 * For a span of unknown kind (a plain `Span`) this is the union of all of them, i.e. anything.
 */
export type AnnotationInput<K extends SpanKind> =
  K extends 'llm' ? MessagesInput
    : K extends 'embedding' ? DocumentsInput
      : K extends 'retrieval' ? string
        : unknown

/** `outputData` by kind: messages for llm, a text for embedding, documents for retrieval, any value otherwise. */
export type AnnotationOutput<K extends SpanKind> =
  K extends 'llm' ? MessagesInput
    : K extends 'embedding' ? string
      : K extends 'retrieval' ? DocumentsInput
        : unknown

/** What `llmobs.annotate()` accepts; `K` is the span's kind when the type checker knows it. */
export interface Annotation<K extends SpanKind = SpanKind> {
  inputData?: AnnotationInput<K>
  outputData?: AnnotationOutput<K>
  metadata?: Record<string, unknown>
  /** Token counts and the like: camelCase names are sent in the intake's snake_case. */
  metrics?: Record<string, number>
  tags?: Record<string, unknown>
  toolDefinitions?: unknown[]
}

// Type-only: nothing carries this key at runtime; it lets a span remember its kind in the type.
declare const spanKindKey: unique symbol

/**
 * The span `llmobs.trace({ kind })` hands its function: a `Span` whose kind the type checker
 * knows, so `llmobs.annotate(span, ...)` checks inputs and outputs against that kind.
 */
export type LlmobsSpan<K extends SpanKind = SpanKind> = Span & { readonly [spanKindKey]?: K }
