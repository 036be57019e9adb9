import { chunkPriority, type SamplingPass } from './agent_sampler.js'
import { apmTraceId, eventFromLlmobs } from './extract.js'
import { invalid } from './json_checks.js'
import { type ArrivalPath, type Batch, count } from './store.js'

/** The span fields ingestion reads, common to v0.4/v0.5 and agentless JSON decoding. */
export interface IngestSpan {
  traceId: bigint
  spanId: bigint
  parentId: bigint
  service: string
  name: string
  start: bigint
  duration: bigint
  error: number
  meta: Record<string, string>
  metrics: Record<string, number>
}

export interface IngestOptions<S extends IngestSpan> {
  /** '/v0.4/traces', '/v0.5/traces', '/v1/input'. */
  endpoint: string
  path: ArrivalPath
  /** The Agent's sampling; undefined for agentless (/v1/input keeps everything for LLMObs). */
  sampling: SamplingPass | undefined
  hasLlmobs (span: S): boolean
  /** The decoded `_llmobs` document; throws InvalidInput when it cannot be decoded. */
  llmobsOf (span: S, where: string): unknown
}

/**
 * Turns decoded chunks into a batch: one summary per non-empty chunk, the Agent's sampling
 * decision, and the LLMObs span events of kept chunks. A dropped chunk's `_llmobs` is never
 * decoded (it never reaches the intake). Throws InvalidInput (nothing is stored then).
 */
export function ingestChunks<S extends IngestSpan> (chunks: readonly S[][], opts: IngestOptions<S>, batch: Batch): void {
  for (let c = 0; c < chunks.length; c++) {
    const chunk = chunks[c]
    if (chunk.length === 0) continue
    count(batch, 'chunks_received')
    const root = rootIndex(chunk)
    const apmTrace = apmTraceId(chunk, root)
    let llmobsSpans = 0
    let error = false
    for (const span of chunk) {
      if (opts.hasLlmobs(span)) llmobsSpans++
      if (span.error !== 0) error = true
    }
    const valid = isValidChunk(chunk)
    const decision = !valid
      ? { priority: chunkPriority(chunk), kept: false, keptByErrors: false }
      : opts.sampling !== undefined
        ? opts.sampling.decide(chunk)
        : { priority: chunkPriority(chunk), kept: true, keptByErrors: false }
    if (!valid) count(batch, 'chunks_dropped_invalid')
    else if (!decision.kept) count(batch, 'chunks_dropped_sampling')
    if (decision.keptByErrors) count(batch, 'chunks_kept_errors')
    batch.chunks.push({
      traceId: apmTrace,
      rootName: chunk[root].name,
      service: chunk[root].service,
      priority: decision.priority,
      kept: decision.kept,
      spanCount: chunk.length,
      error,
      llmobsSpans,
      endpoint: opts.endpoint,
    })
    if (!decision.kept || llmobsSpans === 0) continue
    for (let s = 0; s < chunk.length; s++) {
      const span = chunk[s]
      if (!opts.hasLlmobs(span)) continue
      const where = `chunk ${c} span ${s}`
      batch.spans.push(eventFromLlmobs(opts.llmobsOf(span, where), span, apmTrace, opts.path, where))
      count(batch, 'llmobs_extracted')
    }
  }
}

/** The span without a parent, else the first whose parent is not in the chunk, else the first. */
function rootIndex (chunk: readonly IngestSpan[]): number {
  for (let i = 0; i < chunk.length; i++) if (chunk[i].parentId === 0n) return i
  const ids = new Set<bigint>()
  for (const s of chunk) ids.add(s.spanId)
  for (let i = 0; i < chunk.length; i++) if (!ids.has(chunk[i].parentId)) return i
  return 0
}

/**
 * The Agent's normalizer drops a chunk (the payload is still accepted) when a span has a zero
 * trace or span id, or when spans of different traces share a chunk.
 */
function isValidChunk (chunk: readonly IngestSpan[]): boolean {
  const traceId = chunk[0].traceId
  for (const s of chunk) if (s.traceId === 0n || s.spanId === 0n || s.traceId !== traceId) return false
  return true
}

export function invalidLlmobs (where: string, reason: string): never {
  return invalid(`${where}: meta_struct._llmobs could not be decoded: ${reason}`)
}
