import { describeValue, log } from '../../diag/logger.js'
import { decimalToHex, hexToDecimal } from '../../model/ids.js'
import { readHeader, readHeaderList, writeHeader } from './carrier.js'
import { ignoreRejected, PROPAGATION_ERROR, TAG_PREFIX, TID_TAG, ZERO_HIGH } from './extracted.js'
import type { ExtractedContext, InjectSource, RejectContext } from './extracted.js'

/**
 * Datadog headers: `x-datadog-trace-id` (low 64 bits, decimal), `x-datadog-parent-id` (decimal),
 * `x-datadog-sampling-priority`, `x-datadog-origin` and `x-datadog-tags`, a `k=v,k=v` list of
 * the `_dd.p.*` trace tags including `_dd.p.tid` (the high 64 bits, 16 hex).
 */
export const TRACE_ID_HEADER = 'x-datadog-trace-id'
export const PARENT_ID_HEADER = 'x-datadog-parent-id'
export const SAMPLING_PRIORITY_HEADER = 'x-datadog-sampling-priority'
export const ORIGIN_HEADER = 'x-datadog-origin'
export const TAGS_HEADER = 'x-datadog-tags'

/**
 * Datadog's default for DD_TRACE_X_DATADOG_TAGS_MAX_LENGTH, in characters (the header is ASCII
 * by construction). A header of exactly this length is still sent; 0 disables tag propagation.
 */
export const DEFAULT_TAGS_MAX_LENGTH = 512

// Tagset grammar shared by the Datadog tracers: keys are printable ASCII without space, `,` and
// `=`; values are printable ASCII without `,` (space and `=` allowed), and not empty.
const TAG_KEY = /^[\x21-\x2b\x2d-\x3c\x3e-\x7e]+$/
const TAG_VALUE = /^[\x20-\x2b\x2d-\x7e]+$/
const HEX16 = /^[0-9a-fA-F]{16}$/
const PRIORITY = /^-?[0-9]{1,9}$/
// What Node accepts in a header value; anything else would make setHeader throw.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

export function injectDatadog (source: InjectSource, carrier: unknown, maxTagsLength = DEFAULT_TAGS_MAX_LENGTH): void {
  const trace = source.trace
  writeHeader(carrier, TRACE_ID_HEADER, hexToDecimal(trace.traceIdLow))
  writeHeader(carrier, PARENT_ID_HEADER, hexToDecimal(source.spanId))
  const priority = trace.samplingPriority
  if (priority !== undefined && Number.isInteger(priority)) {
    writeHeader(carrier, SAMPLING_PRIORITY_HEADER, String(priority))
  }
  const origin = trace.origin
  if (origin !== undefined && origin !== '') {
    if (HEADER_VALUE.test(origin)) writeHeader(carrier, ORIGIN_HEADER, origin)
    else log.warnOnce('propagation:origin', 'trace origin has characters not allowed in a header; not propagated')
  }
  const tags = encodeTags(trace.traceIdHigh, trace.tags, maxTagsLength, source.spanMeta)
  if (tags !== '') writeHeader(carrier, TAGS_HEADER, tags)
}

/**
 * Builds the `x-datadog-tags` value; '' when there is nothing to send or it cannot be sent, in
 * which case `meta` gets `_dd.propagation_error` (the values dd-trace-py uses: `disabled`,
 * `encoding_error`, `inject_max_size`). All or nothing: a partial set would let downstream
 * services make decisions on half the trace's tags.
 */
export function encodeTags (
  traceIdHigh: string,
  tags: Record<string, string>,
  maxLength: number,
  meta: Record<string, string>,
): string {
  let out = traceIdHigh !== ZERO_HIGH ? TID_TAG + '=' + traceIdHigh : ''
  for (const key in tags) {
    if (!key.startsWith(TAG_PREFIX) || key === TID_TAG) continue
    const value = tags[key]
    // Empty values cannot be encoded (the grammar forbids them); dd-trace-js skips them too.
    if (typeof value !== 'string' || value === '') continue
    if (!TAG_KEY.test(key) || !TAG_VALUE.test(value)) {
      log.warnOnce('propagation:encode-tags', () => `trace tag ${describeValue(key)} cannot be encoded in ${TAGS_HEADER}; no trace tags propagated there`)
      meta[PROPAGATION_ERROR] = 'encoding_error'
      return ''
    }
    out = out === '' ? key + '=' + value : out + ',' + key + '=' + value
  }
  if (out === '') return ''
  if (maxLength <= 0) {
    meta[PROPAGATION_ERROR] = 'disabled'
    return ''
  }
  if (out.length > maxLength) {
    log.warnOnce('propagation:inject-max-size', `${TAGS_HEADER} would be ${out.length} characters, over the ${maxLength} limit; no trace tags propagated there`)
    meta[PROPAGATION_ERROR] = 'inject_max_size'
    return ''
  }
  return out
}

/**
 * Reads the Datadog headers; undefined when there are none, or when the trace id or parent id
 * is missing or invalid (then `reject` is told). Trace id 0 is invalid: the Agent drops such a
 * chunk. Parent id 0 is not: it makes our first span a root inside the upstream trace.
 */
export function extractDatadog (carrier: unknown, maxTagsLength = DEFAULT_TAGS_MAX_LENGTH, reject: RejectContext = ignoreRejected): ExtractedContext | undefined {
  const rawTraceId = readHeader(carrier, TRACE_ID_HEADER)
  if (rawTraceId === undefined) return undefined
  const traceIdLow = decimalToHex(rawTraceId.trim())
  if (traceIdLow === undefined || traceIdLow === ZERO_HIGH) {
    reject(TRACE_ID_HEADER, rawTraceId, traceIdLow === undefined ? 'is not a decimal uint64' : 'is zero')
    return undefined
  }
  const rawParentId = readHeader(carrier, PARENT_ID_HEADER)
  const parentId = rawParentId === undefined ? undefined : decimalToHex(rawParentId.trim())
  if (parentId === undefined) {
    reject(PARENT_ID_HEADER, rawParentId ?? '', rawParentId === undefined ? 'is missing' : 'is not a decimal uint64')
    return undefined
  }

  const ctx: ExtractedContext = { traceIdHigh: ZERO_HIGH, traceIdLow, parentId, tags: {} }
  const rawPriority = readHeader(carrier, SAMPLING_PRIORITY_HEADER)?.trim()
  if (rawPriority !== undefined && PRIORITY.test(rawPriority)) ctx.samplingPriority = Number(rawPriority) | 0
  const origin = readHeader(carrier, ORIGIN_HEADER)
  if (origin !== undefined && origin !== '') ctx.origin = origin

  const header = readHeaderList(carrier, TAGS_HEADER)
  if (header !== undefined && header !== '' && maxTagsLength > 0) {
    if (header.length > maxTagsLength) {
      log.debug(() => `ignoring ${TAGS_HEADER}: ${header.length} characters, over the ${maxTagsLength} limit`)
      ctx.propagationError = 'extract_max_size'
    } else if (!decodeTags(header, ctx)) {
      log.debug(() => `ignoring malformed ${TAGS_HEADER}: ${describeValue(header)}`)
      ctx.tags = {}
      ctx.traceIdHigh = ZERO_HIGH
      ctx.propagationError = 'decoding_error'
    }
  }
  return ctx
}

/**
 * Parses `k=v,k=v` into ctx.tags (and `_dd.p.tid` into ctx.traceIdHigh); false when malformed.
 * Keys outside `_dd.p.*` are well-formed but not ours to propagate, so they are skipped; an
 * invalid `_dd.p.tid` is skipped too (the trace continues with 64-bit ids).
 */
function decodeTags (header: string, ctx: ExtractedContext): boolean {
  let start = 0
  while (start <= header.length) {
    // One trailing comma is tolerated, as dd-trace-py does; an empty member elsewhere is not.
    if (start === header.length && start > 0) break
    let end = header.indexOf(',', start)
    if (end === -1) end = header.length
    const eq = header.indexOf('=', start)
    if (eq <= start || eq >= end) return false
    const key = header.slice(start, eq)
    // dd-trace-py trims spaces around values; a value of only spaces is empty, hence invalid.
    const value = trimSpaces(header.slice(eq + 1, end))
    if (!TAG_KEY.test(key) || !TAG_VALUE.test(value)) return false
    if (key === TID_TAG) {
      if (HEX16.test(value)) ctx.traceIdHigh = value.toLowerCase()
      else log.debug(() => `ignoring invalid ${TID_TAG}: ${describeValue(value)}`)
    } else if (key.startsWith(TAG_PREFIX)) {
      ctx.tags[key] = value
    }
    start = end + 1
  }
  return true
}

function trimSpaces (s: string): string {
  let a = 0
  let b = s.length
  while (a < b && s.charCodeAt(a) === 0x20) a++
  while (b > a && s.charCodeAt(b - 1) === 0x20) b--
  return a === 0 && b === s.length ? s : s.slice(a, b)
}
