import type { PrioritySampler } from '../sampling/priority_sampler.js'
import type { Chunk } from '../model/trace_state.js'
import type { ChunkProcessor } from './processor_chain.js'

/**
 * Decides the trace's priority at its first chunk flush (unless propagation already forced the
 * decision) and stamps `_sampling_priority_v1` on the first span of every chunk: the Agent reads
 * the first span that carries it, and partial-flush chunks need it too.
 */
export class SamplingProcessor implements ChunkProcessor {
  readonly name = 'sampling'

  constructor (private readonly sampler: PrioritySampler, private readonly env: string | undefined) {}

  process (chunk: Chunk): Chunk {
    const trace = chunk.trace
    const first = chunk.spans[0]
    this.sampler.decide(trace, trace.localRoot ?? first, this.env)
    if (trace.samplingPriority !== undefined) first.metrics._sampling_priority_v1 = trace.samplingPriority
    const pending = trace.pendingMetrics
    if (pending !== undefined) {
      // The _psr metrics describe the decision: they go out once, on the chunk where it was made.
      trace.pendingMetrics = undefined
      const target = trace.localRoot !== undefined && chunk.spans.includes(trace.localRoot) ? trace.localRoot : first
      for (const k of Object.keys(pending)) target.metrics[k] = pending[k]
    }
    return chunk
  }
}
