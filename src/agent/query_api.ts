import { EvaluationQueries } from './query_evaluations.js'
import { SessionQueries } from './query_sessions.js'
import { SpanQueries } from './query_spans.js'
import { SummaryQueries } from './query_summary.js'
import { TraceQueries } from './query_traces.js'
import type { Store } from './store.js'

/** The query API's read side over one store, built on first use. */
export interface QueryApi {
  traces: TraceQueries
  spans: SpanQueries
  sessions: SessionQueries
  evaluations: EvaluationQueries
  summary: SummaryQueries
}

const apis = new WeakMap<Store, QueryApi>()

export function queryApi (store: Store): QueryApi {
  let api = apis.get(store)
  if (api === undefined) {
    const traces = new TraceQueries(store)
    api = { traces, spans: new SpanQueries(store), sessions: new SessionQueries(store, traces), evaluations: new EvaluationQueries(store), summary: new SummaryQueries(store) }
    apis.set(store, api)
  }
  return api
}
