/**
 * `node --import llmobs-ts/register app.mjs` (ESM) or `node -r llmobs-ts/register app.cjs`
 * (CommonJS; Node >= 20.19 loads this ES module through require(esm), so it must never use
 * top-level await): traces the OpenAI, Anthropic and Vercel AI SDK clients the application
 * loads afterwards, and — when `@opentelemetry/api` is installed — implements the OTel API and
 * turns on the OpenTelemetry instrumentations the application has installed (HTTP, fetch,
 * Express, Fastify, pg, mysql2, ioredis, mongodb, ...). Tracing and LLM Observability are
 * configured from the environment (`DD_LLMOBS_ENABLED`, `DD_LLMOBS_ML_APP`, `DD_TRACE_AGENT_URL`,
 * ...), or by `tracer.init()` in the application, which still runs before the first span.
 */
import { createRequire } from 'node:module'
import { resolveLlmobsConfig } from './config/llmobs_config.js'
import { log } from './diag/logger.js'
import { noteAutoInstrumentation } from './root/startup.js'
import { installAutoInstrumentation, INSTRUMENTED_MODULES } from './integrations/auto.js'
import { enableGlobalOtel } from './root/global_tracer.js'

let otelModules: string[] = []
let otelPackages: string[] = []
// An app without @opentelemetry/api does not use OTel: nothing to say about it.
if (enableGlobalOtel({ quietIfMissing: true })) {
  try {
    const { enableInstalledInstrumentations } = createRequire(import.meta.url)('./otel/instrumentations.js') as typeof import('./otel/instrumentations.js')
    const installed = enableInstalledInstrumentations()
    otelModules = installed.modules
    otelPackages = installed.enabled
  } catch (err) {
    log.internalError('register: OpenTelemetry instrumentations', err)
  }
}
installAutoInstrumentation(otelModules)
noteAutoInstrumentation([...INSTRUMENTED_MODULES, ...otelPackages])

// The usual surprise after adding the preload: LLM calls show up as APM spans and nothing in LLM
// Observability. Said once, and not when DD_LLMOBS_ENABLED says off on purpose.
if (!resolveLlmobsConfig().enabledSet) {
  log.warnOnce('register.llmobs_off', 'llmobs-ts/register: LLM Observability is off (DD_LLMOBS_ENABLED is not set), so LLM calls are traced as APM spans only. ' +
    'To turn it on, set DD_LLMOBS_ENABLED=true (and DD_LLMOBS_ML_APP=<your app>) or call llmobs.enable() in your code.')
}
