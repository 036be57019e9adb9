import { llmobs, type Annotation, type Message, type Span } from 'llmobs-ts'

// llm spans take messages: strings, messages, lists of either; typos in field names fail.
llmobs.trace({ kind: 'llm', name: 'chat' }, (span) => {
  llmobs.annotate(span, { inputData: 'hi', outputData: { role: 'assistant', content: 'hello' } })
  llmobs.annotate(span, { inputData: [{ role: 'system', content: 'be brief' }, 'hi', { role: 'user', content: [{ type: 'text', text: 'x' }] }] })
  llmobs.annotate(span, { outputData: [{ role: 'assistant', toolCalls: [{ name: 'search', arguments: { q: 'x' }, toolId: 'c1' }] }] })
  llmobs.annotate(span, { inputData: [{ role: 'tool', tool_id: 'c1', content: '42', tool_results: [{ result: 42, tool_id: 'c1' }] }] })
  const wire: Message[] = [{ role: 'user', content: 'event shape' }]
  llmobs.annotate(span, { inputData: wire })
  // @ts-expect-error a typo in a message field
  llmobs.annotate(span, { inputData: [{ role: 'user', contnet: 'hi' }] })
  // @ts-expect-error a typo in a single message
  llmobs.annotate(span, { outputData: { role: 'assistant', conent: 'hi' } })
  // @ts-expect-error camelCase typo of toolCalls
  llmobs.annotate(span, { outputData: [{ role: 'assistant', toolcalls: [] }] })
  // @ts-expect-error a tool call needs its name
  llmobs.annotate(span, { outputData: [{ role: 'assistant', toolCalls: [{ arguments: {} }] }] })
  // @ts-expect-error documents are not messages
  llmobs.annotate(span, { inputData: [{ text: 'doc' }] })
  // @ts-expect-error a number is not a message
  llmobs.annotate(span, { inputData: 42 })
})

// embedding spans: documents in, a text out.
llmobs.trace({ kind: 'embedding' }, (span) => {
  llmobs.annotate(span, { inputData: ['a', { text: 'b', id: 3, score: 0.5, name: 'doc' }], outputData: '[1 embedding(s) returned]' })
  // @ts-expect-error a typo in a document field
  llmobs.annotate(span, { inputData: [{ txet: 'a' }] })
  // @ts-expect-error messages are not documents
  llmobs.annotate(span, { inputData: [{ role: 'user', content: 'a' }] })
})

// retrieval spans: the query text in, documents out.
llmobs.trace({ kind: 'retrieval' }, async (span) => {
  llmobs.annotate(span, { inputData: 'what is x?', outputData: [{ text: 'x is y', score: 0.9 }] })
  // @ts-expect-error a typo in a retrieved document
  llmobs.annotate(span, { outputData: [{ text: 'x', scroe: 0.9 }] })
  // @ts-expect-error a document's score is a number
  llmobs.annotate(span, { outputData: [{ text: 'x', score: 'high' }] })
})

// tool, task, workflow and agent spans take any value.
for (const kind of ['tool', 'task', 'workflow', 'agent'] as const) {
  llmobs.trace({ kind }, (span) => {
    llmobs.annotate(span, { inputData: { anything: [1, 'two', null] }, outputData: 42, metadata: { temperature: 0 }, metrics: { inputTokens: 3 }, tags: { team: 'x' } })
  })
}

// A plain span or the active one: the kind is not known, so any input and output is accepted.
declare const plain: Span
llmobs.annotate(plain, { inputData: [{ text: 'doc' }] })
llmobs.annotate({ inputData: 'active span', outputData: [{ role: 'assistant', content: 'ok' }] })
const loose: Annotation = { outputData: { whatever: true } }
llmobs.annotate(loose)

// The rest of an annotation is checked on every kind.
llmobs.trace({ kind: 'task' }, (span) => {
  // @ts-expect-error metrics are numbers
  llmobs.annotate(span, { metrics: { inputTokens: '3' } })
  // @ts-expect-error not an annotation field
  llmobs.annotate(span, { inptuData: 'x' })
})

// @ts-expect-error annotate needs an annotation
llmobs.annotate()
