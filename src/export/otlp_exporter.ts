import { log } from '../diag/logger.js'
import type { OtlpDecoded, OtlpEncoding, OtlpSpan, OtlpTracesRequest, OtlpTracesResponse } from '../encode/otlp/otlp_types.js'
import type { Chunk, TraceState } from '../model/trace_state.js'
import { OtlpHttpClient, type RetryPolicy } from './otlp_http.js'
import { isLlmSpan, resourceAttributes, SCOPE, toOtlpSpan, type ResourceInfo, type ViewLookup } from './otlp_map.js'
import type { FateListener, PayloadFate, TraceFailureReason } from './payload_fate.js'
import type { TraceSink } from './trace_sink.js'

export interface OtlpCodec {
  encodeRequest (req: OtlpTracesRequest, encoding: OtlpEncoding): Uint8Array
  decodeResponse (bytes: Uint8Array, encoding: OtlpEncoding): OtlpDecoded<OtlpTracesResponse>
}

export interface OtlpExporterOptions {
  url: string
  headers: Record<string, string>
  encoding: OtlpEncoding
  compression: 'gzip' | 'none'
  /** One export, every attempt and wait included. */
  timeoutMs: number
  flushIntervalMs: number
  maxQueueSpans: number
  maxBatchSpans: number
  maxInflight: number
  retry: RetryPolicy
  resource: ResourceInfo
  codec: OtlpCodec
  random?: () => number
}

export interface OtlpExporterStats {
  spansExported: number
  /** Spans of traces our sampler dropped that were not exported (LLM spans of those traces are). */
  spansSampledOut: number
  spansDropped: Partial<Record<TraceFailureReason, number>>
  /** Spans the backend said it rejected in 200 answers with partial_success. */
  spansRejected: number
  requestsSent: number
  requestsFailed: number
  retries: number
  bytesSent: number
}

interface Entry { spans: OtlpSpan[], riders: unknown[] | undefined }

/**
 * The OTLP export mode's trace sink: chunks become OTLP spans at append, wait in a bounded
 * queue (counted in spans, queued and in flight; past the bound a chunk is dropped and its fate
 * reported as buffer_full), and leave in batches every flush interval or once a batch is full.
 *
 * The rescue, generalised: a chunk our sampler dropped (priority <= 0) is not exported, except
 * its LLM spans, which are, with their parent ids unchanged; so LLM data survives head sampling
 * on this path as it does through the Agent. No Agent sampler sits downstream to apply our
 * decision, so the filter is here.
 *
 * Every chunk's riders get one fate: acknowledged on a 2xx, failed otherwise. A 200 with a
 * partial success is not retried (the spec forbids it); its rejected count is logged once and
 * counted. The rejected spans are not named, so their riders cannot be told apart: they count as
 * delivered, unless every span of the request was rejected, which is a refusal.
 */
export class OtlpExporter implements TraceSink {
  readonly stats: OtlpExporterStats = { spansExported: 0, spansSampledOut: 0, spansDropped: {}, spansRejected: 0, requestsSent: 0, requestsFailed: 0, retries: 0, bytesSent: 0 }
  private readonly client: OtlpHttpClient
  private readonly listeners: FateListener[] = []
  private queue: Entry[] = []
  private queuedSpans = 0
  private inflightSpans = 0
  private readonly inflight = new Set<Promise<void>>()
  private timer: NodeJS.Timeout | undefined
  private closed = false
  private viewOf: ViewLookup | undefined
  private readonly resourceAttrs

  constructor (private readonly opts: OtlpExporterOptions) {
    this.client = new OtlpHttpClient(opts.url, opts.headers, opts.random)
    this.resourceAttrs = resourceAttributes(opts.resource)
  }

  /** The OTel bridge names the spans it started, so they leave as the OTel spans they were. */
  setViewLookup (viewOf: ViewLookup | undefined): void {
    this.viewOf = viewOf
  }

  onPayloadSettled (listener: FateListener): () => void {
    this.listeners.push(listener)
    return () => {
      const i = this.listeners.indexOf(listener)
      if (i >= 0) this.listeners.splice(i, 1)
    }
  }

  append (chunk: Chunk): void {
    this.add(chunk, isDropped(chunk.trace))
  }

  /** APM export off (LLM Observability without APM): only the LLM spans leave, as for a dropped trace. */
  discard (chunk: Chunk): void {
    this.add(chunk, true)
  }

  private add (chunk: Chunk, llmOnly: boolean): void {
    if (this.closed) { this.settleChunk(chunk, 'shutdown', 'exporter already shut down', chunk.spans.length); return }
    let spans: OtlpSpan[]
    try {
      const source = llmOnly ? chunk.spans.filter(isLlmSpan) : chunk.spans
      this.stats.spansSampledOut += chunk.spans.length - source.length
      spans = source.map((s) => toOtlpSpan(s, chunk.trace, this.viewOf, this.opts.resource.service))
    } catch (err) {
      log.internalError('otlp_exporter.map', err)
      this.settleChunk(chunk, 'encoding_error', 'chunk could not be mapped to OTLP', chunk.spans.length)
      return
    }
    if (spans.length === 0) {
      // Nothing of it leaves; anything riding on it (there should be nothing) is told so.
      if (chunk.riders !== undefined && chunk.riders.length > 0) this.settleChunk(chunk, 'not_exported', 'no span of the chunk is exported', 0)
      return
    }
    if (this.queuedSpans + this.inflightSpans + spans.length > this.opts.maxQueueSpans) {
      this.settleChunk(chunk, 'buffer_full', `OTLP queue bound of ${this.opts.maxQueueSpans} spans reached`, spans.length)
      return
    }
    this.queue.push({ spans, riders: chunk.riders })
    this.queuedSpans += spans.length
    if (this.queuedSpans >= this.opts.maxBatchSpans) this.sendReady()
    else this.arm()
  }

  get hasPending (): boolean { return this.queue.length > 0 || this.inflight.size > 0 }

  /** Sends everything queued and waits for what is in flight now, at most `timeoutMs`. */
  async flush (timeoutMs = Infinity): Promise<void> {
    this.sendAll()
    if (this.inflight.size === 0) return
    let hold: NodeJS.Timeout | undefined
    const expired = new Promise<void>((resolve) => {
      // Ref'ed: a caller awaiting a flush wants the process held (background sends are not).
      hold = Number.isFinite(timeoutMs) ? setTimeout(resolve, timeoutMs) : setInterval(() => {}, 1 << 30)
    })
    try {
      await Promise.race([Promise.all([...this.inflight]), expired])
    } finally {
      clearTimeout(hold)
      clearInterval(hold)
    }
  }

  /** Request-scoped flush: batches are shared across traces here, so it is a flush. */
  async flushTrace (_trace: TraceState, timeoutMs: number): Promise<void> {
    await this.flush(timeoutMs)
  }

  /** Flushes, then refuses new chunks and closes the connections. Idempotent. */
  async shutdown (timeoutMs = Infinity): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.closed = true
    await this.flush(timeoutMs)
    this.client.close()
  }

  private arm (): void {
    if (this.timer !== undefined || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.sendReady()
    }, this.opts.flushIntervalMs)
    this.timer.unref()
  }

  /** Background sends keep at most maxInflight requests out; the rest waits (and counts against the bound). */
  private sendReady (): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined }
    while (this.queue.length > 0 && this.inflight.size < this.opts.maxInflight) this.sendBatch()
    if (this.queue.length > 0) this.arm()
  }

  private sendAll (): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined }
    while (this.queue.length > 0) this.sendBatch()
  }

  private sendBatch (): void {
    const batch: Entry[] = []
    let count = 0
    while (this.queue.length > 0 && (count === 0 || count + this.queue[0].spans.length <= this.opts.maxBatchSpans)) {
      const e = this.queue.shift() as Entry
      batch.push(e)
      count += e.spans.length
    }
    this.queuedSpans -= count
    this.inflightSpans += count
    const p = this.export(batch, count).catch((err: unknown) => log.internalError('otlp_exporter.export', err))
    this.inflight.add(p)
    void p.finally(() => {
      this.inflight.delete(p)
      this.inflightSpans -= count
      if (this.queue.length > 0 && !this.closed) this.arm()
    })
  }

  private async export (batch: Entry[], count: number): Promise<void> {
    const riders = ridersOf(batch)
    const encoding = this.opts.encoding
    let body: Uint8Array
    try {
      const spans = batch.length === 1 ? batch[0].spans : batch.flatMap((e) => e.spans)
      body = this.opts.codec.encodeRequest({ resourceSpans: [{ resource: { attributes: this.resourceAttrs, droppedAttributesCount: 0 }, scopeSpans: [{ scope: SCOPE, spans, schemaUrl: '' }], schemaUrl: '' }] }, encoding)
    } catch (err) {
      log.internalError('otlp_exporter.encode', err)
      this.fail(batch.length, count, riders, 'encoding_error', 'request could not be encoded')
      return
    }
    const contentType = encoding === 'json' ? 'application/json' : 'application/x-protobuf'
    const { result } = await this.client.export(body, contentType, this.opts.compression === 'gzip', this.opts.timeoutMs, this.opts.retry, () => { this.stats.retries++ })
    if (result.kind !== 'ok') {
      const status = result.status
      const reason: TraceFailureReason = status === 413 ? 'too_large' : result.kind === 'failed' && result.exhausted !== true && status !== undefined ? 'refused' : 'retries_exhausted'
      log.warnOnce(`otlp_exporter.failed.${reason}`, `OTLP export to ${this.opts.url} failed (${result.reason}); ${count} span(s) not delivered (further failures counted silently)`)
      this.fail(batch.length, count, riders, reason, result.reason, status)
      return
    }
    this.stats.requestsSent++
    this.stats.bytesSent += body.byteLength
    const rejected = this.rejectedIn(result.body, encoding)
    log.debug(() => `sent OTLP request: ${count} span(s), ${body.byteLength} bytes (${encoding}) to ${this.opts.url} (HTTP ${result.status})${rejected > 0 ? `, ${rejected} rejected` : ''}`)
    if (rejected >= count) {
      this.stats.spansDropped.refused = (this.stats.spansDropped.refused ?? 0) + count
      this.settle({ acknowledged: false, chunkCount: batch.length, riders, reason: 'refused', detail: 'every span was rejected (partial success)', status: result.status })
      return
    }
    this.stats.spansExported += count - rejected
    this.settle({ acknowledged: true, chunkCount: batch.length, riders, status: result.status })
  }

  /** Spans the answer says were rejected (0 for a full success or an answer we cannot read). */
  private rejectedIn (body: Buffer, encoding: OtlpEncoding): number {
    if (body.length === 0) return 0
    let decoded: OtlpDecoded<OtlpTracesResponse>
    try {
      decoded = this.opts.codec.decodeResponse(body, encoding)
    } catch {
      return 0
    }
    // A backend that answers JSON to protobuf (or the reverse) still said something.
    if (!decoded.ok) {
      try { decoded = this.opts.codec.decodeResponse(body, encoding === 'json' ? 'protobuf' : 'json') } catch { return 0 }
    }
    if (!decoded.ok) { log.debug(() => `OTLP response could not be read (${decoded.ok ? '' : decoded.reason}); taken as a full success`); return 0 }
    const partial = decoded.value.partialSuccess
    if (partial === undefined) return 0
    const n = Number(partial.rejectedSpans)
    if (n > 0 || partial.errorMessage !== '') {
      log.warnOnce('otlp_exporter.partial', `the OTLP backend rejected ${n} span(s) of a request (${partial.errorMessage.slice(0, 200)}); not retried, as the spec says (further partial successes counted in the exporter's stats)`)
    }
    if (n > 0) this.stats.spansRejected += n
    return Number.isFinite(n) && n > 0 ? n : 0
  }

  private fail (chunks: number, spans: number, riders: unknown[], reason: TraceFailureReason, detail: string, status?: number): void {
    this.stats.requestsFailed++
    this.stats.spansDropped[reason] = (this.stats.spansDropped[reason] ?? 0) + spans
    this.settle({ acknowledged: false, chunkCount: chunks, riders, reason, detail, status })
  }

  private settleChunk (chunk: Chunk, reason: TraceFailureReason, detail: string, spans: number): void {
    this.stats.spansDropped[reason] = (this.stats.spansDropped[reason] ?? 0) + spans
    this.settle({ acknowledged: false, chunkCount: 1, riders: chunk.riders ?? [], reason, detail })
  }

  private settle (fate: PayloadFate): void {
    for (const l of this.listeners) {
      try { l(fate) } catch (err) { log.internalError('otlp_exporter.listener', err) }
    }
  }
}

function isDropped (trace: TraceState): boolean {
  const p = trace.samplingPriority
  return p !== undefined && p <= 0
}

function ridersOf (batch: Entry[]): unknown[] {
  const out: unknown[] = []
  for (const e of batch) if (e.riders !== undefined) for (const r of e.riders) out.push(r)
  return out
}
