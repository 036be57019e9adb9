import type { IncomingMessage, ServerResponse } from 'node:http'
import { type AgentContext, REFUSED, allowMethods, validate } from './agent_context.js'
import { invalid } from './json_checks.js'
import { queryApi } from './query_api.js'
import { EVALUATION_SORTS } from './query_evaluations.js'
import { COMMON_PARAMS, LIMIT_CAP, checkKnown, listParams, param, show, timeOf } from './query_params.js'
import { SESSION_SORTS } from './query_sessions.js'
import { SPAN_SORTS } from './query_spans.js'
import { DEFAULT_BUCKETS, DEFAULT_WINDOW_MS, MAX_BUCKETS } from './query_summary.js'
import { TRACE_SORTS, type Page, type TraceFilters } from './query_traces.js'
import { sendJson } from './respond.js'
import { safeDecode } from './routes_query.js'

/**
 * Query API v2 lists (README "Query API"): server-side filters, sort with a stable tie-break,
 * opaque cursors, `limit` capped at LIMIT_CAP. A bad parameter is a 400 naming it.
 */
const TRACE_FILTERS = ['ml_app', 'status', 'kind', 'model', 'session_id', 'name', 'eval_label', 'eval_value', 'q']

function traceFilters (url: URL): TraceFilters {
  return {
    mlApp: param(url, 'ml_app'),
    status: param(url, 'status'),
    kind: param(url, 'kind'),
    model: param(url, 'model'),
    sessionId: param(url, 'session_id'),
    name: param(url, 'name'),
    evalLabel: param(url, 'eval_label'),
    evalValue: param(url, 'eval_value'),
    q: param(url, 'q'),
  }
}

function pageBody (key: string, page: Page<unknown>, limit: number): Record<string, unknown> {
  const body: Record<string, unknown> = { [key]: page.rows, limit, limit_cap: LIMIT_CAP, next_cursor: page.nextCursor, more: page.more }
  if (page.total !== undefined) body.total = page.total
  return body
}

/** `GET /api/traces`: traces by their start time (newest first by default). */
export function handleTraces (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (!allowMethods(ctx, req, res, ['GET'])) return
  const body = validate(ctx, res, () => {
    checkKnown(url, [...COMMON_PARAMS, ...TRACE_FILTERS])
    const p = listParams(url, 'traces', TRACE_SORTS)
    return pageBody('traces', queryApi(ctx.store).traces.list(traceFilters(url), p), p.limit)
  })
  if (body !== REFUSED) sendJson(res, 200, body)
}

/** `GET /api/spans`: spans by start time; the trace filters apply per span, plus trace_id and path. */
export function handleSpans (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (!allowMethods(ctx, req, res, ['GET'])) return
  const body = validate(ctx, res, () => {
    checkKnown(url, [...COMMON_PARAMS, ...TRACE_FILTERS, 'trace_id', 'path'])
    const p = listParams(url, 'spans', SPAN_SORTS)
    const path = param(url, 'path')
    if (path !== undefined && path !== 'trace' && path !== 'evp' && path !== 'agentless' && path !== 'otlp') invalid(`"path" must be trace, evp, agentless or otlp, got ${show(path)}`)
    return pageBody('spans', queryApi(ctx.store).spans.list({ ...traceFilters(url), traceId: param(url, 'trace_id'), path }, p), p.limit)
  })
  if (body !== REFUSED) sendJson(res, 200, body)
}

/** `GET /api/evaluations`: by timestamp. */
export function handleEvaluations (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (!allowMethods(ctx, req, res, ['GET'])) return
  const body = validate(ctx, res, () => {
    checkKnown(url, [...COMMON_PARAMS, 'trace_id', 'span_id', 'label', 'value', 'metric_type', 'ml_app'])
    const p = listParams(url, 'evaluations', EVALUATION_SORTS)
    const metricType = param(url, 'metric_type')
    if (metricType !== undefined && !['categorical', 'score', 'boolean'].includes(metricType)) invalid(`"metric_type" must be categorical, score or boolean, got ${show(metricType)}`)
    const f = { traceId: param(url, 'trace_id'), spanId: param(url, 'span_id'), label: param(url, 'label'), value: param(url, 'value'), metricType, mlApp: param(url, 'ml_app') }
    return pageBody('evaluations', queryApi(ctx.store).evaluations.list(f, p), p.limit)
  })
  if (body !== REFUSED) sendJson(res, 200, body)
}

/** `GET /api/sessions`: traces grouped by session_id, most recently active first. */
export function handleSessions (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (!allowMethods(ctx, req, res, ['GET'])) return
  const body = validate(ctx, res, () => {
    checkKnown(url, [...COMMON_PARAMS, 'ml_app', 'q'])
    const p = listParams(url, 'sessions', SESSION_SORTS)
    return pageBody('sessions', queryApi(ctx.store).sessions.list({ mlApp: param(url, 'ml_app'), q: param(url, 'q') }, p), p.limit)
  })
  if (body !== REFUSED) sendJson(res, 200, body)
}

/** `GET /api/sessions/<session_id>`: the session, its traces in start order and its turns. */
export function handleSession (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (!allowMethods(ctx, req, res, ['GET'])) return
  const id = safeDecode(url.pathname.slice('/api/sessions/'.length))
  const session = queryApi(ctx.store).sessions.one(id)
  if (session === null) { sendJson(res, 404, { error: `session ${JSON.stringify(id.slice(0, 128))} not found` }); return }
  sendJson(res, 200, session)
}

/** `GET /api/summary`: the dashboard of a time range (default the last 24 h). */
export function handleSummary (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (!allowMethods(ctx, req, res, ['GET'])) return
  const body = validate(ctx, res, () => {
    checkKnown(url, ['ml_app', 'model', 'since', 'until', 'buckets'])
    const until = timeOf(url, 'until')
    const since = timeOf(url, 'since')
    const untilMs = until === undefined ? Date.now() : Number(until / 1_000_000n)
    const sinceMs = since === undefined ? untilMs - DEFAULT_WINDOW_MS : Number(since / 1_000_000n)
    if (sinceMs >= untilMs) invalid('"since" must be before "until"')
    const rawBuckets = param(url, 'buckets')
    let buckets = DEFAULT_BUCKETS
    if (rawBuckets !== undefined) {
      buckets = /^[0-9]{1,4}$/.test(rawBuckets) ? Number(rawBuckets) : NaN
      if (!(buckets >= 1 && buckets <= MAX_BUCKETS)) invalid(`"buckets" must be an integer from 1 to ${MAX_BUCKETS}, got ${show(rawBuckets)}`)
    }
    return queryApi(ctx.store).summary.summary({ mlApp: param(url, 'ml_app'), model: param(url, 'model') }, sinceMs, untilMs, buckets)
  })
  if (body !== REFUSED) sendJson(res, 200, body)
}

const CHANGES_MAX = 500

/**
 * `GET /api/changes?after=<seq>` → `{seq, traces, more}`: traces written (spans, evaluations,
 * retention) after `seq`; poll with the returned seq. When more than 500 changed, `seq` is that
 * of the last one listed and `more` is true.
 */
export function handleChanges (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, url: URL): void {
  if (!allowMethods(ctx, req, res, ['GET'])) return
  const body = validate(ctx, res, () => {
    checkKnown(url, ['after'])
    const raw = param(url, 'after') ?? '0'
    if (!/^[0-9]{1,15}$/.test(raw)) invalid(`"after" must be a non-negative integer (a seq from a previous answer), got ${show(raw)}`)
    const rows = ctx.store.db.prepare('SELECT trace_id, seq FROM llm_traces WHERE seq > ? ORDER BY seq, trace_id LIMIT ?')
      .all(Number(raw), CHANGES_MAX + 1) as Array<{ trace_id: string, seq: number }>
    const more = rows.length > CHANGES_MAX
    if (more) {
      // Never split one write's traces across answers: a poll from the cut would skip the rest.
      const cut = rows[CHANGES_MAX].seq
      while (rows.length > 0 && rows[rows.length - 1].seq === cut) rows.pop()
      if (rows.length === 0) rows.push(...ctx.store.db.prepare('SELECT trace_id, seq FROM llm_traces WHERE seq = ? ORDER BY trace_id').all(cut) as Array<{ trace_id: string, seq: number }>)
    }
    const seq = more ? (rows.length > 0 ? rows[rows.length - 1].seq : Number(raw)) : ctx.store.writeSeq
    return { seq, traces: rows.map((r) => r.trace_id), more }
  })
  if (body !== REFUSED) sendJson(res, 200, body)
}
