import { log } from '../../diag/logger.js'
import { rec, type Rec } from '../shape.js'
import { llmobsEmbeddingMiddleware, llmobsMiddleware } from './middleware.js'

const MARK = Symbol.for('llmobs-ts.ai.patched')
const LANGUAGE = ['generateText', 'streamText', 'generateObject', 'streamObject']
const EMBEDDING = ['embed', 'embedMany']

type Fn = (...args: unknown[]) => unknown

/**
 * Automatic mode for the `ai` package: its entry points get the model they are given wrapped
 * with the middlewares (using the package's own `wrapLanguageModel` / `wrapEmbeddingModel`).
 * Models named by string (the AI Gateway) are resolved inside `ai` and pass untraced.
 *
 * `setExport` writes the replacement: ESM namespaces (import-in-the-middle) accept assignment;
 * CommonJS exports of `ai` are getters, so the CommonJS hook builds a new exports object.
 */
export function patchAiExports (exports: Rec, setExport: (name: string, fn: Fn) => void): void {
  try {
    const wrapLanguageModel = exports.wrapLanguageModel
    const wrapEmbeddingModel = exports.wrapEmbeddingModel
    if (typeof wrapLanguageModel !== 'function' || typeof wrapEmbeddingModel !== 'function') {
      log.debug(() => 'ai module without wrapLanguageModel/wrapEmbeddingModel; not patched')
      return
    }
    const lm = llmobsMiddleware()
    const em = llmobsEmbeddingMiddleware()
    const groups: Array<[string[], (model: unknown) => unknown]> = [
      [LANGUAGE, (model) => (wrapLanguageModel as Fn)({ model, middleware: lm })],
      [EMBEDDING, (model) => (wrapEmbeddingModel as Fn)({ model, middleware: em })],
    ]
    for (const [names, wrapModel] of groups) {
      for (const name of names) {
        const orig = exports[name]
        if (typeof orig !== 'function' || (orig as { [MARK]?: boolean })[MARK] === true) continue
        const patched = function (this: unknown, ...args: unknown[]): unknown {
          return (orig as Fn).apply(this, withTracedModel(args, wrapModel))
        }
        Object.defineProperty(patched, MARK, { value: true })
        Object.defineProperty(patched, 'name', { value: name })
        setExport(name, patched)
      }
    }
  } catch (err) {
    log.internalError('patch ai', err)
  }
}

/** The same arguments with `options.model` wrapped, when it is a v3 model object. */
function withTracedModel (args: unknown[], wrapModel: (model: unknown) => unknown): unknown[] {
  try {
    const options = rec(args[0])
    const model = rec(options?.model)
    if (options === undefined || model === undefined || model.specificationVersion !== 'v3') return args
    return [{ ...options, model: wrapModel(model) }, ...args.slice(1)]
  } catch (err) {
    log.internalError('integration ai options', err)
    return args
  }
}

/** CommonJS: a copy of `exports` (getters preserved) with the patched entry points. */
export function patchAiCommonJs (exports: unknown): unknown {
  const src = rec(exports)
  if (src === undefined) return exports
  const replaced = new Map<string, Fn>()
  patchAiExports(src, (name, fn) => replaced.set(name, fn))
  if (replaced.size === 0) return exports
  const copy: Rec = {}
  for (const key of Object.getOwnPropertyNames(src)) {
    const fn = replaced.get(key)
    if (fn !== undefined) { Object.defineProperty(copy, key, { value: fn, enumerable: true }); continue }
    const desc = Object.getOwnPropertyDescriptor(src, key)
    if (desc !== undefined) Object.defineProperty(copy, key, desc)
  }
  return copy
}
