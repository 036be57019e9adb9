import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto'
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http'
import { resourceFromAttributes } from '@opentelemetry/resources'
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base'

let contextReady = false

export interface OtelPipeline {
  readonly provider: BasicTracerProvider
  /** Exports everything ended so far and waits for the agent's answer. */
  flush (): Promise<void>
  shutdown (): Promise<void>
}

/**
 * OTel JS's own SDK and OTLP exporter pointed at a local agent's OTLP intake: `proto`
 * (@opentelemetry/exporter-trace-otlp-proto) or `json` (-otlp-http), gzip or not. A batch span
 * processor, as apps use, so a trace's spans travel in one request.
 */
export function otelPipeline (otlpUrl: string, protocol: 'proto' | 'json', gzip: boolean, resource: Record<string, string | boolean> = { 'service.name': 'otlp-app' }): OtelPipeline {
  if (!contextReady) {
    // Nesting needs a context manager; the SDK's register() would also claim the global provider.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    contextReady = true
  }
  // The exporters' CompressionAlgorithm enum values are these strings.
  const options = { url: `${otlpUrl}/v1/traces`, compression: (gzip ? 'gzip' : 'none') as any }
  const exporter = protocol === 'proto' ? new ProtoExporter(options) : new JsonExporter(options)
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes(resource),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000, maxExportBatchSize: 512 })],
  })
  return { provider, flush: () => provider.forceFlush(), shutdown: () => provider.shutdown() }
}
