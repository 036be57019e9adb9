import { register } from 'node:module'
import { isMainThread } from 'node:worker_threads'
import { Hook as ImportHook } from 'import-in-the-middle'
import { Hook as RequireHook } from 'require-in-the-middle'
import { log } from '../diag/logger.js'
import { patchAiCommonJs, patchAiExports } from './ai_sdk/instrument.js'
import { patchAnthropicModule } from './anthropic/instrument.js'
import { patchOpenAIModule } from './openai/instrument.js'
import type { Rec } from './shape.js'

/** The modules automatic mode instruments (their main entry points). */
export const INSTRUMENTED_MODULES = ['openai', '@anthropic-ai/sdk', 'ai'] as const

const INSTALLED = Symbol.for('llmobs-ts.auto.installed')

/**
 * Turns on automatic instrumentation for the provider SDKs, loaded with `import` (through
 * import-in-the-middle's loader hook, limited to these modules) or `require` (through
 * require-in-the-middle). Safe to call more than once; never throws.
 */
export function installAutoInstrumentation (extraModules: readonly string[] = []): void {
  const g = globalThis as { [INSTALLED]?: boolean }
  if (g[INSTALLED] === true) return
  g[INSTALLED] = true
  try {
    // `node -r` also runs preloads in the loader's own worker thread; registering the loader
    // from there would initialise it twice. Loader hooks serve the main thread either way.
    if (isMainThread) register('import-in-the-middle/hook.mjs', import.meta.url, { data: { include: [...INSTRUMENTED_MODULES, ...extraModules] } })
  } catch (err) {
    log.warnOnce('auto.loader', `llmobs-ts/register: could not install the ESM loader hook (${String(err)}); modules loaded with import are not traced`)
  }
  try {
    // import-in-the-middle's hook: the namespace accepts assignment and rebinds importers.
    new ImportHook([...INSTRUMENTED_MODULES], (exported, name) => { onModule(name, exported) })
  } catch (err) {
    log.internalError('auto import hook', err)
  }
  try {
    new RequireHook([...INSTRUMENTED_MODULES], (exports, name) => onRequire(name, exports) as typeof exports)
  } catch (err) {
    log.internalError('auto require hook', err)
  }
}

function onModule (name: string, exported: Rec): void {
  try {
    if (name === 'openai') patchOpenAIModule(exported)
    else if (name === '@anthropic-ai/sdk') patchAnthropicModule(exported)
    else if (name === 'ai') patchAiExports(exported, (k, fn) => { exported[k] = fn })
  } catch (err) {
    log.internalError(`auto ${name}`, err)
  }
}

function onRequire (name: string, exports: unknown): unknown {
  try {
    if (name === 'openai') patchOpenAIModule(exports)
    else if (name === '@anthropic-ai/sdk') patchAnthropicModule(exports)
    else if (name === 'ai') return patchAiCommonJs(exports)
  } catch (err) {
    log.internalError(`auto ${name}`, err)
  }
  return exports
}
