import type { ReadableStream } from 'node:stream/web'
import { log } from '../../diag/logger.js'
import type { LLMObs } from '../../llmobs/sdk.js'
import { embeddingDocuments, embeddingSummary } from '../openai/embeddings.js'
import { isTraced } from '../guard.js'
import { startCall, type CallSpec, type LlmCall } from '../llm_call.js'
import { llmobsOf, type WrapOptions } from '../options.js'
import { observeReadable } from '../readable.js'
import { list, num, rec } from '../shape.js'
import { generateResult, generateStart, modelIdOf, providerOf } from './convert.js'
import { PartsStream } from './stream_parts.js'

const INTEGRATION = 'ai'

/**
 * A language model middleware for the Vercel AI SDK (`wrapLanguageModel`), typed structurally
 * so this package does not depend on `ai`: it is assignable to `LanguageModelMiddleware`.
 */
export interface LlmobsLanguageModelMiddleware {
  readonly specificationVersion: 'v3'
  wrapGenerate: <R>(options: { doGenerate: () => PromiseLike<R>, params: unknown, model: unknown }) => Promise<R>
  wrapStream: <R>(options: { doStream: () => PromiseLike<R>, params: unknown, model: unknown }) => Promise<R>
}

/** The embedding counterpart, assignable to `EmbeddingModelMiddleware` (`wrapEmbeddingModel`). */
export interface LlmobsEmbeddingModelMiddleware {
  readonly specificationVersion: 'v3'
  wrapEmbed: <R>(options: { doEmbed: () => PromiseLike<R>, params: unknown, model: unknown }) => Promise<R>
}

/**
 * dd-trace 5 names the LLMObs span after the last segment of the AI SDK's own span name
 * (`doGenerate`, `doStream`, `doEmbed`, OTEL-FACTS §4.3) and the APM span after the whole name;
 * a middleware does not see which entry point called it, so its APM span is `ai.<segment>`.
 */
function spec (instance: LLMObs, kind: 'llm' | 'embedding', segment: string, model: unknown): CallSpec {
  const provider = providerOf(model)
  const tags = { component: INTEGRATION, 'ai.request.model': modelIdOf(model), 'ai.request.model_provider': provider }
  return { llmobs: instance, integration: INTEGRATION, kind, name: segment, provider, apm: { name: `ai.${segment}`, resource: `ai.${segment}`, type: '', tags } }
}

/**
 * Traces every `doGenerate` / `doStream` of the wrapped model as one `llm` span (a multi-step
 * `generateText` makes one span per model call).
 *
 * @example
 * import { wrapLanguageModel, generateText } from 'ai'
 * const model = wrapLanguageModel({ model: openai('gpt-4o-mini'), middleware: llmobsMiddleware() })
 * await generateText({ model, prompt: 'hi' })
 */
export function llmobsMiddleware (options?: WrapOptions): LlmobsLanguageModelMiddleware {
  const instance = llmobsOf(options)
  return {
    specificationVersion: 'v3',
    async wrapGenerate ({ doGenerate, params, model }) {
      if (isTraced(INTEGRATION)) return doGenerate()
      const { call, result } = startCall(spec(instance(), 'llm', 'doGenerate', model), () => generateStart(params, model, false), () => doGenerate())
      if (call === undefined) return result
      const value = await settled(call, result)
      call.succeed(generateResult(value, model))
      return value
    },
    async wrapStream ({ doStream, params, model }) {
      if (isTraced(INTEGRATION)) return doStream()
      const { call, result } = startCall(spec(instance(), 'llm', 'doStream', model), () => generateStart(params, model, true), () => doStream())
      if (call === undefined) return result
      const value = await settled(call, result)
      return followParts(call, value, model, params)
    },
  }
}

/** The model call's result; a rejection is recorded on the span and reaches the caller unchanged. */
async function settled<R> (call: LlmCall, result: R | PromiseLike<R>): Promise<R> {
  try {
    return await result
  } catch (err) {
    call.fail(err)
    throw err
  }
}

function followParts<R> (call: LlmCall, value: R, model: unknown, params: unknown): R {
  try {
    const source = rec(value)?.stream as ReadableStream<unknown> | undefined
    if (source === undefined || typeof source.getReader !== 'function') { call.succeed({}); return value }
    const acc = new PartsStream(model)
    const signal = rec(params)?.abortSignal as AbortSignal | undefined
    const stream = observeReadable(source, {
      chunk: (c) => { if (acc.add(c)) call.firstToken() },
      end: (how, err) => {
        const r = { ...acc.result(), streamEnd: how }
        if (how === 'error' || (how === 'aborted' && err !== undefined)) call.fail(err, r)
        else if (acc.hasFailure) call.fail(acc.failure(), r)
        else call.succeed(r)
      },
    }, () => signal?.aborted === true)
    call.watch(stream)
    return { ...value, stream } as R
  } catch (err) {
    log.internalError('integration ai stream', err)
    call.succeed({})
    return value
  }
}

/**
 * Traces every `doEmbed` of the wrapped embedding model as one `embedding` span.
 *
 * @example
 * const model = wrapEmbeddingModel({ model: openai.embedding('text-embedding-3-small'), middleware: llmobsEmbeddingMiddleware() })
 */
export function llmobsEmbeddingMiddleware (options?: WrapOptions): LlmobsEmbeddingModelMiddleware {
  const instance = llmobsOf(options)
  return {
    specificationVersion: 'v3',
    async wrapEmbed ({ doEmbed, params, model }) {
      if (isTraced(INTEGRATION)) return doEmbed()
      const { call, result } = startCall(spec(instance(), 'embedding', 'doEmbed', model),
        () => ({ model: modelIdOf(model), input: embeddingDocuments(rec(params)?.values) }), () => doEmbed())
      if (call === undefined) return result
      const value = await settled(call, result)
      const r = rec(value)
      const vectors = list(r?.embeddings)
      const tokens = num(rec(r?.usage)?.tokens)
      call.succeed({
        model: modelIdOf(model),
        output: embeddingSummary(vectors.length, Array.isArray(vectors[0]) ? vectors[0].length : undefined),
        usage: tokens === undefined ? undefined : { inputTokens: tokens, totalTokens: tokens },
      })
      return value
    },
  }
}
