import type { SqliteDatabase, SqliteStatement } from './sqlite.js'

/** One stored LLMObs span event, as the query API returns it. */
export interface SpanRecord {
  trace_id: string
  span_id: string
  parent_id: string | null
  name: string
  kind: string | null
  ml_app: string | null
  status: string
  start_ns: string
  duration: number
  path: string
  event: unknown
  received_at: number
}

export interface TraceSummary {
  trace_id: string
  root_name: string
  root_span_id: string
  ml_app: string | null
  status: string
  span_count: number
  error_count: number
  start_ns: string
  duration: number
  input_tokens: number
  output_tokens: number
  total_tokens: number
  /** Arrival paths of its spans ('trace', 'evp', 'agentless'). */
  paths: string[]
}

export interface ChunkRecord {
  trace_id: string
  root_name: string
  service: string
  priority: number | null
  kept: boolean
  span_count: number
  error: boolean
  llmobs_spans: number
  endpoint: string
  received_at: number
}

export interface EvaluationRecord {
  trace_id: string | null
  span_id: string | null
  label: string
  metric_type: string
  value: unknown
  ml_app: string | null
  timestamp_ms: number | null
  path: string
  event: unknown
  received_at: number
}

export interface SpanFilter { mlApp?: string, traceId?: string, path?: string, limit: number }

// The event is read by row id, for the rows returned only (store_schema.ts, version 3).
const EVENT = '(SELECT event FROM llmobs_events e WHERE e.id = llmobs_spans.id)'
const SPAN_COLUMNS = `trace_id, span_id, parent_id, name, kind, ml_app, status, start_ns, duration, path, ${EVENT} AS event, received_at`
const IS_ROOT = "(parent_id IS NULL OR parent_id IN ('undefined', '', '0'))"
// Token totals count model spans only: a workflow may repeat its children's totals.
const TOKENS = (metric: string): string =>
  `SUM(CASE WHEN kind IN ('llm', 'embedding') THEN COALESCE(json_extract(${EVENT}, '$.metrics.${metric}'), 0) ELSE 0 END)`

/** Read side of the store; every statement is prepared once. */
export class StoreQueries {
  private readonly spans: SqliteStatement
  private readonly traceSpans: SqliteStatement
  private readonly traces: SqliteStatement
  private readonly root: SqliteStatement
  private readonly chunks: SqliteStatement
  private readonly evaluations: SqliteStatement
  private readonly spanCount: SqliteStatement

  /** @internal */
  constructor (db: SqliteDatabase) {
    this.spans = db.prepare(`SELECT ${SPAN_COLUMNS} FROM llmobs_spans
      WHERE (@ml_app IS NULL OR ml_app = @ml_app) AND (@trace_id IS NULL OR trace_id = @trace_id)
      AND (@path IS NULL OR path = @path) ORDER BY id DESC LIMIT @limit`)
    this.traceSpans = db.prepare(`SELECT ${SPAN_COLUMNS} FROM llmobs_spans WHERE trace_id = ?
      ORDER BY CAST(start_ns AS INTEGER), id`)
    this.traces = db.prepare(`SELECT trace_id, COUNT(*) AS span_count, SUM(status = 'error') AS error_count,
      CAST(MIN(CAST(start_ns AS INTEGER)) AS TEXT) AS start_min,
      MAX(CAST(start_ns AS INTEGER) + duration) - MIN(CAST(start_ns AS INTEGER)) AS extent,
      ${TOKENS('input_tokens')} AS input_tokens, ${TOKENS('output_tokens')} AS output_tokens,
      ${TOKENS('total_tokens')} AS total_tokens, group_concat(DISTINCT path) AS paths, MAX(id) AS last_id
      FROM llmobs_spans
      WHERE @ml_app IS NULL OR trace_id IN (SELECT trace_id FROM llmobs_spans WHERE ml_app = @ml_app)
      GROUP BY trace_id ORDER BY last_id DESC LIMIT @limit`)
    this.root = db.prepare(`SELECT span_id, name, status, duration, ml_app, ${IS_ROOT} AS is_root FROM llmobs_spans
      WHERE trace_id = ? ORDER BY is_root DESC, CAST(start_ns AS INTEGER), id LIMIT 1`)
    this.chunks = db.prepare(`SELECT trace_id, root_name, service, priority, kept, span_count, error, llmobs_spans,
      endpoint, received_at FROM apm_chunks WHERE (@trace_id IS NULL OR trace_id = @trace_id) ORDER BY id DESC LIMIT @limit`)
    this.evaluations = db.prepare(`SELECT trace_id, span_id, label, metric_type, value, ml_app, timestamp_ms, path,
      event, received_at FROM evaluations WHERE (@trace_id IS NULL OR trace_id = @trace_id) AND (@span_id IS NULL OR span_id = @span_id)
      ORDER BY id DESC LIMIT @limit`)
    this.spanCount = db.prepare('SELECT COUNT(*) AS n FROM llmobs_spans')
  }

  /** Most recently received first. */
  listSpans (f: SpanFilter): SpanRecord[] {
    return this.spans.all({ ml_app: f.mlApp ?? null, trace_id: f.traceId ?? null, path: f.path ?? null, limit: f.limit }).map(toSpanRecord)
  }

  /** Spans of one LLMObs trace in start order (empty when unknown). */
  traceSpanRecords (traceId: string): SpanRecord[] {
    return this.traceSpans.all(traceId).map(toSpanRecord)
  }

  /** LLMObs traces, most recently updated first. */
  listTraces (f: { mlApp?: string, limit: number }): TraceSummary[] {
    const rows = this.traces.all({ ml_app: f.mlApp ?? null, limit: f.limit }) as Array<Record<string, unknown>>
    return rows.map((r) => {
      const traceId = r.trace_id as string
      const root = this.root.get(traceId) as { span_id: string, name: string, status: string, duration: number, ml_app: string | null, is_root: number }
      return {
        trace_id: traceId,
        root_name: root.name,
        root_span_id: root.span_id,
        ml_app: root.ml_app,
        status: root.status,
        span_count: r.span_count as number,
        error_count: r.error_count as number,
        start_ns: r.start_min as string,
        // A root's own duration when there is one; else the extent of what arrived.
        duration: root.is_root === 1 ? root.duration : r.extent as number,
        input_tokens: r.input_tokens as number,
        output_tokens: r.output_tokens as number,
        total_tokens: r.total_tokens as number,
        paths: typeof r.paths === 'string' ? r.paths.split(',').sort() : [],
      }
    })
  }

  listChunks (f: { traceId?: string, limit: number }): ChunkRecord[] {
    return (this.chunks.all({ trace_id: f.traceId ?? null, limit: f.limit }) as Array<Record<string, unknown>>).map((r) => ({
      trace_id: r.trace_id as string,
      root_name: r.root_name as string,
      service: r.service as string,
      priority: r.priority as number | null,
      kept: r.kept === 1,
      span_count: r.span_count as number,
      error: r.error === 1,
      llmobs_spans: r.llmobs_spans as number,
      endpoint: r.endpoint as string,
      received_at: r.received_at as number,
    }))
  }

  listEvaluations (f: { traceId?: string, spanId?: string, limit: number }): EvaluationRecord[] {
    return (this.evaluations.all({ trace_id: f.traceId ?? null, span_id: f.spanId ?? null, limit: f.limit }) as Array<Record<string, unknown>>).map((r) => ({
      trace_id: r.trace_id as string | null,
      span_id: r.span_id as string | null,
      label: r.label as string,
      metric_type: r.metric_type as string,
      value: JSON.parse(r.value as string) as unknown,
      ml_app: r.ml_app as string | null,
      timestamp_ms: r.timestamp_ms as number | null,
      path: r.path as string,
      event: JSON.parse(r.event as string) as unknown,
      received_at: r.received_at as number,
    }))
  }

  countSpans (): number {
    return (this.spanCount.get() as { n: number }).n
  }
}

function toSpanRecord (row: unknown): SpanRecord {
  const r = row as Omit<SpanRecord, 'event'> & { event: string }
  return { ...r, event: JSON.parse(r.event) as unknown }
}
