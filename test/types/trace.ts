import { llmobs, tracer, Tracer, type Span, type SpanContext } from 'llmobs-ts'

// tracer.trace() returns what the function returns; the function is required.
const n: number = tracer.trace('work', () => 1)
const p: Promise<string> = tracer.trace('work', { resource: 'r', tags: { a: 1 } }, async (span: Span) => span.name)
const core = new Tracer({ service: 'svc' })
const m: number = core.trace('work', { type: 'web' }, () => 2)
// @ts-expect-error the function is required
tracer.trace('work')
// @ts-expect-error the function is required after options too
tracer.trace('work', { resource: 'r' })
// @ts-expect-error the function is required on the core as well
core.trace('work', {})
// @ts-expect-error llmobs.trace() needs its function
llmobs.trace({ kind: 'task' })
// @ts-expect-error an LLMObs span needs a valid kind
llmobs.trace({ kind: 'chain' }, () => 0)
void n; void p; void m

// The global tracer has every public method and property of Tracer.
type Missing = Exclude<keyof Tracer, keyof typeof tracer>
const noneMissing: [Missing] extends [never] ? true : Missing = true
void noneMissing

// Internals are not part of the published types.
declare const span: Span
declare const ctx: SpanContext
// @ts-expect-error Span.llmobs is LLM Observability's private state
void span.llmobs
// @ts-expect-error writeMetaStruct is pipeline-internal (setMetaStruct is the public one)
span.writeMetaStruct('k', 1)
// @ts-expect-error the trace state is internal
void span.trace
// @ts-expect-error the trace state is internal
void ctx.trace
// @ts-expect-error finish hooks are internal
core.addFinishHook(() => {})
// @ts-expect-error inject hooks are internal
core.addInjectHook(() => undefined)
// @ts-expect-error the resolved configuration is internal
void core.config
// @ts-expect-error the pipeline is internal
void core.chain
span.setMetaStruct('k', { v: 1 }).setTag('a', 1).finish()
