// Every type a public signature uses can be named by users (test/helpers/public_surface.ts
// checks this exhaustively; here, the ones users reach for most).
import {
  startAgent, llmobs, tracer,
  type AnnotationContext, type EventProcessor, type ExportMode, type Store, type StoreQueries,
  type SpanRecord, type GlobalTracer, type TracerStats, type LlmobsSpan, type LlmobsSpanEvent,
  type IOValue, type EventMeta, type DeliveryTotals, type CounterName, type TraceFailureReason,
} from 'llmobs-ts'

const ctx: AnnotationContext = { tags: { team: 'search' }, name: 'answer' }
llmobs.annotationContext(ctx, () => {})
const drop: EventProcessor = (event: LlmobsSpanEvent) => (event.meta.input as IOValue | undefined) === undefined ? null : event
llmobs.registerProcessor(drop)
const mode: ExportMode | undefined = llmobs.exportMode
const global: GlobalTracer = tracer
const stats: TracerStats = tracer.stats()
const meta: EventMeta | undefined = undefined
const evals: DeliveryTotals = llmobs.stats().evaluations
const counter: CounterName = 'payloads_received'
const reason: TraceFailureReason | undefined = undefined
llmobs.trace({ kind: 'llm' }, (span: LlmobsSpan<'llm'>) => span.finish)

async function agentStore (): Promise<SpanRecord[]> {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const store: Store = agent.store
  const queries: StoreQueries = store.queries
  // @ts-expect-error writes belong to the agent's HTTP endpoints
  store.commit({ spans: [], chunks: [], evaluations: [], counts: {} })
  // @ts-expect-error the agent closes its store
  store.close()
  const spans = queries.listSpans({ limit: 10 })
  await agent.close()
  return spans
}
void [mode, global, stats, meta, evals, counter, reason, agentStore]
