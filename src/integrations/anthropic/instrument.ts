import { log } from '../../diag/logger.js'
import { llmobs as globalLlmobs, type LLMObs } from '../../llmobs/sdk.js'
import { llmobsOf, type WrapOptions } from '../options.js'
import { wrapMethod } from '../patch.js'
import { callProvider, type Operation } from '../provider_call.js'
import { fnRec, rec, str } from '../shape.js'
import { MessagesStream, messagesResult, messagesStart } from './messages.js'

/**
 * dd-trace 5 names neither span (OTEL-FACTS §4.2): both are `anthropic.request`, resource
 * `Messages.create` (also for `messages.stream()`, which calls it).
 */
const ANTHROPIC_MESSAGES: Operation = {
  integration: 'anthropic',
  kind: 'llm',
  names: (_self, body) => ({
    name: 'anthropic.request',
    provider: 'anthropic',
    apm: { name: 'anthropic.request', resource: 'Messages.create', type: '', tags: { component: 'anthropic', 'span.kind': 'client', 'anthropic.request.model': str(body?.model) } },
  }),
  start: messagesStart,
  result: messagesResult,
  stream: () => new MessagesStream(),
}

function tracedCreate (instance: () => LLMObs) {
  return (orig: (...a: unknown[]) => unknown) => function (this: unknown, ...args: unknown[]): unknown {
    return callProvider(instance(), ANTHROPIC_MESSAGES, orig, this, args)
  }
}

/**
 * Traces `client.messages.create` of this Anthropic client, and with it `messages.stream()`
 * (whose `MessageStream`, `finalMessage()` and events are untouched) and `client.beta.messages`.
 * Returns the same client.
 *
 * @example
 * const client = wrapAnthropic(new Anthropic())
 * await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'hi' }] })
 */
export function wrapAnthropic<T> (client: T, options: WrapOptions = {}): T {
  try {
    const c = rec(client)
    if (c === undefined) {
      log.warnOnce('wrapAnthropic.arg', 'wrapAnthropic() needs an Anthropic client; returned unchanged')
      return client
    }
    const instance = llmobsOf(options)
    let wrapped = 0
    for (const target of [c.messages, rec(c.beta)?.messages]) {
      if (rec(target) !== undefined && wrapMethod(target as object, 'create', tracedCreate(instance), true)) wrapped++
    }
    if (wrapped === 0) log.warnOnce('wrapAnthropic.shape', 'wrapAnthropic(): no messages resource found on this object; nothing traced')
  } catch (err) {
    log.internalError('wrapAnthropic', err)
  }
  return client
}

/** Automatic mode: patches `Messages` (and `Beta.Messages`) of the `@anthropic-ai/sdk` module. */
export function patchAnthropicModule (exports: unknown): void {
  try {
    const ns = exports as { Anthropic?: unknown, default?: unknown } | null
    const cls = fnRec(ns?.Anthropic) ?? fnRec(ns?.default) ?? fnRec(exports)
    if (cls === undefined) { log.debug(() => '@anthropic-ai/sdk module without an Anthropic class; not patched'); return }
    const protos = [fnRec(cls.Messages)?.prototype, fnRec(fnRec(cls.Beta)?.Messages)?.prototype]
    for (const proto of protos) {
      if (rec(proto) !== undefined) wrapMethod(proto as object, 'create', tracedCreate(() => globalLlmobs))
    }
  } catch (err) {
    log.internalError('patch @anthropic-ai/sdk', err)
  }
}

