import { log } from '../diag/logger.js'
import type { ChunkProcessor } from '../pipeline/processor_chain.js'
import type { Span } from '../trace/span.js'
import type { SpanData } from '../model/span_data.js'
import type { Chunk } from '../model/trace_state.js'
import { isHexId } from '../model/ids.js'
import type { EventRecord, Route } from '../export/ledger.js'
import { ownerOf } from './event_owner.js'
import { getState, META_STRUCT_KEY, SUBMITTED_TAG } from './span_state.js'

/**
 * The pipeline's llmobs slot (DESIGN §4), after sampling and before tags. For a chunk whose
 * local root priority is <= 0 the Agent will drop it before intake, so each LLMObs span not yet
 * submitted is tagged `_dd.llmobs.submitted=1`, loses `meta_struct._llmobs`, and its cached event
 * goes to the LLMObs writer — in that order, so a failing writer can never leave a payload that
 * would count twice. Priority and sampling tags are never touched. For a kept chunk, the events
 * become the chunk's riders: the trace writer reports the payload's fate and the ledger follows.
 *
 * Whether a predicted drop rescues is the event owner's call: in agentless APM mode the intake
 * keeps LLMObs data of unsampled traces, so everything rides.
 */
export class LlmobsRescueProcessor implements ChunkProcessor {
  readonly name = 'llmobs'

  process (chunk: Chunk): Chunk {
    const priority = chunk.trace.samplingPriority
    const predictedDrop = priority !== undefined && priority <= 0
    let riders: EventRecord[] | undefined
    for (const span of chunk.spans) {
      try {
        // Cheapest checks first: most spans are plain APM spans with neither state nor meta_struct.
        const record = getState(span)?.record
        const payload = hasPayload(span)
        if (record === undefined) {
          // A payload with no event behind it (hand-made, or its event was dropped): scrub on a drop.
          if (payload && predictedDrop) this.takeOut(span as Span, 'rescuedPredictedDrop')
          continue
        }
        if (record.settled || record.claim !== 'free') {
          // A copy of a span, or one re-emitted, whose event already rides or was sent: this
          // copy must not carry it a second time.
          if (payload) scrub(span as Span)
          continue
        }
        if (predictedDrop && ownerOf(record).rescues) {
          this.takeOut(span as Span, 'rescuedPredictedDrop')
        } else if (!payload || span.meta[SUBMITTED_TAG] === '1' || !hasValidIds(span)) {
          // It cannot ride: something removed its payload, or the Agent would discard the span
          // (trace or span id 0 or not an id, when user code overwrote the public fields).
          this.takeOut(span as Span, predictedDrop ? 'rescuedPredictedDrop' : 'rescuedPayloadFailed')
        } else {
          record.claim = 'riding'
          ;(riders ??= []).push(record)
          ownerOf(record).noteRide()
        }
      } catch (err) {
        // One span's failure must not stop the others or the APM flow.
        log.internalError('llmobs.rescue', err)
      }
    }
    if (riders !== undefined) chunk.riders = chunk.riders === undefined ? riders : [...chunk.riders, ...riders]
    return chunk
  }

  /**
   * Sends a span's event through the LLMObs writer instead of the trace: tag, scrub, then hand
   * over, in that order. Also used when an APM user processor dropped the chunk (same outcome as
   * a predicted drop) and by `llmobs.flush()` for spans of traces still open.
   */
  takeOut (span: Span, route: Route): void {
    const record = getState(span)?.record
    if (record === undefined && !hasPayload(span)) return
    // Idempotency: once submitted, never again, whatever the record's state says.
    if (span.meta[SUBMITTED_TAG] === '1') return
    scrub(span)
    // No cached event (dropped by an LLMObs processor, or never built): scrubbing is all we do.
    // One that rides a payload in flight is that payload's to settle.
    if (record !== undefined && !record.settled && record.claim === 'free') ownerOf(record).ship(record, route)
  }
}

/** Tag first, then remove the payload: a span can never leave carrying an event that was also sent. */
function scrub (span: Span): void {
  span.meta[SUBMITTED_TAG] = '1'
  span.writeMetaStruct(META_STRUCT_KEY, undefined)
}

const ZERO = '0000000000000000'

function hasValidIds (span: SpanData): boolean {
  return isHexId(span.traceId, 16) && isHexId(span.spanId, 16) && span.traceId !== ZERO && span.spanId !== ZERO
}

function hasPayload (span: SpanData): boolean {
  return span.metaStruct !== undefined && span.metaStruct[META_STRUCT_KEY] !== undefined
}
