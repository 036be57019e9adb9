import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AgentSampler } from './agent_sampler.js'
import { readBody } from './body.js'
import type { Faults } from './faults.js'
import { InvalidInput } from './json_checks.js'
import type { HostPolicy } from './request_guards.js'
import { isJsonType, sendError } from './respond.js'
import type { Store } from './store.js'

export interface AgentLogger {
  info (message: string): void
  warn (message: string): void
}

/** What every route handler shares. */
export interface AgentContext {
  readonly store: Store
  readonly sampler: AgentSampler
  readonly faults: Faults
  readonly rates: Readonly<Record<string, number>>
  /** Protects the agentless intake and the query API (see request_guards.ts). Never logged. */
  readonly apiKey: string | undefined
  /** Host headers answered (besides loopback), against DNS rebinding. */
  readonly hosts: HostPolicy
  readonly maxTraceBodyBytes: number
  readonly maxEvpBodyBytes: number
  readonly logger: AgentLogger
  /** Aborted when the agent closes, so fault delays do not outlive it. */
  readonly closing: AbortSignal
}

export type Handler = (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void

/** A refused request: counted in requests_rejected, answered `{"error": reason}`, nothing stored. */
export function reject (ctx: AgentContext, res: ServerResponse, status: number, reason: string, bodyUnread = false): void {
  ctx.store.bump('requests_rejected')
  sendError(res, status, reason, bodyUnread)
}

/** Checks the method; refuses (405) and returns false otherwise. */
export function allowMethods (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, methods: readonly string[]): boolean {
  if (methods.includes(req.method ?? '')) return true
  reject(ctx, res, 405, `method ${req.method ?? '?'} not allowed here (use ${methods.join(' or ')})`, true)
  return false
}

/** Sentinel for "already answered". */
export const REFUSED = Symbol('refused')

/**
 * Reads a JSON body's text under `maxBytes`, refusing wrong content types and oversized or
 * unreadable bodies (answered and counted). Returns the text or REFUSED.
 */
export async function readJsonText (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<string | typeof REFUSED> {
  if (!isJsonType(req.headers['content-type'])) {
    reject(ctx, res, 415, `Content-Type must be application/json, got ${JSON.stringify(req.headers['content-type'] ?? '')}`, true)
    return REFUSED
  }
  const body = await readBody(req, maxBytes)
  if (!body.ok) {
    reject(ctx, res, body.status, body.reason, true)
    return REFUSED
  }
  return body.body.toString('utf8')
}

/** As readJsonText, then parsed; invalid JSON is refused with 400. */
export async function readJson (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<unknown> {
  const text = await readJsonText(ctx, req, res, maxBytes)
  if (text === REFUSED) return REFUSED
  try {
    return JSON.parse(text) as unknown
  } catch (err) {
    reject(ctx, res, 400, `invalid JSON: ${err instanceof Error ? err.message : String(err)}`)
    return REFUSED
  }
}

/** Runs a validation step; an InvalidInput becomes a 400 with its reason (returns REFUSED). */
export function validate<T> (ctx: AgentContext, res: ServerResponse, fn: () => T): T | typeof REFUSED {
  try {
    return fn()
  } catch (err) {
    if (err instanceof InvalidInput) {
      reject(ctx, res, 400, err.message)
      return REFUSED
    }
    // Stack exhaustion on absurdly nested input is the client's problem, not a crash.
    if (err instanceof RangeError) {
      reject(ctx, res, 400, `input could not be processed: ${err.message}`)
      return REFUSED
    }
    throw err
  }
}
