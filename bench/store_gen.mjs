// Generates a local-agent store of N LLMObs spans (default 1,000,000) for bench/store_bench.mjs:
// traces of 4 spans (workflow root, retrieval, 2 llm calls), starts spread over the last 24 h,
// sessions of 5 traces, realistic-length messages from a seeded word list (1 in 20 mentions a
// refund). Written through the store's own commit path, so it also measures bulk insert.
//   node bench/store_gen.mjs <file> [spans]
import { rmSync } from 'node:fs'
import { Store } from '../dist/src/agent/store.js'

const WORDS = ('order shipping package address premium support plan invoice account password delivery tracking ' +
  'warranty return exchange discount coupon subscription billing payment card bank transfer status update ' +
  'customer agent question answer thanks please help issue problem damaged late early week month today').split(' ')
const MODELS = [['gpt-4o-mini', 'openai'], ['claude-3-5-haiku-20241022', 'anthropic'], ['gemini-2.0-flash', 'google'], ['in-house-7b', 'custom']]

let seed = 42
function rand () { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed / 0x7fffffff }
function text (n) {
  const out = []
  for (let i = 0; i < n; i++) out.push(WORDS[Math.floor(rand() * WORDS.length)])
  if (rand() < 0.05) out.push('full refund')
  return out.join(' ')
}

export function traceEvents (i, nowMs) {
  const traceId = `bench-${i.toString(16).padStart(8, '0')}`
  const startNs = BigInt(nowMs - Math.floor(rand() * 86_400_000)) * 1_000_000n
  const session = `sess-${Math.floor(i / 5)}`
  const base = (spanId, parent, name, kind, offsetMs, durMs, meta, metrics) => {
    const ev = {
      trace_id: traceId, span_id: spanId, parent_id: parent, name, start_ns: Number(startNs + BigInt(offsetMs) * 1_000_000n),
      duration: durMs * 1_000_000, status: 'ok', meta: { span: { kind }, ...meta }, metrics, tags: ['ml_app:bench', 'env:bench'],
      ml_app: 'bench', session_id: session,
    }
    return {
      traceId, spanId, parentId: parent === 'undefined' ? null : parent, name, kind, mlApp: 'bench', status: 'ok',
      startNs: (startNs + BigInt(offsetMs) * 1_000_000n).toString(), duration: ev.duration, path: 'evp', event: JSON.stringify(ev), doc: ev,
    }
  }
  const root = String(i * 4 + 1)
  const [model, provider] = MODELS[i % MODELS.length]
  const question = text(20)
  return [
    base(root, 'undefined', 'chat', 'workflow', 0, 900, { input: { value: question }, output: { value: text(30) } }, {}),
    base(String(i * 4 + 2), root, 'retrieve', 'retrieval', 5, 50, { input: { value: question }, output: { documents: [{ text: text(60), name: 'kb.md' }] } }, {}),
    base(String(i * 4 + 3), root, 'plan', 'llm', 60, 300, { model_name: model, model_provider: provider, input: { messages: [{ role: 'user', content: question }] }, output: { messages: [{ role: 'assistant', content: text(25) }] } }, { input_tokens: 400, output_tokens: 120 }),
    base(String(i * 4 + 4), root, 'answer', 'llm', 400, 450, { model_name: model, model_provider: provider, input: { messages: [{ role: 'user', content: text(40) }] }, output: { messages: [{ role: 'assistant', content: text(30) }] } }, { input_tokens: 900, output_tokens: 250, total_tokens: 1150 }),
  ]
}

export function batchOf (from, traces, nowMs) {
  const spans = []
  for (let i = from; i < from + traces; i++) spans.push(...traceEvents(i, nowMs))
  return { spans, chunks: [], evaluations: [], counts: {} }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2]
  const n = Number(process.argv[3] ?? 1_000_000)
  if (file === undefined) { console.error('usage: node bench/store_gen.mjs <file> [spans]'); process.exit(2) }
  rmSync(file, { force: true }); rmSync(`${file}-wal`, { force: true }); rmSync(`${file}-shm`, { force: true })
  const store = new Store(file)
  const now = Date.now()
  const traces = Math.ceil(n / 4)
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < traces; i += 250) {
    store.commit(batchOf(i, Math.min(250, traces - i), now))
    if (i % 25_000 === 0 && i > 0) process.stderr.write(`  ${i * 4} spans, ${Math.round(i * 4 / (Number(process.hrtime.bigint() - t0) / 1e9))}/s\n`)
  }
  const sec = Number(process.hrtime.bigint() - t0) / 1e9
  store.close()
  console.log(JSON.stringify({ spans: traces * 4, seconds: Math.round(sec * 10) / 10, spansPerSec: Math.round(traces * 4 / sec) }))
}
