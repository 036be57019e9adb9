import { Tracer } from '../../src/root/tracer.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import type { TracerOptions } from '../../src/config/tracer_config.js'
import type { LlmobsOptions } from '../../src/config/llmobs_config.js'
import { startSink, type Script, type Sink } from './sink.js'

export interface Rig { sink: Sink, tracer: Tracer, llmobs: LLMObs, close: () => Promise<void> }

const open = new Set<Rig>()

/** Closes every rig still open: `after(closeRigs)` in each test file, so a failed assertion cannot leave servers holding the process. */
export async function closeRigs (): Promise<void> {
  await Promise.all([...open].map((r) => r.close()))
}

/** A tracer + LLMObs of their own against a scriptable loopback sink (no process-wide state). */
export async function rig (tracerOpts: TracerOptions = {}, llmobsOpts: LlmobsOptions = {}, script?: Script): Promise<Rig> {
  const sink = await startSink(script)
  const tracer = new Tracer({ url: sink.url, service: 'svc', env: 'test', flushIntervalMs: 60_000, ...tracerOpts })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp: 'rig-app', ...llmobsOpts })
  let closing: Promise<void> | undefined
  const r: Rig = {
    sink,
    tracer,
    llmobs,
    close: () => {
      closing ??= (async () => {
        open.delete(r)
        await tracer.shutdown()
        await llmobs.disable()
        await sink.close()
      })()
      return closing
    },
  }
  open.add(r)
  return r
}

/** A workflow span wrapping an annotated llm span. */
export async function llmPair (llmobs: LLMObs, name = 'flow'): Promise<void> {
  await llmobs.trace({ kind: 'workflow', name }, async () => {
    await llmobs.trace({ kind: 'llm', name: `${name}.llm`, modelName: 'm', modelProvider: 'p' }, (span) => {
      llmobs.annotate(span, { inputData: 'q', outputData: 'a', metrics: { inputTokens: 1, outputTokens: 2 } })
    })
  })
}
