// The soak's scenarios: what the agent does to the tracer while the load runs. Each has a
// timeline of actions (ms after its load starts) through the agent's fault knobs and restarts
// (same port, same SQLite file), and states what the promise allows (DESIGN §4, §7):
//   fits       — the outage fits the LLMObs buffer (10,000 events) and the 30 s retry budget,
//                so nothing may be lost;
//   dupAllowed — the agent may see an event twice (and suppress it): only when a request can be
//                stored by the agent and still fail on the client (a timeout, a crash mid-answer).
// Timeouts to beat: 10 s for trace requests, 5 s for LLMObs (DEFAULTS.traceRequestTimeoutMs,
// DEFAULTS.llmobs.requestTimeoutMs); the delays below exceed them by a second.

const TRACE_TIMEOUT_MS = 10_000
const LLMOBS_TIMEOUT_MS = 5_000

/** Repeats `run` every `everyMs` from `fromMs` while before `untilMs`. */
function every (fromMs, everyMs, untilMs, run) {
  const out = []
  for (let at = fromMs; at < untilMs; at += everyMs) out.push({ at, run })
  return out
}

/**
 * `short` picks the brief timelines of the test-suite version. The load rate is the runner's
 * unless a scenario sets its own. Durations and outage lengths are chosen so that, at the full
 * rate of 1200 LLM spans/s, the "fits" outages stay under the buffer (about 7,000 events at
 * most) and the last one does not.
 */
export function buildScenarios ({ short }) {
  const d = (full, brief) => (short ? brief : full)
  return [
    {
      name: 'agent down at start',
      slug: 'down-at-start',
      startsDown: true,
      fits: true,
      dupAllowed: false,
      durationMs: d(15_000, 6000),
      timeline: [{ at: d(4000, 2000), run: (ctx) => ctx.startAgent() }],
    },
    {
      name: 'steady, no faults',
      slug: 'steady',
      fits: true,
      dupAllowed: false,
      durationMs: d(15_000, 4000),
      timeline: [],
      skipInShort: true,
    },
    {
      name: 'agent restarts mid-run (killed, down 3 s)',
      slug: 'restart',
      fits: true,
      // A SIGKILL can land after a commit and before the answer: the client retries what was stored.
      dupAllowed: true,
      durationMs: d(20_000, 8000),
      timeline: [
        { at: d(6000, 2000), run: (ctx) => ctx.killAgent() },
        { at: d(9000, 4000), run: (ctx) => ctx.startAgent() },
      ],
    },
    {
      name: '500/503 bursts',
      slug: '5xx',
      fits: true,
      dupAllowed: false,
      durationMs: d(20_000, 6000),
      timeline: every(d(2000, 1000), d(4000, 2000), d(18_000, 6000), async (ctx) => {
        await ctx.fault({ path: '/v0.4/traces', status: 503, count: 3 })
        await ctx.fault({ path: '/evp_proxy/', status: 500, count: 3 })
        await ctx.fault({ path: '/v0.4/traces', status: 500, count: 2 })
        await ctx.fault({ path: '/evp_proxy/', status: 503, count: 2 })
      }),
    },
    {
      name: '429 with Retry-After',
      slug: '429',
      fits: true,
      dupAllowed: false,
      durationMs: d(20_000, 6000),
      timeline: every(d(2000, 1000), d(6000, 3000), d(18_000, 6000), async (ctx) => {
        await ctx.fault({ path: '/v0.4/traces', status: 429, count: 4, retryAfter: 1 })
        await ctx.fault({ path: '/evp_proxy/', status: 429, count: 4, retryAfter: 1 })
      }),
    },
    {
      name: '413: agent caps bodies at 256 KiB',
      slug: '413',
      fits: true,
      dupAllowed: false,
      durationMs: d(20_000, 6000),
      // Real oversized payloads, not an injected status: the writers must split and resend.
      before: (ctx) => ctx.restartAgent({ trace: 256 * 1024, evp: 256 * 1024 }),
      after: (ctx) => ctx.restartAgent({}),
      timeline: [],
    },
    {
      name: `slower than the timeouts (${(TRACE_TIMEOUT_MS + 1000) / 1000} s traces, ${(LLMOBS_TIMEOUT_MS + 1000) / 1000} s LLMObs)`,
      slug: 'slow',
      fits: true,
      // The agent serves a delayed request after the client gave up on it: the retry is a duplicate.
      dupAllowed: true,
      durationMs: d(25_000, 8000),
      // The agent serves each delayed request after its delay, long after the client retried: wait
      // for those so their duplicates count here, not in the next scenario.
      after: () => new Promise((resolve) => setTimeout(resolve, TRACE_TIMEOUT_MS + 2000)),
      timeline: [
        ...every(d(2000, 1000), d(10_000, 10_000), d(20_000, 2000), async (ctx) => {
          await ctx.fault({ path: '/v0.4/traces', delayMs: TRACE_TIMEOUT_MS + 1000, count: 2 })
          await ctx.fault({ path: '/evp_proxy/', delayMs: LLMOBS_TIMEOUT_MS + 1000, count: 2 })
        }),
      ],
    },
    {
      name: 'connection resets',
      slug: 'resets',
      fits: true,
      dupAllowed: false,
      durationMs: d(20_000, 6000),
      timeline: every(d(1000, 1000), d(2000, 2000), d(19_000, 6000), async (ctx) => {
        await ctx.fault({ path: '/v0.4/traces', reset: true, count: 3 })
        await ctx.fault({ path: '/evp_proxy/', reset: true, count: 3 })
      }),
    },
    {
      name: 'stalled agent: every request held 15 s, for 12 s (100 requests/s)',
      slug: 'stalled',
      // Connections accepted, answers late: every payload times out and is retried meanwhile.
      // 300 LLM spans/s for 12 s fits the buffer; each event's 30 s budget outlasts the stall.
      rate: 100,
      fits: true,
      dupAllowed: true,
      durationMs: d(25_000, 0),
      timeline: [
        { at: 2000, run: (ctx) => ctx.fault({ path: '/', delayMs: 15_000, count: 1_000_000 }) },
        { at: 14_000, run: (ctx) => ctx.clearFaults() },
      ],
      // Requests held when the stall ended are served 15 s after they came in.
      after: () => new Promise((resolve) => setTimeout(resolve, 16_000)),
      skipInShort: true,
    },
    {
      name: 'long outage within the retry budget (down 24 s, 40 requests/s)',
      slug: 'long-outage',
      // 120 LLM spans/s for 24 s is under 3,000 buffered events, and each event's 30 s budget
      // outlasts the outage: nothing may be lost.
      rate: 40,
      fits: true,
      dupAllowed: true,
      durationMs: d(30_000, 0),
      timeline: [
        { at: 2000, run: (ctx) => ctx.killAgent() },
        { at: 26_000, run: (ctx) => ctx.startAgent() },
      ],
      skipInShort: true,
    },
    {
      name: 'outage beyond the buffer (down 18 s)',
      slug: 'beyond-buffer',
      // 1,200 events/s for 18 s is more than 10,000 buffered events: drops are expected, counted.
      fits: false,
      dupAllowed: true,
      durationMs: d(25_000, 0),
      timeline: [
        { at: 3000, run: (ctx) => ctx.killAgent() },
        { at: 21_000, run: (ctx) => ctx.startAgent() },
      ],
      skipInShort: true,
    },
  ].filter((s) => !(short && s.skipInShort))
}
