import { log } from '../../diag/logger.js'
import { llmobs as globalLlmobs, type LLMObs } from '../../llmobs/sdk.js'
import { llmobsOf, type WrapOptions } from '../options.js'
import { wrapMethod } from '../patch.js'
import { callProvider, type Operation } from '../provider_call.js'
import { fnRec, rec } from '../shape.js'
import { OPENAI_CHAT, OPENAI_COMPLETIONS, OPENAI_EMBEDDINGS, OPENAI_RESPONSES } from './operations.js'

function tracedCreate (op: Operation, instance: () => LLMObs) {
  return (orig: (...a: unknown[]) => unknown) => function (this: unknown, ...args: unknown[]): unknown {
    return callProvider(instance(), op, orig, this, args)
  }
}

/**
 * Traces `client.chat.completions.create`, `client.responses.create`, `client.embeddings.create`
 * and the legacy `client.completions.create` of this OpenAI client (and the helpers built on them:
 * `.parse()`, `.stream()`, `runTools()`). Returns the same client. Wrapping twice does nothing
 * more; a client whose class is also patched by `llmobs-ts/register` still makes one span per call.
 *
 * @example
 * const client = wrapOpenAI(new OpenAI())
 * await client.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] })
 */
export function wrapOpenAI<T> (client: T, options: WrapOptions = {}): T {
  try {
    const c = rec(client) ?? (typeof client === 'function' ? client as unknown as Record<string, unknown> : undefined)
    if (c === undefined) {
      log.warnOnce('wrapOpenAI.arg', 'wrapOpenAI() needs an OpenAI client; returned unchanged')
      return client
    }
    const instance = llmobsOf(options)
    const targets: Array<[unknown, Operation]> = [
      [rec(c.chat)?.completions, OPENAI_CHAT],
      [c.responses, OPENAI_RESPONSES],
      [c.embeddings, OPENAI_EMBEDDINGS],
      [c.completions, OPENAI_COMPLETIONS],
    ]
    let wrapped = 0
    for (const [target, op] of targets) {
      if (rec(target) !== undefined && wrapMethod(target as object, 'create', tracedCreate(op, instance), true)) wrapped++
    }
    if (wrapped === 0) log.warnOnce('wrapOpenAI.shape', 'wrapOpenAI(): no chat.completions, responses, embeddings or completions resource found on this object; nothing traced')
  } catch (err) {
    log.internalError('wrapOpenAI', err)
  }
  return client
}

/**
 * Automatic mode: patches the resource classes reachable from the `openai` module's exports, so
 * every client created from them is traced (into the package's `llmobs`).
 */
export function patchOpenAIModule (exports: unknown): void {
  try {
    const ns = exports as { OpenAI?: unknown, default?: unknown } | null
    const cls = fnRec(ns?.OpenAI) ?? fnRec(ns?.default) ?? fnRec(exports)
    if (cls === undefined) { log.debug(() => 'openai module without an OpenAI class; not patched'); return }
    const chat = fnRec(cls.Chat)
    const targets: Array<[unknown, Operation]> = [
      [fnRec(chat?.Completions)?.prototype, OPENAI_CHAT],
      [fnRec(cls.Responses)?.prototype, OPENAI_RESPONSES],
      [fnRec(cls.Embeddings)?.prototype, OPENAI_EMBEDDINGS],
      [fnRec(cls.Completions)?.prototype, OPENAI_COMPLETIONS],
    ]
    for (const [proto, op] of targets) {
      if (rec(proto) !== undefined) wrapMethod(proto as object, 'create', tracedCreate(op, () => globalLlmobs))
    }
  } catch (err) {
    log.internalError('patch openai', err)
  }
}

