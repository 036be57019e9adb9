import type { LlmobsSpanEvent } from './event.js'

const DECIMAL = /^[0-9]{1,20}$/

/**
 * Whether an event that user processors have had their hands on is still one the intake
 * accepts; returns the reason when not. Processors may edit in place (tags set to null, to a
 * Set, metrics to strings): what matters is the object that will be sent, not what the
 * processor returned. The checks are the intake's own (the local agent's span_events.ts): one
 * event it refuses would make it refuse the whole batch, taking good events with it.
 */
export function eventProblem (event: LlmobsSpanEvent): string | undefined {
  if (event === null || typeof event !== 'object') return 'not an object'
  if (typeof event.trace_id !== 'string' || event.trace_id === '' || event.trace_id.length > 128) return 'trace_id must be a non-empty string'
  if (typeof event.span_id !== 'string' || !DECIMAL.test(event.span_id)) return 'span_id must be a decimal string'
  if (event.parent_id !== undefined && typeof event.parent_id !== 'string') return 'parent_id must be a string'
  if (typeof event.name !== 'string') return 'name must be a string'
  if (typeof event.start_ns !== 'string' || !DECIMAL.test(event.start_ns)) return 'start_ns must be the decimal string the builder set'
  if (typeof event.duration !== 'number' || !Number.isFinite(event.duration) || event.duration < 0) return 'duration must be a non-negative number'
  if (event.status !== 'ok' && event.status !== 'error') return 'status must be "ok" or "error"'
  if (!isPlainObject(event.meta)) return 'meta must be an object'
  if (!isPlainObject(event.metrics)) return 'metrics must be an object'
  for (const k of Object.keys(event.metrics)) {
    const v = event.metrics[k]
    if (typeof v !== 'number' || !Number.isFinite(v)) return 'metrics values must be finite numbers'
  }
  if (!Array.isArray(event.tags)) return 'tags must be a list of "k:v" strings'
  for (const t of event.tags) if (typeof t !== 'string') return 'tags must be a list of "k:v" strings'
  if (event.session_id !== undefined && typeof event.session_id !== 'string') return 'session_id must be a string'
  if (event._dd !== undefined && !isPlainObject(event._dd)) return '_dd must be an object'
  return undefined
}

function isPlainObject (v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false
  const proto = Object.getPrototypeOf(v) as unknown
  return proto === Object.prototype || proto === null
}
