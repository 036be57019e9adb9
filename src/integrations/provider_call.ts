import { log } from '../diag/logger.js'
import type { LLMObs } from '../llmobs/sdk.js'
import { observeApiPromise } from './api_promise.js'
import { isTraced } from './guard.js'
import { startCall, type ApmSpan, type CallResult, type CallStart, type LlmCall } from './llm_call.js'
import { rec, type Rec } from './shape.js'
import { observeIterable } from './stream.js'

/** Folds a stream's chunks into the result a non-streamed call would have given. */
export interface StreamAccumulator {
  /** Returns true when the chunk carried output (for time to first token). */
  add (chunk: unknown): boolean
  result (): CallResult
  /** An error the stream reported in-band (e.g. a `response.failed` event), if any. */
  failure? (): unknown
}

/** How one call is named: the LLMObs span, its provider, and the APM span (as dd-trace names them). */
export interface CallNames { name: string, provider: string, apm: ApmSpan }

/** One traced SDK method: how to name a call, read its request, its response and its stream. */
export interface Operation {
  integration: string
  kind: 'llm' | 'embedding'
  /** `self` is the SDK resource the method was called on (its client knows the base URL). */
  names (self: unknown, body: Rec | undefined): CallNames
  start (body: Rec | undefined): CallStart
  result (data: unknown): CallResult
  stream? (): StreamAccumulator
}

/**
 * Calls `orig` as the SDK method it is and traces it as one span. Returns exactly what `orig`
 * returned (the SDK's own promise object, observed in place).
 */
export function callProvider (llmobs: LLMObs, op: Operation, orig: (...a: unknown[]) => unknown, self: unknown, args: unknown[]): unknown {
  if (isTraced(op.integration)) return orig.apply(self, args)
  const body = rec(args[0])
  const streaming = body?.stream === true
  let names: CallNames
  try {
    names = op.names(self, body)
  } catch (err) {
    log.internalError(`integration ${op.integration} names`, err)
    names = { name: `${op.integration}.request`, provider: op.integration, apm: { name: `${op.integration}.request`, resource: `${op.integration}.request`, type: '', tags: {} } }
  }
  const { call, result } = startCall(
    { llmobs, integration: op.integration, kind: op.kind, ...names },
    () => op.start(body),
    () => orig.apply(self, args),
  )
  if (call === undefined) return result
  try {
    follow(call, op, result, streaming)
  } catch (err) {
    log.internalError(`integration ${op.integration} follow`, err)
    call.succeed({})
  }
  return result
}

function follow (call: LlmCall, op: Operation, result: unknown, streaming: boolean): void {
  const data = (value: unknown): unknown => {
    if (streaming) followStream(call, op, value)
    else call.succeed(read(op, () => op.result(value)))
    return value
  }
  if (observeApiPromise(result, { data, error: (err) => call.fail(err), rawOnly: () => call.succeed({}), parsing: () => call.unwatch() })) {
    call.watch(result as object)
    return
  }
  // A plain native promise (a wrapper between us and the SDK) is safe to observe directly.
  if (result instanceof Promise && Object.getPrototypeOf(result) === Promise.prototype) {
    result.then((v: unknown) => {
      try { data(v) } catch (err) { log.internalError(`integration ${op.integration} response`, err); call.succeed({}) }
    }, (err: unknown) => call.fail(err))
    return
  }
  // A stream handed back bare, not in the SDK's promise (OpenLLMetry's openai wrapper does that).
  if (streaming && isAsyncIterable(result)) { followStream(call, op, result); return }
  log.warnOnce(`integration.${op.integration}.shape`, `${op.integration}: the SDK returned an object this version of llmobs-ts does not recognise; the call is traced without its response`)
  call.succeed({})
}

function followStream (call: LlmCall, op: Operation, stream: unknown): void {
  const acc = op.stream?.()
  if (acc === undefined) { call.succeed({}); return }
  const controller = (stream as { controller?: { signal?: AbortSignal } } | null)?.controller
  const ok = observeIterable(stream, {
    chunk: (c) => { if (acc.add(c)) call.firstToken() },
    // tee() and toReadableStream() keep the iterator, not the stream object, alive.
    started: (it) => call.watch(it),
    end: (how, err) => {
      const r = { ...read(op, () => acc.result()), streamEnd: how }
      let inBand: unknown
      try { inBand = acc.failure?.() } catch (e) { log.internalError(`integration ${op.integration} response`, e) }
      if (how === 'error') call.fail(err, r)
      else if (inBand !== undefined) call.fail(inBand, r)
      else call.succeed(r)
    },
  }, () => controller?.signal?.aborted === true)
  if (ok) call.watch(stream as object)
  else call.succeed({})
}

function isAsyncIterable (v: unknown): boolean {
  return v !== null && typeof v === 'object' && typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
}

/** Reading a response must never leave the span open: a reader that throws yields nothing. */
function read<T> (op: Operation, fn: () => T): T | Partial<T> {
  try {
    return fn()
  } catch (err) {
    log.internalError(`integration ${op.integration} response`, err)
    return {}
  }
}
