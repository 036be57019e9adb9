import { DEFAULTS } from '../config/defaults.js'
import type { TracerConfig } from '../config/tracer_config.js'
import { decodeTracesResponse, encodeTracesRequest } from '../encode/otlp/index.js'
import { OtlpExporter } from '../export/otlp_exporter.js'

/** The OTLP export mode's sink, from the tracer's config (OTLP mode only). */
export function createOtlpExporter (config: TracerConfig): OtlpExporter | undefined {
  const otlp = config.otlp
  if (otlp === undefined) return undefined
  return new OtlpExporter({
    url: otlp.url,
    headers: otlp.headers,
    encoding: otlp.protocol === 'http/json' ? 'json' : 'protobuf',
    compression: otlp.compression,
    timeoutMs: otlp.timeoutMs,
    flushIntervalMs: config.flushIntervalMs,
    maxQueueSpans: DEFAULTS.otlp.maxQueueSpans,
    maxBatchSpans: DEFAULTS.otlp.maxBatchSpans,
    maxInflight: DEFAULTS.otlp.maxInflight,
    retry: DEFAULTS.retry,
    resource: { service: config.service, env: config.env, version: config.version, tags: config.tags, resourceAttributes: otlp.resourceAttributes },
    codec: { encodeRequest: encodeTracesRequest, decodeResponse: decodeTracesResponse },
  })
}
