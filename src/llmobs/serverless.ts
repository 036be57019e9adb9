import { DEFAULTS } from '../config/defaults.js'
import { describeError, log } from '../diag/logger.js'
import { getTracer } from '../root/global_tracer.js'
import type { Span } from '../trace/span.js'
import type { SpanContext } from '../trace/span_context.js'
import type { TraceState } from '../model/trace_state.js'
import { Tracer } from '../root/tracer.js'
import { llmobs as defaultLlmobs, LLMObs } from './sdk.js'
import { traceOf } from './trace_flush.js'

/**
 * Ready-made request-scoped flushes for platforms that freeze or end the instance once the
 * response is out (AWS Lambda, Vercel / Next.js `after()` and `waitUntil`, Cloudflare Workers'
 * `ctx.waitUntil`). They flush one trace, never the whole process: concurrent requests do not
 * wait for each other's telemetry.
 */
export interface ServerlessOptions {
  /** Bound on the whole flush, in ms (default 2 s). */
  timeoutMs?: number
  /** The LLMObs instance and its tracer (defaults: the package's `llmobs` and `tracer`). */
  llmobs?: LLMObs
  tracer?: Tracer
}

export interface LambdaOptions extends ServerlessOptions {
  /** Name of the invocation's root span (default `aws.lambda`). */
  name?: string
}

/** What the wrapper reads from Lambda's context, when present. */
interface LambdaContextLike { functionName?: unknown, getRemainingTimeInMillis?: unknown }

/** Left for the runtime to send the response after the flush gave up. */
const LAMBDA_RESERVE_MS = 100

/**
 * Wraps an async AWS Lambda handler: each invocation runs in a root span (`aws.lambda`, resource
 * the function name), and its trace is flushed after the handler settles and before the result
 * (or error) is returned, bounded by the timeout and by the invocation's remaining time. The
 * handler's result and errors pass through unchanged. Callback-style handlers (three parameters)
 * are returned unwrapped, with a warning: Lambda ignores the callback of an async function.
 *
 * @example export const handler = withLambda(async (event) => ({ statusCode: 200, body: await answer(event) }))
 */
export function withLambda<E, C, R> (handler: (event: E, context: C) => R | Promise<R>, options: LambdaOptions = {}): (event: E, context: C) => Promise<Awaited<R>> {
  if (typeof handler !== 'function') {
    log.warnOnce('serverless.lambda.fn', 'withLambda() needs a handler function; returned unchanged')
    return handler
  }
  if (handler.length > 2) {
    log.warnOnce('serverless.lambda.callback', 'withLambda() wraps async handlers only; a callback-style handler (event, context, callback) is returned unwrapped, its traces are not flushed per invocation')
    return handler as unknown as (event: E, context: C) => Promise<Awaited<R>>
  }
  const o = readOptions(options)
  const name = typeof o.name === 'string' && o.name !== '' ? o.name : 'aws.lambda'
  return async function (this: unknown, event: E, context: C): Promise<Awaited<R>> {
    const tracer = o.tracer ?? getTracer()
    const lambda = readContext(context)
    let span: Span | undefined
    try {
      return await tracer.trace(name, { type: 'serverless', resource: lambda.functionName ?? name }, (s) => {
        span = s
        return Reflect.apply(handler, this, [event, context]) as R | Promise<R>
      }) as Awaited<R>
    } finally {
      if (span !== undefined) {
        const remaining = lambda.remainingMs() - LAMBDA_RESERVE_MS
        await (o.llmobs ?? defaultLlmobs).flushTrace(span, { timeoutMs: Math.max(0, Math.min(o.timeoutMs ?? DEFAULTS.traceFlushTimeoutMs, remaining)) })
      }
    }
  }
}

/**
 * The promise to hand to `waitUntil` (Vercel / Next.js `after()` or `waitUntil`, Cloudflare's
 * `ctx.waitUntil`): resolves once the trace of `target` (default: the active span's, read now)
 * is flushed. Call it while the request's span is still open: it first waits for the trace's
 * spans to finish (at most half the timeout), then flushes the trace with the rest. Never rejects.
 *
 * @example ctx.waitUntil(waitUntilFlush(span))
 */
export function waitUntilFlush (target?: Span | SpanContext | TraceState, options: ServerlessOptions = {}): Promise<void> {
  try {
    const o = readOptions(options)
    const tracer = o.tracer ?? getTracer()
    const trace = traceOf(target, () => tracer.activeSpan())
    if (trace === undefined) return Promise.resolve()
    const timeoutMs = o.timeoutMs ?? DEFAULTS.traceFlushTimeoutMs
    const end = Date.now() + timeoutMs
    return closed(tracer, trace, timeoutMs / 2)
      .then(() => (o.llmobs ?? defaultLlmobs).flushTrace(trace, { timeoutMs: Math.max(0, end - Date.now()) }))
      .catch((err: unknown) => log.internalError('serverless.waitUntilFlush', err))
  } catch (err) {
    log.internalError('serverless.waitUntilFlush', err)
    return Promise.resolve()
  }
}

/** Per tracer: traces someone waits on to close, and the one finish hook that watches them. */
const watchers = new WeakMap<Tracer, Map<TraceState, Array<() => void>>>()

/** Resolves when every span of `trace` started in this process has finished, or after `ms`. */
function closed (tracer: Tracer, trace: TraceState, ms: number): Promise<void> {
  if (trace.open <= 0) return Promise.resolve()
  let waiting = watchers.get(tracer)
  if (waiting === undefined) {
    const map = waiting = new Map()
    watchers.set(tracer, map)
    // One hook for all waiters; it runs before the aggregator counts the span finished, and the
    // waiter resumes after the whole finish, when the chunk is already with the trace writer.
    tracer.addFinishHook((span) => {
      if (map.size === 0) return
      const t = span.trace
      if (t.open > 1) return
      const list = map.get(t)
      if (list === undefined) return
      map.delete(t)
      for (const resolve of list) resolve()
    })
  }
  const map = waiting
  return new Promise<void>((resolve) => {
    // Ref'ed: the platform keeps the instance for this promise, and so may we.
    const timer = setTimeout(() => {
      const l = map.get(trace)
      const i = l?.indexOf(done) ?? -1
      if (l !== undefined && i >= 0) l.splice(i, 1)
      if (l !== undefined && l.length === 0) map.delete(trace)
      resolve()
    }, ms)
    function done (): void { clearTimeout(timer); resolve() }
    const list = map.get(trace)
    if (list === undefined) map.set(trace, [done])
    else list.push(done)
  })
}

function readOptions (options: unknown): LambdaOptions {
  if (options === undefined || options === null) return {}
  try {
    const { timeoutMs, llmobs, tracer, name } = options as LambdaOptions
    if ((llmobs !== undefined && !(llmobs instanceof LLMObs)) || (tracer !== undefined && !(tracer instanceof Tracer))) {
      log.warnOnce('serverless.options.instances', 'serverless helper options: llmobs must be an LLMObs and tracer a Tracer; the package\'s own are used')
    }
    return {
      timeoutMs: typeof timeoutMs === 'number' && timeoutMs >= 0 ? timeoutMs : undefined,
      llmobs: llmobs instanceof LLMObs ? llmobs : undefined,
      tracer: tracer instanceof Tracer ? tracer : undefined,
      name,
    }
  } catch (err) {
    log.warnOnce('serverless.options', () => `serverless helper options could not be read (${describeError(err)}); defaults used`)
    return {}
  }
}

function readContext (context: unknown): { functionName: string | undefined, remainingMs: () => number } {
  let functionName: string | undefined
  let remaining: (() => unknown) | undefined
  try {
    const c = context as LambdaContextLike
    if (typeof c?.functionName === 'string' && c.functionName !== '') functionName = c.functionName
    const r = c?.getRemainingTimeInMillis
    if (typeof r === 'function') remaining = () => Reflect.apply(r, c, [])
  } catch {
    // Not Lambda's context (a test, another runtime): no name, no time limit.
  }
  return {
    functionName,
    remainingMs: () => {
      try {
        const ms = remaining?.()
        return typeof ms === 'number' && Number.isFinite(ms) ? ms : Infinity
      } catch {
        return Infinity
      }
    },
  }
}
