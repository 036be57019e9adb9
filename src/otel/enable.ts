import { context, propagation, trace } from '@opentelemetry/api'
import { log } from '../diag/logger.js'
import type { Tracer } from '../root/tracer.js'
import { llmobs as globalLlmobs, type LLMObs } from '../llmobs/sdk.js'
import { OtelBridge } from './bridge.js'
import { GenAiLifecycle } from './genai_bridge.js'

const BRIDGES = new WeakMap<Tracer, OtelBridge>()
let processBridge: OtelBridge | undefined

/**
 * Makes `tracer` the process's OpenTelemetry implementation: the global TracerProvider, context
 * manager and propagator. Once per tracer; a global another SDK registered first is left in place
 * with one warning (the OTel API refuses a second registration), and the bridge still works for
 * spans started through `bridge.provider`.
 */
export function enableOtel (tracer: Tracer, options: { llmobs?: LLMObs } = {}): OtelBridge {
  let bridge = BRIDGES.get(tracer)
  if (bridge !== undefined) return bridge
  bridge = install(() => tracer, options.llmobs)
  BRIDGES.set(tracer, bridge)
  return bridge
}

/**
 * The bridge for the package's process-wide tracer, bound lazily (`tracerOf` creates it at the
 * first OTel span if the app has not by then): `llmobs-ts/register` installs it before any app
 * code, so `tracer.init()` in the app still configures the tracer. Idempotent.
 */
export function enableProcessOtel (tracerOf: () => Tracer): OtelBridge {
  processBridge ??= install(tracerOf, undefined)
  return processBridge
}

function install (tracerOf: () => Tracer, llmobs: LLMObs | undefined): OtelBridge {
  const bridge = new OtelBridge(tracerOf)
  // GenAI spans become LLMObs spans of the SDK riding this tracer (the package's, unless given).
  bridge.lifecycles.push(new GenAiLifecycle(bridge, llmobs ?? globalLlmobs))
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
