import { context, propagation, trace } from '@opentelemetry/api'
import { log } from '../diag/logger.js'
import type { Tracer } from '../trace/tracer.js'
import { llmobs as globalLlmobs, type LLMObs } from '../llmobs/sdk.js'
import { OtelBridge } from './bridge.js'
import { GenAiLifecycle } from './genai_bridge.js'

const BRIDGES = new WeakMap<Tracer, OtelBridge>()

/**
 * Makes `tracer` the process's OpenTelemetry implementation: the global TracerProvider, context
 * manager and propagator. Once per tracer; a global another SDK registered first is left in place
 * with one warning (the OTel API refuses a second registration), and the bridge still works for
 * spans started through `bridge.provider`.
 */
export function enableOtel (tracer: Tracer, options: { llmobs?: LLMObs } = {}): OtelBridge {
  let bridge = BRIDGES.get(tracer)
  if (bridge !== undefined) return bridge
  bridge = new OtelBridge(tracer)
  // GenAI spans become LLMObs spans of the SDK riding this tracer (the package's, unless given).
  bridge.lifecycles.push(new GenAiLifecycle(bridge, options.llmobs ?? globalLlmobs))
  BRIDGES.set(tracer, bridge)
  const refused: string[] = []
  if (!trace.setGlobalTracerProvider(bridge.provider)) refused.push('TracerProvider')
  if (!context.setGlobalContextManager(bridge.contextManager)) refused.push('context manager')
  if (!propagation.setGlobalPropagator(bridge.propagator)) refused.push('propagator')
  if (refused.length > 0) {
    log.warnOnce('otel.register', `OpenTelemetry: another ${refused.join(', ')} is already registered globally; llmobs-ts did not replace it (start llmobs-ts before any OTel SDK, or remove the SDK)`)
  }
  return bridge
}

export function otelBridgeOf (tracer: Tracer): OtelBridge | undefined {
  return BRIDGES.get(tracer)
}
