import { startFakeServer, type FakeRequest, type FakeServer, type Responder } from './fake_http.js'

/**
 * A fake OpenAI API on 127.0.0.1:0 (`baseURL: server.url + '/v1'`). Behaviour is chosen by the
 * requested model name, so one server serves every scenario:
 * - `fail-429` / `fail-500`: an error answer;
 * - `slow`: streams 40 chunks 25 ms apart (abort and early-break tests);
 * - a request with `tools` gets a tool call to the first tool;
 * - streams send usage only when asked (`stream_options.include_usage`), as the real API does.
 * The answering model is the requested one plus a snapshot suffix, as the real API reports it.
 */
export const SNAPSHOT = '-2024-07-18'
export const CHAT_USAGE = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17, prompt_tokens_details: { cached_tokens: 4 }, completion_tokens_details: { reasoning_tokens: 2 } }
export const RESPONSES_USAGE = { input_tokens: 9, output_tokens: 4, total_tokens: 13, input_tokens_details: { cached_tokens: 1 }, output_tokens_details: { reasoning_tokens: 3 } }
export const TEXT_PIECES = ['Hel', 'lo', ' world']

export function startFakeOpenAI (): Promise<FakeServer> {
  return startFakeServer(async (req, res) => {
    const model = String(req.body.model ?? '')
    if (model.includes('fail-429')) return res.json(429, { error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }, { 'retry-after': '0' })
    if (model.includes('fail-500')) return res.json(500, { error: { message: 'The server had an error', type: 'server_error', code: null } })
    if (req.path.endsWith('/v1/chat/completions')) return chat(req, res, model)
    if (req.path.endsWith('/v1/responses')) return responses(req, res, model)
    if (req.path.endsWith('/v1/embeddings')) return embeddings(req, res, model)
    if (req.path.endsWith('/v1/completions')) return completions(req, res, model)
    res.json(404, { error: { message: `no route ${req.path}` } })
  })
}

function toolCall (req: FakeRequest): { id: string, type: 'function', function: { name: string, arguments: string } } | undefined {
  const tool = req.body.tools?.[0]
  if (tool === undefined) return undefined
  return { id: 'call_1', type: 'function', function: { name: tool.function?.name ?? tool.name, arguments: '{"city":"Paris"}' } }
}

async function chat (req: FakeRequest, res: Responder, model: string): Promise<void> {
  const answered = model + SNAPSHOT
  const call = toolCall(req)
  if (req.body.stream !== true) {
    const message = call !== undefined
      ? { role: 'assistant', content: null, tool_calls: [call] }
      : { role: 'assistant', content: TEXT_PIECES.join('') }
    return res.json(200, {
      id: 'chatcmpl-1', object: 'chat.completion', created: 1700000000, model: answered,
      choices: [{ index: 0, message, finish_reason: call !== undefined ? 'tool_calls' : 'stop', logprobs: null }],
      usage: CHAT_USAGE,
    })
  }
  const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1700000000, model: answered }
  const frames: Array<{ data: unknown }> = [{ data: { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] } }]
  if (call !== undefined) {
    frames.push({ data: { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }, finish_reason: null }] } })
    for (const piece of ['{"city":', '"Paris"}']) frames.push({ data: { ...base, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: piece } }] }, finish_reason: null }] } })
  } else {
    const pieces = model.includes('slow') ? Array.from({ length: 40 }, (_, i) => `w${i} `) : TEXT_PIECES
    for (const p of pieces) frames.push({ data: { ...base, choices: [{ index: 0, delta: { content: p }, finish_reason: null }] } })
  }
  frames.push({ data: { ...base, choices: [{ index: 0, delta: {}, finish_reason: call !== undefined ? 'tool_calls' : 'stop' }] } })
  if (req.body.stream_options?.include_usage === true) frames.push({ data: { ...base, choices: [], usage: CHAT_USAGE } })
  frames.push({ data: '[DONE]' })
  await res.sse(frames, model.includes('slow') ? 25 : 0)
}

async function responses (req: FakeRequest, res: Responder, model: string): Promise<void> {
  const answered = model + SNAPSHOT
  const tool = req.body.tools?.[0]
  const output = tool !== undefined
    ? [{ type: 'function_call', id: 'fc_1', call_id: 'call_1', name: tool.name, arguments: '{"city":"Paris"}', status: 'completed' }]
    : [{ type: 'message', id: 'msg_1', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: TEXT_PIECES.join(''), annotations: [] }] }]
  const response = {
    id: 'resp_1', object: 'response', created_at: 1700000000, status: 'completed', model: answered, output,
    usage: RESPONSES_USAGE, error: null, incomplete_details: null, instructions: req.body.instructions ?? null,
    parallel_tool_calls: true, tool_choice: 'auto', tools: req.body.tools ?? [], temperature: 1, top_p: 1, metadata: {},
  }
  if (req.body.stream !== true) return res.json(200, response)
  const inProgress = { ...response, status: 'in_progress', output: [], usage: null }
  let seq = 0
  const ev = (type: string, rest: Record<string, unknown>): { event: string, data: unknown } => ({ event: type, data: { type, sequence_number: seq++, ...rest } })
  const frames = [ev('response.created', { response: inProgress }), ev('response.in_progress', { response: inProgress })]
  if (tool !== undefined) {
    frames.push(ev('response.output_item.added', { output_index: 0, item: { ...output[0], arguments: '', status: 'in_progress' } }))
    frames.push(ev('response.function_call_arguments.delta', { output_index: 0, item_id: 'fc_1', delta: '{"city":"Paris"}' }))
    frames.push(ev('response.output_item.done', { output_index: 0, item: output[0] }))
  } else {
    frames.push(ev('response.output_item.added', { output_index: 0, item: { type: 'message', id: 'msg_1', status: 'in_progress', role: 'assistant', content: [] } }))
    frames.push(ev('response.content_part.added', { output_index: 0, item_id: 'msg_1', content_index: 0, part: { type: 'output_text', text: '', annotations: [] } }))
    for (const d of TEXT_PIECES) frames.push(ev('response.output_text.delta', { output_index: 0, item_id: 'msg_1', content_index: 0, delta: d, logprobs: [] }))
    frames.push(ev('response.output_text.done', { output_index: 0, item_id: 'msg_1', content_index: 0, text: TEXT_PIECES.join(''), logprobs: [] }))
    frames.push(ev('response.output_item.done', { output_index: 0, item: output[0] }))
  }
  frames.push(ev('response.completed', { response }))
  await res.sse(frames)
}

async function embeddings (req: FakeRequest, res: Responder, model: string): Promise<void> {
  const inputs: unknown[] = Array.isArray(req.body.input) ? req.body.input : [req.body.input]
  const base64 = req.body.encoding_format === 'base64'
  const data = inputs.map((_, i) => {
    const v = [0.5, -0.25, i]
    return { object: 'embedding', index: i, embedding: base64 ? Buffer.from(new Float32Array(v).buffer).toString('base64') : v }
  })
  res.json(200, { object: 'list', data, model: model + SNAPSHOT, usage: { prompt_tokens: 6, total_tokens: 6 } })
}

/** The legacy Completions API: one text choice per prompt; streamed as text deltas, usage only when asked. */
async function completions (req: FakeRequest, res: Responder, model: string): Promise<void> {
  const base = { id: 'cmpl-1', object: 'text_completion', created: 1700000000, model: model + SNAPSHOT }
  const usage = { prompt_tokens: 4, completion_tokens: 3, total_tokens: 7 }
  if (req.body.stream !== true) return res.json(200, { ...base, choices: [{ index: 0, text: TEXT_PIECES.join(''), finish_reason: 'stop', logprobs: null }], usage })
  const frames: Array<{ data: unknown }> = TEXT_PIECES.map((text) => ({ data: { ...base, choices: [{ index: 0, text, finish_reason: null, logprobs: null }] } }))
  frames.push({ data: { ...base, choices: [{ index: 0, text: '', finish_reason: 'stop', logprobs: null }] } })
  if (req.body.stream_options?.include_usage === true) frames.push({ data: { ...base, choices: [], usage } })
  frames.push({ data: '[DONE]' })
  await res.sse(frames)
}
