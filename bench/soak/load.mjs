// The soak's steady load: traced "LLM requests" at a fixed rate, each an APM root (sometimes
// continuing an upstream trace) around an LLMObs workflow with a retrieval and an llm span.
// Sampling is mixed on purpose, so every delivery route is exercised at once:
//   - the rule sample_rate (0.5) behind the 100 traces/s rate limiter: kept, or dropped;
//   - upstream priorities -1, 0 and 2 (distributed traces), manual keep() and drop();
//   - a few llm spans in error, some in priority-0 traces (the agent's errors sampler keeps
//     some of those chunks).
// Per request: 4 APM spans, 3 of them LLMObs spans.

export const SPANS_PER_REQUEST = 4
export const LLM_SPANS_PER_REQUEST = 3

const QUESTIONS = ['What is the refund policy?', 'Summarise the ticket.', 'Translate this to French.', 'Which plan fits a team of 12?']

/** A unique 63-bit decimal trace id for upstream headers. */
let upstreamId = 4_000_000_000_000n + BigInt(Date.now() % 1_000_000) * 1_000_000n

function pause () {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * One traced request. `i` picks the sampling flavour deterministically, so every scenario sees
 * the same mix.
 */
export async function tracedRequest (tracer, llmobs, mlApp, i) {
  const flavour = i % 20
  let childOf
  if (flavour <= 2) {
    upstreamId++
    const priority = flavour === 0 ? '-1' : flavour === 1 ? '0' : '2'
    childOf = tracer.extract({ 'x-datadog-trace-id': upstreamId.toString(), 'x-datadog-parent-id': '7', 'x-datadog-sampling-priority': priority }) ?? undefined
  }
  await tracer.trace('http.request', { resource: 'POST /chat', type: 'web', childOf }, async (root) => {
    if (flavour === 3) root.keep()
    if (flavour === 4) root.drop()
    await llmobs.trace({ kind: 'workflow', name: 'answer', mlApp, sessionId: `s-${i % 97}` }, async (wf) => {
      const question = QUESTIONS[i % QUESTIONS.length]
      llmobs.annotate(wf, { inputData: question, tags: { tenant: `t${i % 7}` } })
      const docs = await llmobs.trace({ kind: 'retrieval', name: 'search' }, async (r) => {
        await pause()
        const found = [{ text: `Policy section ${i % 13}: refunds within 30 days.`, id: `doc-${i % 13}`, score: 0.8 }]
        llmobs.annotate(r, { inputData: question, outputData: found })
        return found
      })
      let answer = ''
      try {
        await llmobs.trace({ kind: 'llm', name: 'chat', modelName: 'soak-model', modelProvider: 'fake' }, async (llm) => {
          await pause()
          answer = `Answer ${i}: ${docs[0].text}`
          llmobs.annotate(llm, {
            inputData: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: question }],
            outputData: [{ role: 'assistant', content: answer }],
            metadata: { temperature: 0.2, max_tokens: 256 },
            metrics: { inputTokens: 42, outputTokens: 17, totalTokens: 59 },
          })
          // Some errors land in upstream-priority-0 traces: the agent's errors sampler keeps those
          // chunks although their events were rescued (and scrubbed from the chunk).
          if (i % 50 === 7 || (flavour === 1 && i % 40 === 21)) throw new Error('model overloaded')
        })
      } catch {
        answer = 'fallback'
      }
      llmobs.annotate(wf, { outputData: answer })
    })
  })
}

/**
 * Issues `rate` requests per second for `durationMs`, catching up in 10 ms ticks, and resolves
 * when every request has finished. `onTick(elapsedMs)` lets a scenario act on its timeline.
 */
export async function runLoad ({ tracer, llmobs, mlApp, rate, durationMs, onTick }) {
  const start = performance.now()
  let issued = 0
  let made = 0
  const inflight = new Set()
  let failed = 0
  while (true) {
    const elapsed = performance.now() - start
    if (elapsed >= durationMs) break
    if (onTick !== undefined) await onTick(elapsed)
    const due = Math.min(Math.floor((elapsed / 1000) * rate), Math.ceil((durationMs / 1000) * rate))
    // Bounded catch-up: a stalled loop must not turn into a burst that is not "steady load".
    const n = Math.min(due - issued, Math.max(1, rate / 10))
    for (let k = 0; k < n; k++) {
      made++
      const p = tracedRequest(tracer, llmobs, mlApp, issued++).catch(() => { failed++ })
      inflight.add(p)
      p.finally(() => inflight.delete(p))
    }
    if (due > issued) issued = due // requests we could not issue in time are skipped, not queued
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  await Promise.all([...inflight])
  return { requests: made, skipped: issued - made, failed }
}
