import { log } from '../diag/logger.js'
import type { ChunkProcessor } from '../pipeline/processor_chain.js'
import type { Span } from '../trace/span.js'
import type { SpanData } from '../trace/span_data.js'
import type { Chunk } from '../trace/trace_state.js'
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
        if (record === undefined && !hasPayload(span)) continue
        // The Agent discards a span whose trace or span id is 0 (or not an id at all, when user
        // code overwrote the public field): its event could only ride to nowhere.
        if ((predictedDrop && (record === undefined || ownerOf(record).rescues)) || !hasValidIds(span)) {
          this.takeOut(span as Span, 'rescuedPredictedDrop')
        } else if (record !== undefined && !record.settled && hasPayload(span) && span.meta[SUBMITTED_TAG] !== '1') {
          (riders ??= []).push(record)
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
    span.meta[SUBMITTED_TAG] = '1'
    span.writeMetaStruct(META_STRUCT_KEY, undefined)
    // No cached event (dropped by an LLMObs processor, or never built): scrubbing is all we do.
    if (record !== undefined && !record.settled) ownerOf(record).ship(record, route)
  }
}

const HEX_ID = /^(?!0+$)[0-9a-f]{16}$/

function hasValidIds (span: SpanData): boolean {
  return HEX_ID.test(span.traceId) && HEX_ID.test(span.spanId)
}

function hasPayload (span: SpanData): boolean {
  return span.metaStruct !== undefined && span.metaStruct[META_STRUCT_KEY] !== undefined
}
