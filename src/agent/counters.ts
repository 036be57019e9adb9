/**
 * The local agent's counters, persisted in the store (so they survive a restart with a file
 * database) and cleared by `POST /api/reset`.
 *
 * Exact semantics (a request to a data endpoint counts once, in exactly one of payloads_received,
 * requests_rejected or faults_injected, except for delay-only faults, see below):
 * - payloads_received: requests to a data endpoint (/v0.4/traces, /v0.5/traces, /v1/input,
 *   /api/v2/llmobs, eval-metric, directly or through /evp_proxy/, and the OTLP intake's /v1/traces)
 *   that were accepted (2xx) and stored. Quiet endpoints (/v0.7/config, /telemetry/..., ...) and the query API never count.
 * - chunks_received: non-empty trace chunks in accepted trace payloads (v0.4, v0.5, /v1/input).
 *   Empty chunks are skipped, as the Agent does.
 * - chunks_dropped_sampling: of those, chunks the Agent's sampling removed (priority < 0, or
 *   priority 0 not kept by the errors sampler). /v1/input applies no sampling.
 * - chunks_dropped_invalid: chunks the Agent's normalizer would drop (a span with trace_id or
 *   span_id 0, or spans of different traces in one chunk); the payload is still accepted.
 * - chunks_kept_errors: priority-0 chunks kept by the errors sampler (a subset of the kept).
 * - llmobs_extracted: LLMObs span events extracted from `meta_struct._llmobs` of kept chunks
 *   (v0.4 path `trace`, /v1/input path `agentless`), duplicates included.
 * - llmobs_evp: span events received in `/evp_proxy/.../api/v2/llmobs` posts, duplicates included.
 * - llmobs_agentless: span events received in `/api/v2/llmobs` posts, duplicates included.
 * - llmobs_otlp: span events mapped from the GenAI spans of accepted OTLP requests (the OTLP
 *   intake's /v1/traces, path `otlp`), duplicates included.
 * - duplicates_suppressed: span events not stored because an event with the same
 *   (trace_id, span_id) was already stored (whatever path either came by, same request included).
 *   So: rows stored = llmobs_extracted + llmobs_evp + llmobs_agentless + llmobs_otlp
 *   - duplicates_suppressed.
 * - evaluations: evaluation metrics received in accepted requests (each element of
 *   `attributes.metrics`, EVP or agentless), duplicates included.
 * - evaluation_duplicates_suppressed: of those, metrics not stored because one with the same
 *   identity (join_on.span trace_id and span_id, label, ml_app, timestamp_ms) was already stored
 *   (whatever path either came by, same request included); a client that timed out after the
 *   agent stored its post and sent it again lands here. Evaluations joined on a tag have no span
 *   identity and are all stored. So: rows = evaluations - evaluation_duplicates_suppressed.
 * - requests_rejected: requests to a data endpoint or the query API answered 4xx by validation
 *   (bad method, content type, encoding, body, size, missing EVP subdomain, API key, a
 *   cross-site state change), and requests to any path refused for their Host header. Nothing
 *   of such a request is stored. Unknown paths (404) and quiet endpoints do not count.
 * - faults_injected: requests answered (or delayed) by a fault set with POST /api/faults. A
 *   delay-only fault then lets the request be served, so it also counts in its outcome.
 * - requests_quiet: requests to endpoints tracers call that the agent does not model
 *   (/v0.7/config, /telemetry/proxy/..., /v0.6/stats, other EVP intakes, ...), answered quietly.
 * - otlp_spans_received: spans in OTLP requests that decoded (rejected ones included).
 * - otlp_spans_rejected: of those, spans refused one by one (bad ids, end before start) and
 *   reported in the partial-success answer; the rest of their request is stored.
 * - otlp_spans_opted_out: GenAI spans not mapped because their trace opted out
 *   (`dd_llmobs_enabled=false` on one of its spans or resources).
 * - otlp_decode_errors: OTLP requests refused with a 400 because the body did not decode
 *   (also in requests_rejected).
 * - retention_removed_spans / _evaluations / _chunks: rows retention removed to keep the store
 *   within its limits (retention.ts).
 */
export const COUNTER_NAMES = [
  'payloads_received',
  'chunks_received',
  'chunks_dropped_sampling',
  'chunks_dropped_invalid',
  'chunks_kept_errors',
  'llmobs_extracted',
  'llmobs_evp',
  'llmobs_agentless',
  'llmobs_otlp',
  'duplicates_suppressed',
  'evaluations',
  'evaluation_duplicates_suppressed',
  'requests_rejected',
  'faults_injected',
  'requests_quiet',
  'otlp_spans_received',
  'otlp_spans_rejected',
  'otlp_spans_opted_out',
  'otlp_decode_errors',
  'retention_removed_spans',
  'retention_removed_evaluations',
  'retention_removed_chunks',
] as const

export type CounterName = typeof COUNTER_NAMES[number]
export type Counters = Record<CounterName, number>

export function zeroCounters (): Counters {
  const c = {} as Counters
  for (const name of COUNTER_NAMES) c[name] = 0
  return c
}
