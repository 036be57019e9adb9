import { DEFAULTS } from '../config/defaults.js'
import type { LlmobsConfig } from '../config/llmobs_config.js'
import { parseAgentUrl, type AgentEndpoint } from '../config/tracer_config.js'
import { BatchWriter, type BatchDestination, type BatchWriterOptions } from '../export/batch_writer.js'
import { HttpTransport } from '../transport/http_transport.js'
import { RetryingTransport } from '../transport/retrying_transport.js'
import { TRACER_VERSION } from '../version.js'
import type { ExportMode } from './export_mode.js'

export const EVP_SPANS_PATH = '/evp_proxy/v2/api/v2/llmobs'
export const EVP_EVALS_PATH = '/evp_proxy/v2/api/intake/llm-obs/v2/eval-metric'

/** The two LLMObs destinations (spans, evaluations) for a mode, with their transports. */
export interface Destinations {
  spans: BatchDestination
  evals: BatchDestination
  /** Agentless only: the trace intake for APM chunks (apm_agentless). */
  traces?: BatchDestination
  /** Retries performed for span events and for evaluations (`stats().retried`, `stats().evaluations.retried`). */
  spanRetries: () => number
  evalRetries: () => number
  close: () => void
}

export function agentDestinations (agent: AgentEndpoint): Destinations {
  const http = new HttpTransport(agent)
  // One connection pool, two retry counters: evaluations are accounted apart from span events.
  const spans = new RetryingTransport(http, DEFAULTS.retry)
  const evals = new RetryingTransport(http, DEFAULTS.retry)
  return {
    // The Agent strips other headers and adds the API key itself.
    spans: { transport: spans, path: EVP_SPANS_PATH, headers: { 'X-Datadog-EVP-Subdomain': 'llmobs-intake' } },
    evals: { transport: evals, path: EVP_EVALS_PATH, headers: { 'X-Datadog-EVP-Subdomain': 'api' } },
    spanRetries: () => spans.retries,
    evalRetries: () => evals.retries,
    close: () => http.close(),
  }
}

export function agentlessDestinations (config: LlmobsConfig): Destinations {
  const spansHttp = new HttpTransport(parseAgentUrl(config.intakeUrl) as AgentEndpoint)
  const evalsHttp = new HttpTransport(parseAgentUrl(config.evalIntakeUrl) as AgentEndpoint)
  const tracesHttp = new HttpTransport(parseAgentUrl(config.traceIntakeUrl) as AgentEndpoint)
  const spans = new RetryingTransport(spansHttp, DEFAULTS.retry)
  const evals = new RetryingTransport(evalsHttp, DEFAULTS.retry)
  const traces = new RetryingTransport(tracesHttp, DEFAULTS.retry)
  const key = { 'DD-API-KEY': config.apiKey ?? '' }
  return {
    spans: { transport: spans, path: pathOf(config.intakeUrl, '/api/v2/llmobs'), headers: key },
    evals: { transport: evals, path: pathOf(config.evalIntakeUrl, '/api/intake/llm-obs/v2/eval-metric'), headers: key },
    traces: { transport: traces, path: pathOf(config.traceIntakeUrl, '/v1/input'), headers: key },
    spanRetries: () => spans.retries,
    evalRetries: () => evals.retries,
    close: () => { spansHttp.close(); evalsHttp.close(); tracesHttp.close() },
  }
}

function pathOf (base: string, suffix: string): string {
  const p = new URL(base).pathname.replace(/\/$/, '')
  return p + suffix
}

export function isAgentlessMode (mode: ExportMode): boolean {
  return mode === 'apm_agentless' || mode === 'llmobs_agentless'
}

type Callbacks<T> = Pick<BatchWriterOptions<T>, 'onDelivered' | 'onFailed'>

/** Span events: one envelope per event, as the intake and dd-trace-js expect. */
export function spanWriter<T> (cb: Callbacks<T>, flushIntervalMs: number): BatchWriter<T> {
  const head = `{"_dd.stage":"raw","_dd.tracer_version":${JSON.stringify(TRACER_VERSION)},"event_type":"span","spans":[`
  return new BatchWriter<T>({
    name: 'llmobs span writer',
    flushIntervalMs,
    payloadMaxBytes: DEFAULTS.llmobs.payloadMaxBytes,
    maxItems: DEFAULTS.llmobs.bufferMaxEvents,
    maxBytes: DEFAULTS.llmobs.bufferMaxBytes,
    requestTimeoutMs: DEFAULTS.llmobs.requestTimeoutMs,
    itemDeadlineMs: DEFAULTS.llmobs.itemDeadlineMs,
    itemOverheadBytes: head.length + 3,
    assemble: (items) => '[' + items.map((json) => head + json + ']}').join(',') + ']',
    ...cb,
  })
}

export function evalWriter<T> (cb: Callbacks<T>, flushIntervalMs: number): BatchWriter<T> {
  return new BatchWriter<T>({
    name: 'llmobs evaluation writer',
    flushIntervalMs,
    payloadMaxBytes: DEFAULTS.llmobs.payloadMaxBytes,
    maxItems: DEFAULTS.llmobs.bufferMaxEvents,
    maxBytes: DEFAULTS.llmobs.bufferMaxBytes,
    requestTimeoutMs: DEFAULTS.llmobs.requestTimeoutMs,
    itemDeadlineMs: DEFAULTS.llmobs.itemDeadlineMs,
    itemOverheadBytes: 1,
    assemble: (items) => `{"data":{"type":"evaluation_metric","attributes":{"metrics":[${items.join(',')}]}}}`,
    ...cb,
  })
}
