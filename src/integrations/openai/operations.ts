import type { Operation } from '../provider_call.js'
import { ChatStream, chatResult, chatStart } from './chat.js'
import { CompletionsStream, completionsResult, completionsStart } from './completions.js'
import { embeddingsResult, embeddingsStart } from './embeddings.js'
import { openaiNames } from './naming.js'
import { ResponsesStream, responsesResult, responsesStart } from './responses.js'

/** The OpenAI methods traced, keyed by where they live on a client. */
export const OPENAI_CHAT: Operation = {
  integration: 'openai',
  kind: 'llm',
  names: openaiNames('createChatCompletion', 'chat.completions.create', '/chat/completions'),
  start: chatStart,
  result: chatResult,
  stream: () => new ChatStream(),
}

export const OPENAI_RESPONSES: Operation = {
  integration: 'openai',
  kind: 'llm',
  names: openaiNames('createResponse', 'responses.create', '/responses'),
  start: responsesStart,
  result: responsesResult,
  stream: () => new ResponsesStream(),
}

export const OPENAI_EMBEDDINGS: Operation = {
  integration: 'openai',
  kind: 'embedding',
  names: openaiNames('createEmbedding', 'embeddings.create', '/embeddings'),
  start: embeddingsStart,
  result: embeddingsResult,
}

export const OPENAI_COMPLETIONS: Operation = {
  integration: 'openai',
  kind: 'llm',
  names: openaiNames('createCompletion', 'completions.create', '/completions'),
  start: completionsStart,
  result: completionsResult,
  stream: () => new CompletionsStream(),
}
