import { startFakeServer, type FakeRequest, type FakeServer, type Responder } from './fake_http.js'

/**
 * A fake Anthropic Messages API on 127.0.0.1:0 (`baseURL: server.url`). Chosen by model name:
 * `fail-429` / `fail-500` answer errors; `slow` streams 40 deltas 25 ms apart; `nousage` leaves
 * usage out (to exercise the "missing" path); a request with `tools` gets a `tool_use` block.
 */
export const DATED = '-20250929'
export const MESSAGE_USAGE = { input_tokens: 10, output_tokens: 6, cache_read_input_tokens: 3, cache_creation_input_tokens: 2 }
export const TEXT_PIECES = ['Bon', 'jour']

export function startFakeAnthropic (): Promise<FakeServer> {
  return startFakeServer(async (req, res) => {
    const model = String(req.body.model ?? '')
    if (model.includes('fail-429')) return res.json(429, { type: 'error', error: { type: 'rate_limit_error', message: 'Rate limited' } }, { 'retry-after': '0' })
    if (model.includes('fail-500')) return res.json(500, { type: 'error', error: { type: 'api_error', message: 'Internal server error' } })
    if (req.path.endsWith('/v1/messages')) return messages(req, res, model)
    res.json(404, { type: 'error', error: { type: 'not_found_error', message: `no route ${req.path}` } })
  })
}

async function messages (req: FakeRequest, res: Responder, model: string): Promise<void> {
  const answered = model + DATED
  const tool = req.body.tools?.[0]
  const usage = model.includes('nousage') ? undefined : MESSAGE_USAGE
  const content = tool !== undefined
    ? [{ type: 'text', text: 'Let me check.' }, { type: 'tool_use', id: 'toolu_1', name: tool.name, input: { city: 'Paris' } }]
    : [{ type: 'text', text: TEXT_PIECES.join('') }]
  const stop = tool !== undefined ? 'tool_use' : 'end_turn'
  if (req.body.stream !== true) {
    return res.json(200, { id: 'msg_1', type: 'message', role: 'assistant', model: answered, content, stop_reason: stop, stop_sequence: null, ...(usage !== undefined ? { usage } : {}) })
  }
  const ev = (event: string, data: Record<string, unknown>): { event: string, data: unknown } => ({ event, data: { type: event, ...data } })
  const startUsage = usage === undefined ? undefined : { input_tokens: usage.input_tokens, output_tokens: 1, cache_read_input_tokens: usage.cache_read_input_tokens, cache_creation_input_tokens: usage.cache_creation_input_tokens }
  const frames = [ev('message_start', { message: { id: 'msg_1', type: 'message', role: 'assistant', model: answered, content: [], stop_reason: null, stop_sequence: null, ...(startUsage !== undefined ? { usage: startUsage } : {}) } })]
  frames.push(ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }))
  const pieces = model.includes('slow') ? Array.from({ length: 40 }, (_, i) => `w${i} `) : tool !== undefined ? ['Let me check.'] : TEXT_PIECES
  for (const p of pieces) frames.push(ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: p } }))
  frames.push(ev('content_block_stop', { index: 0 }))
  if (tool !== undefined) {
    frames.push(ev('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'toolu_1', name: tool.name, input: {} } }))
    for (const p of ['{"city"', ': "Paris"}']) frames.push(ev('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: p } }))
    frames.push(ev('content_block_stop', { index: 1 }))
  }
  frames.push(ev('message_delta', { delta: { stop_reason: stop, stop_sequence: null }, ...(usage !== undefined ? { usage: { output_tokens: usage.output_tokens } } : {}) }))
  frames.push(ev('message_stop', {}))
  await res.sse(frames, model.includes('slow') ? 25 : 0)
}
