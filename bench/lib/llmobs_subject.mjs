// The LLMObs SDK of a subject as the LLMObs benchmarks drive it: trace, annotate, and a flush that
// waits until the subject's LLMObs events and its APM payload are sent. One place, so the pair and
// the event-loop questions set up each tracer the same way.
export async function llmobsSubject (subject, url) {
  if (subject === 'llmobs-ts') {
    const { tracer, llmobs } = await import('../../dist/src/index.js')
    tracer.init({ url, service: 'bench', env: 'bench' })
    llmobs.enable({ mlApp: 'bench' })
    return { trace: (opts, fn) => llmobs.trace(opts, fn), annotate: (span, a) => llmobs.annotate(span, a), flush: () => llmobs.flush() }
  }
  if (subject === 'dd-trace') {
    Object.assign(process.env, {
      DD_TRACE_TELEMETRY_ENABLED: 'false', DD_INSTRUMENTATION_TELEMETRY_ENABLED: 'false', DD_REMOTE_CONFIGURATION_ENABLED: 'false',
      DD_TRACE_STARTUP_LOGS: 'false', DD_RUNTIME_METRICS_ENABLED: 'false', DD_PROFILING_ENABLED: 'false', DD_LLMOBS_AGENTLESS_ENABLED: 'false',
    })
    const { default: tracer } = await import('dd-trace')
    tracer.init({ url, service: 'bench', env: 'bench', plugins: false, llmobs: { mlApp: 'bench', agentlessEnabled: false } })
    return {
      trace: (opts, fn) => tracer.llmobs.trace(opts, fn),
      annotate: (span, a) => tracer.llmobs.annotate(span, a),
      flush: async () => { await tracer.llmobs.flush?.(); await new Promise((resolve) => tracer._tracer._exporter.flush(resolve)) },
    }
  }
  throw new Error(`unknown subject ${subject}`)
}
