import { request, type Reply } from './agent_client.js'

/** LLMObs span events for query API tests, posted as the EVP proxy receives them. */
export interface EventSpec {
  trace: string
  span: string
  parent?: string
  name?: string
  kind?: string
  mlApp?: string
  status?: 'ok' | 'error'
  /** ms since the epoch */
  startMs: number
  durationMs?: number
  model?: string
  provider?: string
  input?: string
  output?: string
  metrics?: Record<string, number>
  metadata?: Record<string, unknown>
  session?: string
  tags?: string[]
  error?: { message: string, type: string }
}

export function llmEvent (s: EventSpec): Record<string, unknown> {
  const meta: Record<string, unknown> = { span: { kind: s.kind ?? 'llm' } }
  if (s.model !== undefined) meta.model_name = s.model
  if (s.provider !== undefined) meta.model_provider = s.provider
  if (s.input !== undefined) meta.input = s.kind === 'llm' || s.kind === undefined ? { messages: [{ role: 'user', content: s.input }] } : { value: s.input }
  if (s.output !== undefined) meta.output = s.kind === 'llm' || s.kind === undefined ? { messages: [{ role: 'assistant', content: s.output }] } : { value: s.output }
  if (s.metadata !== undefined) meta.metadata = s.metadata
  if (s.error !== undefined) meta.error = s.error
  const ev: Record<string, unknown> = {
    trace_id: s.trace,
    span_id: s.span,
    parent_id: s.parent ?? 'undefined',
    name: s.name ?? 'op',
    start_ns: String(BigInt(s.startMs) * 1_000_000n),
    duration: (s.durationMs ?? 10) * 1_000_000,
    status: s.status ?? (s.error !== undefined ? 'error' : 'ok'),
    meta,
    metrics: s.metrics ?? {},
    tags: [`ml_app:${s.mlApp ?? 'app'}`, ...(s.tags ?? [])],
    ml_app: s.mlApp ?? 'app',
  }
  if (s.session !== undefined) ev.session_id = s.session
  return ev
}

/** Posts events in requests of at most 500; throws unless every one is accepted. */
export async function postEvents (base: string, events: Array<Record<string, unknown>>): Promise<void> {
  for (let i = 0; i < events.length; i += 500) {
    const body = JSON.stringify(events.slice(i, i + 500).map((e) => ({ '_dd.stage': 'raw', event_type: 'span', spans: [e] })))
    const r: Reply = await request(base, '/evp_proxy/v2/api/v2/llmobs', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Datadog-EVP-Subdomain': 'llmobs-intake' }, body })
    if (r.status !== 202 && r.status !== 200) throw new Error(`post: ${r.status} ${r.body}`)
  }
}

export async function postEvaluations (base: string, metrics: Array<Record<string, unknown>>): Promise<void> {
  const body = JSON.stringify({ data: { type: 'evaluation_metric', attributes: { metrics } } })
  const r = await request(base, '/evp_proxy/v2/api/intake/llm-obs/v2/eval-metric', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Datadog-EVP-Subdomain': 'api' }, body })
  if (r.status >= 300) throw new Error(`post evaluations: ${r.status} ${r.body}`)
}

export function categorical (trace: string, span: string, label: string, value: string, timestampMs = 1_700_000_000_000): Record<string, unknown> {
  return { join_on: { span: { trace_id: trace, span_id: span } }, label, metric_type: 'categorical', categorical_value: value, ml_app: 'app', timestamp_ms: timestampMs }
}
