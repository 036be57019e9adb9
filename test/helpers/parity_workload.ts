/**
 * The parity test's workload, a CommonJS script run with `node -e` in the repository (so both
 * tracers and the provider SDKs resolve from its node_modules). `PARITY_MODE=dd` runs it under
 * dd-trace 5, anything else under llmobs-ts (started by `-r dist/src/register.js`, as a user
 * would). Both get the same calls against the same fake providers; the names of the things
 * traced and their order are what the test pairs on.
 */
export const PARITY_WORKLOAD = String.raw`
'use strict'
const MODE = process.env.PARITY_MODE
let llmobs, tracer, flushAll
if (MODE === 'dd') {
  tracer = require('dd-trace').init({ flushInterval: 50 })
  llmobs = tracer.llmobs
  flushAll = async () => {
    llmobs.flush()
    await new Promise((resolve) => tracer._tracer._exporter.flush(resolve))
  }
} else {
  const lib = require(process.env.PARITY_REPO + '/dist/src/index.js')
  llmobs = lib.llmobs
  tracer = lib.tracer
  flushAll = async () => { await tracer.flush(); await llmobs.flush() }
}
const { OpenAI } = require('openai')
const { Anthropic } = require('@anthropic-ai/sdk')
const ai = require('ai')
const { createOpenAI } = require('@ai-sdk/openai')

async function main () {
  // The /openai and /anthropic path prefixes are what both tracers read the provider from.
  const openai = new OpenAI({ apiKey: 'k', baseURL: process.env.FAKE_OPENAI + '/openai/v1', maxRetries: 0 })
  const anthropic = new Anthropic({ apiKey: 'k', baseURL: process.env.FAKE_ANTHROPIC + '/anthropic', maxRetries: 0 })
  const provider = createOpenAI({ apiKey: 'k', baseURL: process.env.FAKE_OPENAI + '/openai/v1' })
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Say hello' }], temperature: 0.2, max_tokens: 50 })
  await openai.embeddings.create({ model: 'text-embedding-3-small', input: 'hello' })
  await openai.responses.create({ model: 'gpt-4.1-mini', input: 'Say hello', temperature: 0.1 })
  await openai.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say', max_tokens: 5 })
  const stream = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Stream it' }], stream: true, stream_options: { include_usage: true } })
  for await (const chunk of stream) void chunk
  await anthropic.messages.create({ model: 'claude-parity', max_tokens: 64, temperature: 0.5, messages: [{ role: 'user', content: 'Bonjour?' }] })
  await ai.generateText({ model: provider.chat('gpt-4o-mini'), prompt: 'Say hello', maxRetries: 0 })
  await llmobs.trace({ kind: 'workflow', name: 'manual-flow', sessionId: 's-1' }, async () => {
    llmobs.annotate({ inputData: 'question', outputData: 'answer', tags: { team: 'parity' }, metadata: { step: 1 } })
    await llmobs.trace({ kind: 'llm', name: 'manual-llm', modelName: 'my-model', modelProvider: 'MyCorp' }, async () => {
      llmobs.annotate({
        inputData: [{ role: 'user', content: 'weather?' }, { role: 'tool', content: 'sunny', toolId: 'call_9' }],
        outputData: [{ role: 'assistant', content: 'It is sunny' }],
        metrics: { inputTokens: 3, outputTokens: 4, totalTokens: 7 },
      })
    })
    await llmobs.trace({ kind: 'llm', name: 'manual-bare' }, async () => {
      llmobs.annotate({ inputData: 'hi', outputData: 'ho' })
    })
    llmobs.wrap({ kind: 'tool', name: 'lookup' }, (city) => 'sunny in ' + city)('Paris')
    tracer.trace('app.step', { resource: 'step-1' }, () => {})
  })
  await flushAll()
  await new Promise((resolve) => setTimeout(resolve, 300))
  await flushAll()
  process.stdout.write('DONE\n')
  process.exit(0)
}
main().catch((err) => { console.error(err); process.exit(1) })
`
