import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { LLMObs } from '../../llmobs/sdk.js'
import type { Span } from '../../trace/span.js'
import type { Tracer } from '../../root/tracer.js'

/** One demo service: its own tracer (service name) and LLM Observability, and an HTTP server. */
export interface Service { tracer: Tracer, llmobs: LLMObs }
export interface Running { url: string, close: () => Promise<void> }

class ModelError extends Error {
  constructor (readonly status: number, message: string) {
    super(message)
    this.name = status === 429 ? 'RateLimitError' : 'APIError'
  }
}

interface ChatMessage { role: string, content: string | null, tool_calls?: Array<{ id: string, function: { name: string, arguments: string } }> }
interface Completion { model: string, choices: Array<{ message: ChatMessage }>, usage: { prompt_tokens: number, completion_tokens: number, total_tokens: number, prompt_tokens_details?: { cached_tokens?: number } } }

async function postJson<T> (url: string, body: unknown, headers: Record<string, string> = {}): Promise<T> {
  const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body: JSON.stringify(body) })
  const json = await res.json() as T & { error?: { message?: string } }
  if (!res.ok) throw new ModelError(res.status, json.error?.message ?? `HTTP ${res.status}`)
  return json
}

const TOOLS = [{ type: 'function', function: { name: 'lookup_order', description: 'Find an order by id', parameters: { type: 'object', properties: { order_id: { type: 'string' } } } } }]

/** An `llm` span around one chat completion, annotated the way an integration would. */
async function chat (svc: Service, provider: string, name: string, messages: ChatMessage[], tools: boolean): Promise<ChatMessage> {
  return svc.llmobs.trace({ kind: 'llm', name, modelName: 'gpt-4o-mini', modelProvider: 'openai' }, async (span) => {
    svc.llmobs.annotate(span, {
      inputData: messages.map((m) => ({
        role: m.role,
        content: m.content ?? '',
        toolCalls: m.tool_calls?.map((c) => ({ name: c.function.name, arguments: JSON.parse(c.function.arguments) as unknown, toolId: c.id, type: 'function' })),
      })),
      metadata: { temperature: 0.2, max_tokens: 256, tools: tools ? TOOLS.length : 0 },
      ...(tools ? { toolDefinitions: TOOLS.map((t) => ({ name: t.function.name, description: t.function.description, schema: t.function.parameters })) } : {}),
    })
    const res = await postJson<Completion>(`${provider}/v1/chat/completions`, { model: 'gpt-4o-mini', messages, ...(tools ? { tools: TOOLS } : {}) })
    const msg = res.choices[0].message
    svc.llmobs.annotate(span, {
      outputData: {
        role: 'assistant',
        content: msg.content ?? '',
        toolCalls: (msg.tool_calls ?? []).map((c) => ({ name: c.function.name, arguments: JSON.parse(c.function.arguments) as unknown, toolId: c.id, type: 'function' })),
      },
      metrics: {
        inputTokens: res.usage.prompt_tokens,
        outputTokens: res.usage.completion_tokens,
        totalTokens: res.usage.total_tokens,
        cacheReadInputTokens: res.usage.prompt_tokens_details?.cached_tokens ?? 0,
      },
    })
    return msg
  })
}

/** Second service: turns a question into documents (an `embedding` inside a `workflow`). */
export async function startKnowledgeService (svc: Service, provider: string): Promise<Running> {
  return serve(svc, 'POST /search', async (body) => {
    const question = String(body.question ?? '')
    return svc.llmobs.trace({ kind: 'workflow', name: 'kb.search' }, async (wf) => {
      svc.llmobs.annotate(wf, { inputData: question })
      await svc.llmobs.trace({ kind: 'embedding', name: 'embed-question', modelName: 'text-embedding-3-small', modelProvider: 'openai' }, async (span) => {
        svc.llmobs.annotate(span, { inputData: question })
        const res = await postJson<{ data: unknown[], usage: { prompt_tokens: number } }>(`${provider}/v1/embeddings`, { model: 'text-embedding-3-small', input: [question] })
        svc.llmobs.annotate(span, { outputData: `[${res.data.length} embedding(s) returned with 8 dimensions]`, metrics: { inputTokens: res.usage.prompt_tokens } })
      })
      const documents = [
        { text: 'Refunds are accepted within 30 days of delivery.', name: 'refund-policy.md', id: 'kb-1', score: 0.91 },
        { text: 'Orders can be edited until they are packed.', name: 'orders-faq.md', id: 'kb-7', score: 0.74 },
      ]
      svc.llmobs.annotate(wf, { outputData: documents.map((d) => d.name) })
      return { documents }
    })
  })
}

/** Front service: an `agent` that retrieves, calls a model with tools, runs the tool, answers. */
export async function startChatService (svc: Service, provider: string, knowledgeUrl: string): Promise<Running> {
  return serve(svc, 'POST /chat', async (body, httpSpan) => {
    const question = String(body.question ?? '')
    return svc.llmobs.trace({ kind: 'agent', name: 'support-agent', sessionId: String(body.session ?? 'anonymous') }, async (agent) => {
      svc.llmobs.annotate(agent, { inputData: question })
      const docs = await svc.llmobs.trace({ kind: 'retrieval', name: 'kb-lookup' }, async (span) => {
        svc.llmobs.annotate(span, { inputData: question })
        const headers: Record<string, string> = {}
        svc.tracer.inject(span, headers)
        const res = await postJson<{ documents: Array<{ text: string, name: string, id: string, score: number }> }>(`${knowledgeUrl}/search`, { question }, headers)
        svc.llmobs.annotate(span, { outputData: res.documents })
        return res.documents
      })
      const context = docs.map((d) => d.text).join('\n')
      const messages: ChatMessage[] = [
        { role: 'system', content: `You are a support assistant. Context:\n${context}` },
        { role: 'user', content: question },
      ]
      const first = await chat(svc, provider, 'plan', messages, true)
      const call = first.tool_calls?.[0]
      let toolResult = 'no tool called'
      if (call !== undefined) {
        toolResult = await svc.llmobs.trace({ kind: 'tool', name: call.function.name }, (span) => {
          const args = JSON.parse(call.function.arguments) as { order_id: string }
          const out = JSON.stringify({ order_id: args.order_id, status: 'shipped', eta_days: 2 })
          svc.llmobs.annotate(span, { inputData: args, outputData: out })
          return out
        })
      }
      const answer = await chat(svc, provider, 'answer', [...messages, first, { role: 'tool', content: toolResult }], false)
      svc.llmobs.annotate(agent, { outputData: answer.content ?? '' })
      httpSpan.setTag('chat.answer_length', (answer.content ?? '').length)
      return { answer: answer.content }
    })
  })
}

/** An HTTP server whose handler runs in a server span continuing the caller's trace. */
async function serve (svc: Service, resource: string, handler: (body: Record<string, unknown>, span: Span) => Promise<unknown>): Promise<Running> {
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const parent = svc.tracer.extract(req.headers)
      void svc.tracer.trace('http.request', { type: 'web', resource, childOf: parent, tags: { 'http.method': req.method, 'http.url': req.url } }, async (span) => {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>
          const out = await handler(body, span)
          span.setTag('http.status_code', 200)
          res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(out))
        } catch (err) {
          // The error is on the LLM span that failed; the request span records the 502.
          span.setTag('http.status_code', 502)
          span.setError(err)
          res.writeHead(502, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: (err as Error).message }))
        }
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
