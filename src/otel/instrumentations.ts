import { createRequire } from 'node:module'
import { join } from 'node:path'
import { log } from '../diag/logger.js'

/**
 * The OpenTelemetry instrumentations `llmobs-ts/register` turns on when the application has them
 * installed (optional peers, never bundled). Each package is resolved from the application, not
 * from this package, so nothing the app did not install is ever loaded.
 */
export const KNOWN_INSTRUMENTATIONS: ReadonlyArray<{ pkg: string, export: string }> = [
  { pkg: '@opentelemetry/instrumentation-http', export: 'HttpInstrumentation' },
  { pkg: '@opentelemetry/instrumentation-undici', export: 'UndiciInstrumentation' },
  { pkg: '@opentelemetry/instrumentation-express', export: 'ExpressInstrumentation' },
  { pkg: '@opentelemetry/instrumentation-fastify', export: 'FastifyInstrumentation' },
  { pkg: '@opentelemetry/instrumentation-koa', export: 'KoaInstrumentation' },
  { pkg: '@opentelemetry/instrumentation-pg', export: 'PgInstrumentation' },
  { pkg: '@opentelemetry/instrumentation-mysql2', export: 'MySQL2Instrumentation' },
  { pkg: '@opentelemetry/instrumentation-ioredis', export: 'IORedisInstrumentation' },
  { pkg: '@opentelemetry/instrumentation-redis', export: 'RedisInstrumentation' },
  { pkg: '@opentelemetry/instrumentation-mongodb', export: 'MongoDBInstrumentation' },
  { pkg: '@opentelemetry/instrumentation-grpc', export: 'GrpcInstrumentation' },
  { pkg: '@opentelemetry/instrumentation-openai', export: 'OpenAIInstrumentation' },
  { pkg: '@arizeai/openinference-instrumentation-openai', export: 'OpenAIInstrumentation' },
  { pkg: '@traceloop/instrumentation-openai', export: 'OpenAIInstrumentation' },
]

export interface InstalledInstrumentations {
  /** Packages found and enabled. */
  enabled: string[]
  /** Modules they patch (the ESM loader hook must include them). */
  modules: string[]
}

interface InstrumentationLike {
  getModuleDefinitions?: () => Array<{ name: string }>
}

/**
 * Creates (and so enables) every known instrumentation the application has installed. They take
 * their tracer from the global OTel API, which the bridge serves. Never throws: an instrumentation
 * that fails to load is skipped with one warning.
 */
export function enableInstalledInstrumentations (appDir: string = process.cwd()): InstalledInstrumentations {
  const out: InstalledInstrumentations = { enabled: [], modules: [] }
  const fromApp = createRequire(join(appDir, 'package.json'))
  for (const known of KNOWN_INSTRUMENTATIONS) {
    let path: string
    try {
      path = fromApp.resolve(known.pkg)
    } catch {
      continue
    }
    try {
      const mod = fromApp(path) as Record<string, unknown>
      const Cls = mod[known.export]
      if (typeof Cls !== 'function') throw new Error(`it has no export ${known.export}`)
      const inst = new (Cls as new (config?: unknown) => InstrumentationLike)()
      out.enabled.push(known.pkg)
      for (const d of inst.getModuleDefinitions?.() ?? []) {
        out.modules.push(d.name)
        if (isBuiltin(d.name)) out.modules.push('node:' + d.name)
      }
    } catch (err) {
      log.warnOnce('otel.instrumentation.' + known.pkg, `OpenTelemetry instrumentation ${known.pkg} could not be enabled (${String(err)}); skipped`)
    }
  }
  log.debug(() => `OpenTelemetry instrumentations enabled: ${out.enabled.join(', ') || 'none'}`)
  return out
}

const BUILTINS = new Set(['http', 'https', 'net', 'dns', 'fs', 'child_process', 'http2'])
function isBuiltin (name: string): boolean { return BUILTINS.has(name) }
