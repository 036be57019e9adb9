import type { Operation } from '../provider_call.js'
import { ChatStream, chatResult, chatStart } from './chat.js'
import { embeddingsResult, embeddingsStart } from './embeddings.js'
import { ResponsesStream, responsesResult, responsesStart } from './responses.js'

/** The OpenAI methods traced, keyed by where they live on a client. */
export const OPENAI_CHAT: Operation = {
  integration: 'openai',
  name: 'openai.chat.completions.create',
  kind: 'llm',
  provider: 'openai',
  start: chatStart,
  result: chatResult,
  stream: () => new ChatStream(),
}

export const OPENAI_RESPONSES: Operation = {
  integration: 'openai',
  name: 'openai.responses.create',
  kind: 'llm',
  provider: 'openai',
  start: responsesStart,
  result: responsesResult,
  stream: () => new ResponsesStream(),
}

export const OPENAI_EMBEDDINGS: Operation = {
  integration: 'openai',
  name: 'openai.embeddings.create',
  kind: 'embedding',
  provider: 'openai',
  start: embeddingsStart,
  result: embeddingsResult,
}
