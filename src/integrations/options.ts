import { llmobs, type LLMObs } from '../llmobs/sdk.js'

/** Options of `wrapOpenAI`, `wrapAnthropic` and the AI SDK middlewares. */
export interface WrapOptions {
  /** The LLMObs instance to record into (default: the package's `llmobs`). */
  llmobs?: LLMObs
}

export function llmobsOf (options: WrapOptions | undefined): () => LLMObs {
  const own = options !== null && typeof options === 'object' ? options.llmobs : undefined
  return () => own ?? llmobs
}
