import { log } from '../../diag/logger.js'
import { readHeaderList, readHeaderUnique, writeHeader } from './carrier.js'
import { DM_TAG, ignoreRejected, TAG_PREFIX, TID_TAG, ZERO_HIGH } from './extracted.js'
import type { ExtractedContext, InjectSource, RejectContext } from './extracted.js'
import { joinTracestate, parseTracestate } from './tracestate.js'

/**
 * W3C Trace Context: `traceparent: 00-<32 hex trace id>-<16 hex span id>-<flags>` and our
 * `tracestate` member `dd=s:<priority>;o:<origin>;p:<span id>;t.<key>:<value>...`, where each
 * `t.<key>` is the trace tag `_dd.p.<key>`.
 */
export const TRACEPARENT_HEADER = 'traceparent'
export const TRACESTATE_HEADER = 'tracestate'

/** W3C caps a member's value at 256 characters; trace tags that do not fit are left out. */
export const MAX_DD_MEMBER_LENGTH = 256

// Case-insensitive like dd-trace-js, although W3C asks for lowercase: rejecting `7B` would
// break traces from lenient senders for no gain. Ids are lowercased on the way in.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/i
const ALL_ZEROS = /^0+$/
const HEX16 = /^[0-9a-fA-F]{16}$/
const INTEGER = /^-?[0-9]{1,9}$/

// Character rules shared with dd-trace-js and dd-trace-py. Values (and the origin): `,` `;` `~`
// and anything outside 0x20-0x7e become `_`, then `=` becomes `~` (undone on extract).
const VALUE_FILTER = /[^\x20-\x2b\x2d-\x3a\x3c-\x7d]/g
// Keys: anything outside 0x21-0x7e, `,` and `=` become `_` (as dd-trace-js); we also replace
// `:` and `;`, which would otherwise split the key from its value or end the entry early.
const KEY_FILTER = /[^\x21-\x2b\x2d-\x39\x3c\x3e-\x7e]/g

export function injectW3c (source: InjectSource): { traceparent: string, tracestate: string } {
  const trace = source.trace
  const priority = trace.samplingPriority
  const sampled = priority !== undefined && priority > 0
  const traceparent = '00-' + trace.traceIdHigh + trace.traceIdLow + '-' + source.spanId + (sampled ? '-01' : '-00')
  return { traceparent, tracestate: joinTracestate(encodeDdMember(source), source.tracestateOthers) }
}

export function writeW3c (source: InjectSource, carrier: unknown): void {
  const { traceparent, tracestate } = injectW3c(source)
  writeHeader(carrier, TRACEPARENT_HEADER, traceparent)
  writeHeader(carrier, TRACESTATE_HEADER, tracestate)
}

/** The value of our tracestate member (without `dd=`). */
export function encodeDdMember (source: InjectSource): string {
  const trace = source.trace
  let out = ''
  if (trace.samplingPriority !== undefined && Number.isInteger(trace.samplingPriority)) {
    out = 's:' + String(trace.samplingPriority)
  }
  if (trace.origin !== undefined && trace.origin !== '') {
    out = append(out, 'o:' + encodeValue(trace.origin))
  }
  // p is the last Datadog span on the path: the span making this call.
  out = append(out, 'p:' + source.spanId)
  if (trace.traceIdHigh !== ZERO_HIGH) out = appendIfFits(out, 't.tid:' + trace.traceIdHigh)
  const tags = trace.tags
  for (const key in tags) {
    if (!key.startsWith(TAG_PREFIX) || key === TID_TAG) continue
    const value = tags[key]
    if (typeof value !== 'string' || value === '') continue
    out = appendIfFits(out, 't.' + key.slice(TAG_PREFIX.length).replace(KEY_FILTER, '_') + ':' + encodeValue(value))
  }
  return out
}

function encodeValue (value: string): string {
  return value.replace(VALUE_FILTER, '_').replaceAll('=', '~')
}

function append (out: string, entry: string): string {
  return out === '' ? entry : out + ';' + entry
}

function appendIfFits (out: string, entry: string): string {
  const next = append(out, entry)
  if (next.length <= MAX_DD_MEMBER_LENGTH) return next
  log.debug(() => `tracestate dd member would exceed ${MAX_DD_MEMBER_LENGTH} characters; leaving out ${entry}`)
  return out
}

/**
 * Reads traceparent (and tracestate); undefined when traceparent is absent or invalid (then
 * `reject` is told): version `ff`, a version-00 header with extra fields, wrong lengths,
 * non-hex, an all-zero span id, or a trace id whose low 64 bits are zero. W3C only forbids the
 * all-zero trace id, but the Datadog Agent reads the low half alone and drops a chunk whose
 * trace id is 0 while answering 200: accepting one would lose the whole trace silently.
 */
export function extractW3c (carrier: unknown, reject: RejectContext = ignoreRejected): ExtractedContext | undefined {
  const header = readHeaderUnique(carrier, TRACEPARENT_HEADER)
  if (header === undefined) return undefined
  const m = TRACEPARENT.exec(header.trim())
  if (m === null) {
    reject(TRACEPARENT_HEADER, header, 'is malformed')
    return undefined
  }
  const version = m[1].toLowerCase()
  const traceId = m[2].toLowerCase()
  const spanId = m[3].toLowerCase()
  const why = invalidReason(version, traceId, spanId, m[5] !== undefined)
  if (why !== undefined) {
    reject(TRACEPARENT_HEADER, header, why)
    return undefined
  }
  const ctx: ExtractedContext = {
    traceIdHigh: traceId.slice(0, 16),
    traceIdLow: traceId.slice(16),
    parentId: spanId,
    samplingPriority: (parseInt(m[4], 16) & 1) === 1 ? 1 : 0,
    tags: {},
  }
  const tracestate = readHeaderList(carrier, TRACESTATE_HEADER)
  if (tracestate !== undefined && tracestate !== '') {
    const parsed = parseTracestate(tracestate)
    if (parsed.others !== undefined) ctx.tracestateOthers = parsed.others
    if (parsed.dd !== undefined) decodeDdMember(parsed.dd, ctx)
  }
  return ctx
}

function invalidReason (version: string, traceId: string, spanId: string, extraFields: boolean): string | undefined {
  if (version === 'ff') return 'has the invalid version ff'
  if (version === '00' && extraFields) return 'has fields after the flags (not allowed in version 00)'
  // An all-zero trace id has a zero low half too: one check covers both.
  if (ALL_ZEROS.test(traceId.slice(16))) return 'has a trace id whose low 64 bits are zero (the Datadog Agent drops such traces)'
  if (ALL_ZEROS.test(spanId)) return 'has an all-zero parent id'
  return undefined
}

/**
 * Applies our tracestate member to a context built from traceparent. The sampled flag is the
 * authority on keep vs drop (a W3C-only hop may have changed it); `s:` only refines it when it
 * agrees: flag 1 with s > 0 gives s, flag 1 with s <= 0 gives 1; flag 0 with s < 0 gives s,
 * flag 0 with s >= 0 gives 0. `t.tid` is ignored: traceparent carries the full trace id.
 */
function decodeDdMember (value: string, ctx: ExtractedContext): void {
  for (const entry of value.split(';')) {
    const colon = entry.indexOf(':')
    if (colon <= 0) continue
    const key = entry.slice(0, colon)
    const v = entry.slice(colon + 1)
    if (v === '') continue
    switch (key) {
      case 's': {
        if (!INTEGER.test(v)) break
        const s = Number(v) | 0
        if ((ctx.samplingPriority === 1 && s > 0) || (ctx.samplingPriority === 0 && s < 0)) ctx.samplingPriority = s
        break
      }
      case 'o':
        ctx.origin = v.replaceAll('~', '=')
        break
      case 'p':
        // All zeros names no span: leaving it out keeps a meaningless `_dd.parent_id` off the root.
        if (HEX16.test(v) && !ALL_ZEROS.test(v)) ctx.w3cParentId = v.toLowerCase()
        break
      case 't.dm':
        // The mechanism as dd-trace-js normalises it: always `-<digits>`.
        if (INTEGER.test(v)) ctx.tags[DM_TAG] = '-' + String(Math.abs(Number(v)))
        break
      case 't.tid':
        break
      default:
        if (key.startsWith('t.') && key.length > 2) ctx.tags[TAG_PREFIX + key.slice(2)] = v.replaceAll('~', '=')
    }
  }
}
