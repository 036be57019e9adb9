import { log } from '../diag/logger.js'
import type { ChunkProcessor } from '../pipeline/processor_chain.js'
import type { Span } from '../trace/span.js'
import type { Chunk } from '../trace/trace_state.js'
import type { EventRecord } from '../export/ledger.js'
import { getState, META_STRUCT_KEY, SUBMITTED_TAG } from './span_state.js'

/** How the rescue hands an event over to the LLMObs writer. */
export type Ship = (record: EventRecord, route: 'rescuedPredictedDrop') => void

/**
 * The pipeline's llmobs slot (DESIGN §4), after sampling and before tags. For a chunk whose
 * local root priority is <= 0 the Agent will drop it before intake, so each LLMObs span not yet
 * submitted is tagged `_dd.llmobs.submitted=1`, loses `meta_struct._llmobs`, and its cached event
 * goes to the LLMObs writer — in that order, so a failing writer can never leave a payload that
 * would count twice. Priority and sampling tags are never touched. For a kept chunk, the events
 * become the chunk's riders: the trace writer reports the payload's fate and the ledger follows.
 *
 * `rescueEnabled` is false in agentless APM mode, where the intake keeps LLMObs data of
 * unsampled traces, so everything rides.
 */
export class LlmobsRescueProcessor implements ChunkProcessor {
  readonly name = 'llmobs'

  constructor (
    private readonly ship: Ship,
    private readonly onRide: (count: number) => void,
    private readonly rescueEnabled: boolean,
  ) {}

  process (chunk: Chunk): Chunk {
    const priority = chunk.trace.samplingPriority
    const drop = this.rescueEnabled && priority !== undefined && priority <= 0
    let riders: EventRecord[] | undefined
    for (const span of chunk.spans) {
      try {
        if (drop) this.rescue(span as Span)
        else {
          const record = this.rider(span as Span)
          if (record !== undefined) (riders ??= []).push(record)
        }
      } catch (err) {
        // One span's failure must not stop the others or the APM flow.
        log.internalError('llmobs.rescue', err)
      }
    }
    if (riders !== undefined) {
      chunk.riders = chunk.riders === undefined ? riders : [...chunk.riders, ...riders]
      this.onRide(riders.length)
    }
    return chunk
  }

  /** Also used when an APM user processor dropped the chunk: same outcome as a predicted drop. */
  rescue (span: Span): void {
    // Cheapest checks first: most spans are plain APM spans with neither state nor meta_struct.
    const record = getState(span)?.record
    const hasPayload = span.metaStruct !== undefined && span.metaStruct[META_STRUCT_KEY] !== undefined
    if (record === undefined && !hasPayload) return
    if (span.meta[SUBMITTED_TAG] === '1') return
    span.meta[SUBMITTED_TAG] = '1'
    span.writeMetaStruct(META_STRUCT_KEY, undefined)
    // No cached event (dropped by an LLMObs processor, or never built): scrubbing is all we do.
    if (record !== undefined && !record.settled) this.ship(record, 'rescuedPredictedDrop')
  }

  private rider (span: Span): EventRecord | undefined {
    if (span.metaStruct === undefined || span.metaStruct[META_STRUCT_KEY] === undefined) return undefined
    const record = getState(span)?.record
    if (record === undefined || record.settled) return undefined
    return span.meta[SUBMITTED_TAG] === '1' ? undefined : record
  }
}
