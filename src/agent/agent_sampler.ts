interface SampledSpan { error: number, metrics: Record<string, number> }

export interface ChunkDecision {
  /** From the first span carrying `_sampling_priority_v1` (truncated to an integer, as the Agent's int32). */
  priority: number | undefined
  kept: boolean
  /** Kept by the errors sampler (priority 0 with an error). */
  keptByErrors: boolean
}

const PRIORITY_KEY = '_sampling_priority_v1'

/**
 * The Datadog Agent's trace sampling, as far as it decides what reaches the intake
 * (datadog-agent pkg/trace/agent/agent.go, `sample` / `samplePriorityTrace`):
 * - the chunk's priority is read from the first span that carries `_sampling_priority_v1`;
 * - priority < 0 (user reject): dropped, no other sampler consulted;
 * - priority > 0: kept (the priority sampler keeps every chunk the tracer kept);
 * - priority 0: dropped unless the chunk has a span with `error` set and the errors sampler
 *   has budget left: at most `errorsPerSecond` such chunks per fixed 1-second window (the real
 *   errors sampler targets a rate of 10/s over time; a fixed window makes tests deterministic).
 * - no priority at all: the Agent runs its no-priority score sampler (errors sampler when the
 *   chunk has an error), which keeps everything at local volumes. We keep such chunks.
 * The rare sampler and single-span sampling are not modelled (they keep extra APM spans, never
 * what the priority sampler drops from LLMObs's point of view).
 */
export class AgentSampler {
  private readonly errorsPerSecond: number
  private window = -1
  private used = 0

  constructor (errorsPerSecond: number) {
    this.errorsPerSecond = errorsPerSecond
  }

  /**
   * Decisions for one request's chunks at time `nowMs`. The errors budget is only consumed by
   * `commit()`, so a request rejected after sampling (malformed `_llmobs`) leaves it untouched.
   */
  begin (nowMs: number): SamplingPass {
    const window = Math.floor(nowMs / 1000)
    const used = window === this.window ? this.used : 0
    return new SamplingPass(this, window, Math.max(0, this.errorsPerSecond - used))
  }

  /** @internal called by SamplingPass.commit */
  consume (window: number, n: number): void {
    if (n === 0) return
    if (window !== this.window) {
      this.window = window
      this.used = 0
    }
    this.used += n
  }
}

export class SamplingPass {
  private taken = 0
  constructor (private readonly sampler: AgentSampler, private readonly window: number, private readonly budget: number) {}

  decide (chunk: readonly SampledSpan[]): ChunkDecision {
    const priority = chunkPriority(chunk)
    if (priority === undefined || priority > 0) return { priority, kept: true, keptByErrors: false }
    if (priority < 0) return { priority, kept: false, keptByErrors: false }
    if (hasError(chunk) && this.taken < this.budget) {
      this.taken++
      return { priority, kept: true, keptByErrors: true }
    }
    return { priority, kept: false, keptByErrors: false }
  }

  commit (): void {
    this.sampler.consume(this.window, this.taken)
    this.taken = 0
  }
}

export function chunkPriority (chunk: readonly { metrics: Record<string, number> }[]): number | undefined {
  for (let i = 0; i < chunk.length; i++) {
    const metrics = chunk[i].metrics
    if (Object.prototype.hasOwnProperty.call(metrics, PRIORITY_KEY)) {
      const p = metrics[PRIORITY_KEY]
      // Go's int32(float64) truncates; NaN/Inf have no meaningful priority.
      return Number.isFinite(p) ? Math.trunc(p) + 0 : undefined
    }
  }
  return undefined
}

function hasError (chunk: readonly SampledSpan[]): boolean {
  for (let i = 0; i < chunk.length; i++) if (chunk[i].error !== 0) return true
  return false
}
