import { log } from '../diag/logger.js'
import type { SpanData } from '../model/span_data.js'
import {
  AUTO_KEEP,
  AUTO_REJECT,
  MECHANISM_AGENT_RATE,
  MECHANISM_DEFAULT,
  MECHANISM_RULE,
  USER_KEEP,
  USER_REJECT,
} from '../model/trace_state.js'
import type { TraceState } from '../model/trace_state.js'
import { recordDecision } from './decision.js'
import { formatKnuthRate, sampledByRate } from './knuth.js'
import { RateLimiter } from './rate_limiter.js'
import { compileRule } from './rules.js'
import type { RuleMatcher, SamplingRule } from './rules.js'

/** Agent rate key used when the trace's own `service:<svc>,env:<env>` has none. */
export const DEFAULT_RATE_KEY = 'service:,env:'

/** Metrics the sampler leaves in `trace.pendingMetrics` for the next chunk's first span. */
export const RULE_RATE_METRIC = '_dd.rule_psr'
export const LIMIT_RATE_METRIC = '_dd.limit_psr'
export const AGENT_RATE_METRIC = '_dd.agent_psr'
/** Propagated trace tag with the rate behind a rule or agent-rate decision (dd-trace-js 5.123+, 6.x). */
export const KNUTH_RATE_TAG = '_dd.p.ksr'

export interface PrioritySamplerOptions {
  /** Already validated (parseSamplingRules); the first rule matching the root decides. */
  rules: SamplingRule[]
  /** Rule-kept traces per second (`DD_TRACE_RATE_LIMIT`); < 0 unlimited, 0 none. */
  rateLimit: number
  /** Monotonic milliseconds, for the rate limiter (tests inject a fake clock). */
  now?: () => number
}

/**
 * Makes the trace's sampling decision, once, from the local root span:
 * first matching rule (Knuth hash at the rule's rate, keeps then pass the rate limiter)
 * → USER_KEEP / USER_REJECT; else the agent's rate for the root's service and env, or the agent's
 * default rate → AUTO_KEEP / AUTO_REJECT; else (no agent answer yet) AUTO_KEEP.
 */
export class PrioritySampler {
  private readonly rules: RuleMatcher[]
  private readonly limiter: RateLimiter
  // A Map, not the agent's object: keys are remote text and must not reach Object.prototype.
  private agentRates = new Map<string, number>()

  constructor (opts: PrioritySamplerOptions) {
    this.rules = opts.rules.map(compileRule)
    this.limiter = new RateLimiter(opts.rateLimit, opts.now)
  }

  /**
   * Replaces the agent rates with the `rate_by_service` object of an agent response
   * (keys `service:<svc>,env:<env>`, the default under `service:,env:`). Entries that are not
   * numbers are skipped and rates are clamped to [0, 1].
   */
  updateAgentRates (rateByService: Record<string, number>): void {
    const rates = new Map<string, number>()
    let skipped = 0
    if (typeof rateByService === 'object' && rateByService !== null) {
      for (const key of Object.keys(rateByService)) {
        const rate: unknown = rateByService[key]
        if (typeof rate !== 'number' || Number.isNaN(rate)) {
          skipped++
          continue
        }
        rates.set(key, Math.min(Math.max(rate, 0), 1))
      }
    }
    if (skipped > 0) log.debug(() => `agent rate_by_service: skipped ${skipped} entries that are not numbers`)
    this.agentRates = rates
  }

  /**
   * Decides unless the trace already has a priority (from upstream, a manual keep/drop or an
   * earlier call). Sets `samplingPriority`, `mechanism`, `_dd.p.dm` on kept traces, `_dd.p.ksr`
   * for rule and agent decisions, and adds the rate metrics to `pendingMetrics`.
   */
  decide (trace: TraceState, root: SpanData, env: string | undefined): void {
    if (trace.samplingPriority !== undefined) return
    const metrics = trace.pendingMetrics ?? (trace.pendingMetrics = {})

    for (let i = 0; i < this.rules.length; i++) {
      const matcher = this.rules[i] as RuleMatcher
      if (matcher.matches(root)) {
        this.decideByRule(trace, matcher.rule.sampleRate, metrics)
        return
      }
    }

    const rate = this.agentRates.get(this.rateKey(root.service, env)) ??
      this.agentRates.get(DEFAULT_RATE_KEY)
    if (rate === undefined) {
      // No agent answer yet: keep. dd-trace-js still reports the implied rate of 1.
      metrics[AGENT_RATE_METRIC] = 1
      recordDecision(trace, AUTO_KEEP, MECHANISM_DEFAULT)
      return
    }
    metrics[AGENT_RATE_METRIC] = rate
    trace.tags[KNUTH_RATE_TAG] = formatKnuthRate(rate)
    const keep = sampledByRate(trace.traceIdLow, rate)
    recordDecision(trace, keep ? AUTO_KEEP : AUTO_REJECT, MECHANISM_AGENT_RATE)
  }

  private keyService = ''
  private keyEnv: string | undefined = undefined
  private key = 'service:,env:'
  /** The agent-rate key for a service/env; one service dominates, so the last key is kept. */
  private rateKey (service: string, env: string | undefined): string {
    if (service !== this.keyService || env !== this.keyEnv) {
      this.keyService = service
      this.keyEnv = env
      this.key = `service:${service},env:${env ?? ''}`
    }
    return this.key
  }

  private decideByRule (trace: TraceState, rate: number, metrics: Record<string, number>): void {
    metrics[RULE_RATE_METRIC] = rate
    trace.tags[KNUTH_RATE_TAG] = formatKnuthRate(rate)
    let keep = sampledByRate(trace.traceIdLow, rate)
    // Only hash-kept traces spend a limiter token, so the limit counts traces actually kept.
    if (keep) {
      keep = this.limiter.isAllowed()
      metrics[LIMIT_RATE_METRIC] = this.limiter.effectiveRate()
    }
    recordDecision(trace, keep ? USER_KEEP : USER_REJECT, MECHANISM_RULE)
  }
}
