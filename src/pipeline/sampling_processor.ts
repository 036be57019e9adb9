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
      // A complete chunk has its local root first already (the aggregator moved it): no search.
      const root = trace.localRoot
      const target = root !== undefined && (first === root || chunk.spans.includes(root)) ? root : first
      const metrics = target.metrics
      // The sampler's own object (no prototype keys of its own making), read without a keys array.
      for (const k in pending) if (Object.hasOwn(pending, k)) metrics[k] = pending[k]
    }
    return chunk
  }
}
