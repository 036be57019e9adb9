// v0.4 encoding of a 10-span trace carrying a 1 KB meta_struct: ours vs msgpackr (useRecords:
// false), both producing the same wire shape (meta_struct values as separately packed bin).
// `node bench/subjects/encode.mjs <llmobs-ts|msgpackr>` prints {"nsPerOp":...}.
import { Packr } from 'msgpackr'
import { measure } from '../lib/measure.mjs'
import { MsgpackWriter } from '../../dist/src/encode/msgpack_writer.js'
import { encodeChunkV04 } from '../../dist/src/encode/v04.js'
import { newEncodeStats } from '../../dist/src/encode/encode_stats.js'

const subject = process.argv[2]

const llmobs = {
  trace_id: '6f1a3c0e2b4d5a69',
  parent_id: 'undefined',
  name: 'chat',
  ml_app: 'bench-app',
  tags: { env: 'bench', service: 'bench', version: '1.0.0' },
  meta: {
    span: { kind: 'llm' },
    model_name: 'gpt-4o-mini',
    model_provider: 'openai',
    input: { messages: [{ role: 'system', content: 'You are a helpful assistant. '.repeat(8) }, { role: 'user', content: 'What is the capital of France? Please answer briefly and cite a source.' }] },
    output: { messages: [{ role: 'assistant', content: 'Paris is the capital of France. '.repeat(6) }] },
    metadata: { temperature: 0.2, max_tokens: 256, stream: false, stop: null },
  },
  metrics: { input_tokens: 120, output_tokens: 48, total_tokens: 168 },
  _dd: { span_id: '1234567890123456789', trace_id: '6f1a3c0e2b4d5a6900000000aabbccdd', apm_trace_id: '6f1a3c0e2b4d5a6900000000aabbccdd' },
}
const docBytes = new Packr({ useRecords: false }).pack(llmobs).length
if (docBytes < 900 || docBytes > 1300) throw new Error(`meta_struct doc is ${docBytes} bytes, expected ~1 KB`)

function makeSpans () {
  const spans = []
  for (let i = 0; i < 10; i++) {
    spans.push({
      traceId: '00000000aabbccdd', spanId: (0x1000 + i).toString(16).padStart(16, '0'), parentId: i === 0 ? '0000000000000000' : '0000000000001000',
      name: i === 0 ? 'web.request' : 'llm.call', service: 'bench', resource: i === 0 ? 'GET /chat' : 'openai.chat', type: i === 0 ? 'web' : 'llm',
      startSec: 1764000000 + i, startNsec: 123456789, duration: 1500000 + i, error: 0,
      meta: { env: 'bench', version: '1.0.0', component: 'bench', 'http.method': 'GET', language: 'javascript' },
      metrics: { _sampling_priority_v1: 1, 'http.status_code': 200, process_id: 4242 },
      metaStruct: i === 5 ? { _llmobs: llmobs } : undefined,
    })
  }
  return spans
}
const spans = makeSpans()

let op
if (subject === 'llmobs-ts') {
  const out = new MsgpackWriter()
  const stats = newEncodeStats()
  op = () => { out.reset(); encodeChunkV04(spans, out, stats) }
} else if (subject === 'msgpackr') {
  // msgpackr gets the friendliest input: numeric ids (no hex parsing) and plain objects.
  const packr = new Packr({ useRecords: false })
  const plain = spans.map((s) => ({
    trace_id: 0xaabbccdd, span_id: parseInt(s.spanId, 16), parent_id: parseInt(s.parentId, 16),
    service: s.service, name: s.name, resource: s.resource, type: s.type,
    start: s.startSec * 1e9 + s.startNsec, duration: s.duration, error: s.error, meta: s.meta, metrics: s.metrics, meta_struct: s.metaStruct,
  }))
  op = () => {
    const chunk = plain.map((s) => s.meta_struct === undefined ? s : { ...s, meta_struct: { _llmobs: packr.pack(s.meta_struct._llmobs) } })
    packr.pack([chunk])
  }
} else {
  throw new Error(`unknown subject ${subject}`)
}

// BENCH_ENCODE_ITERATIONS: a shorter run for callgrind (two lengths, the difference per op).
const result = await measure(op, { iterations: Number(process.env.BENCH_ENCODE_ITERATIONS ?? 100_000), warmup: 20_000 })
process.stdout.write(JSON.stringify(result) + '\n')
