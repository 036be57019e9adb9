import { randomUUID } from 'node:crypto'
import type { Chunk } from '../model/trace_state.js'
import type { ChunkProcessor } from './processor_chain.js'

const ZERO_HIGH = '0000000000000000'

/** One id per process, as the Agent and the intake use it to group a process's payloads. */
export const RUNTIME_ID = randomUUID()

/**
 * Trace-level tags go on the first span of each chunk (the chunk root): propagated `_dd.p.*`,
 * the high half of the trace id, language and process identity. Origin goes on every span,
 * as the Agent reads it per span.
 */
export class TagsProcessor implements ChunkProcessor {
  readonly name = 'tags'

  process (chunk: Chunk): Chunk {
    const trace = chunk.trace
    const first = chunk.spans[0]
    const meta = first.meta
    const tags = trace.tags
    for (const k in tags) meta[k] = tags[k]
    if (trace.traceIdHigh !== ZERO_HIGH) meta['_dd.p.tid'] = trace.traceIdHigh
    meta.language = 'javascript'
    meta['runtime-id'] = RUNTIME_ID
    first.metrics.process_id = process.pid
    const origin = trace.origin
    if (origin !== undefined) {
      for (let i = 0; i < chunk.spans.length; i++) chunk.spans[i].meta['_dd.origin'] = origin
    }
    return chunk
  }
}
