// The delivery counters: how every LLM span reached the agent, and what each counter means.
import { h } from './dom.js'
import { api } from './api.js'
import { fmtInt } from './format.js'
import { watch } from './live.js'

const COUNTERS = {
  payloads_received: 'Data requests accepted and stored: trace payloads, EVP proxy posts, agentless posts, evaluations.',
  chunks_received: 'Non-empty trace chunks in accepted trace payloads.',
  chunks_dropped_sampling: "Chunks the Agent's sampling removed (priority < 0, or priority 0 without an error kept by the errors sampler). Their LLM spans can only arrive through the EVP proxy: the tracer rescues them.",
  chunks_dropped_invalid: "Chunks the Agent's normalizer would drop (a zero trace or span id, or spans of several traces in one chunk).",
  chunks_kept_errors: 'Priority-0 chunks kept by the errors sampler because a span has an error (part of the kept chunks).',
  llmobs_extracted: 'LLM span events taken from meta_struct._llmobs of kept chunks: they rode the trace.',
  llmobs_evp: 'LLM span events posted through the EVP proxy: rescued from dropped or failed traces, or sent directly.',
  llmobs_agentless: 'LLM span events posted straight to the intake endpoint /api/v2/llmobs.',
  llmobs_otlp: 'LLM span events mapped from the GenAI spans OpenTelemetry apps exported to the OTLP intake (/v1/traces).',
  duplicates_suppressed: 'Events not stored because an event with the same (trace_id, span_id) was already stored, whichever path either came by.',
  evaluations: 'Evaluation metrics received, duplicates included.',
  evaluation_duplicates_suppressed: 'Evaluations not stored because one with the same span, label, ml_app and timestamp was already stored.',
  requests_rejected: 'Requests refused by validation (bad method, content type, body, size, API key, Host, cross-site): answered 4xx, nothing stored.',
  faults_injected: 'Requests failed or delayed on purpose through POST /api/faults (fault tests).',
  requests_quiet: 'Calls to endpoints the agent does not model (remote config, telemetry, stats), answered quietly.',
  otlp_spans_received: 'Spans in OTLP requests that decoded, GenAI or not (rejected ones included).',
  otlp_spans_rejected: 'OTLP spans refused one by one (bad ids, end before start) and reported back as a partial success.',
  otlp_spans_opted_out: 'GenAI spans not mapped because their trace set dd_llmobs_enabled=false.',
  otlp_decode_errors: 'OTLP requests whose body did not decode (answered 400 with the reason).',
  retention_removed_spans: 'Spans removed by retention (older than the maximum age, or beyond the span or byte limits), oldest first.',
  retention_removed_evaluations: 'Evaluations removed by retention with their spans or on their own age.',
  retention_removed_chunks: 'APM chunk summaries removed by retention.',
}

export function renderDelivery (root) {
  const tbody = h('tbody')
  const identity = h('p', { class: 'identity' })
  root.replaceChildren(
    h('h1', {}, 'Delivery'),
    h('p', { class: 'muted' }, 'Every LLM span travels one way: it rides its APM trace when the trace is kept, is rescued through the EVP proxy when the trace is dropped or its payload fails, or goes directly (EVP or agentless) when APM tracing is off. The agent stores each (trace_id, span_id) once.'),
    h('table', { class: 'counters' }, h('thead', {}, h('tr', {}, h('th', {}, 'Counter'), h('th', { class: 'num' }, 'Value'), h('th', {}, 'Meaning'))), tbody),
    identity,
  )
  const load = async () => {
    const c = await api('/api/counters')
    tbody.replaceChildren(...Object.entries(c).map(([name, value]) => h('tr', { 'data-counter': name },
      h('td', {}, h('code', {}, name)), h('td', { class: 'num value' }, fmtInt(value)), h('td', { class: 'muted' }, COUNTERS[name] ?? ''))))
    const stored = (c.llmobs_extracted ?? 0) + (c.llmobs_evp ?? 0) + (c.llmobs_agentless ?? 0) + (c.llmobs_otlp ?? 0) - (c.duplicates_suppressed ?? 0)
    identity.textContent = `Stored LLM span events = extracted + EVP + agentless + OTLP − duplicates = ${fmtInt(stored)}`
  }
  return { ready: load(), stop: watch(() => load()), update: (route) => route.page === 'delivery' }
}
