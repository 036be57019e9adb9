import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { prng } from './prng.js'

export interface FakeProvider { url: string, close: () => Promise<void> }

/**
 * An OpenAI-shaped model provider on loopback, driven by a seeded PRNG: 20–200 ms latency,
 * token usage, tool calls when tools are offered, and 5% HTTP 500 / 2% HTTP 429, so the demo
 * shows errored LLM spans too. Endpoints: POST /v1/chat/completions, POST /v1/embeddings.
 */
export async function startFakeProvider (seed: number): Promise<FakeProvider> {
  const rand = prng(seed)
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const roll = rand()
      const latency = 20 + Math.floor(rand() * 180)
      let body: Record<string, unknown>
      try { body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> } catch { body = {} }
      setTimeout(() => {
        if (roll < 0.05) return reply(res, 500, { error: { message: 'upstream model crashed', type: 'server_error' } })
        if (roll < 0.07) return reply(res, 429, { error: { message: 'rate limit reached', type: 'rate_limit' } }, { 'Retry-After': '1' })
        if (req.url === '/v1/embeddings') return reply(res, 200, embeddings(body, rand))
        if (req.url === '/v1/chat/completions') return reply(res, 200, completion(body, rand))
        reply(res, 404, { error: { message: 'no such endpoint' } })
      }, latency)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}

function reply (res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers })
  res.end(JSON.stringify(body))
}

const ANSWERS = [
  'Our refund window is 30 days from delivery; the order qualifies.',
  'The package left the Lyon warehouse yesterday and should arrive Thursday.',
  'You can change the shipping address until the order is packed.',
  'Premium support is included with the annual plan.',
]

function completion (body: Record<string, unknown>, rand: () => number): unknown {
  const messages = Array.isArray(body.messages) ? body.messages as Array<{ content?: unknown }> : []
  const promptTokens = 12 + messages.reduce((n, m) => n + Math.ceil(String(m.content ?? '').length / 4), 0)
  const wantsTool = Array.isArray(body.tools) && body.tools.length > 0
  const completionTokens = wantsTool ? 18 : 20 + Math.floor(rand() * 60)
  const message = wantsTool
    ? { role: 'assistant', content: null, tool_calls: [{ id: `call_${Math.floor(rand() * 1e9)}`, type: 'function', function: { name: 'lookup_order', arguments: JSON.stringify({ order_id: `A-${Math.floor(rand() * 9000) + 1000}` }) } }] }
    : { role: 'assistant', content: ANSWERS[Math.floor(rand() * ANSWERS.length)] }
  return {
    id: `chatcmpl-${Math.floor(rand() * 1e12)}`,
    object: 'chat.completion',
    model: String(body.model ?? 'fake-model') + '-2026-01-01',
    choices: [{ index: 0, message, finish_reason: wantsTool ? 'tool_calls' : 'stop' }],
    usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens, prompt_tokens_details: { cached_tokens: Math.floor(promptTokens / 4) } },
  }
}

function embeddings (body: Record<string, unknown>, rand: () => number): unknown {
  const inputs = Array.isArray(body.input) ? body.input : [body.input]
  return {
    object: 'list',
    model: String(body.model ?? 'fake-embed'),
    data: inputs.map((_, i) => ({ object: 'embedding', index: i, embedding: Array.from({ length: 8 }, () => Number(rand().toFixed(4))) })),
    usage: { prompt_tokens: inputs.length * 8, total_tokens: inputs.length * 8 },
  }
}
