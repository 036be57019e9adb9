import { log } from '../diag/logger.js'
import { MsgpackWriter } from '../encode/msgpack_writer.js'
import { assemblePayloadV04, encodeChunkV04 } from '../encode/v04.js'
import { V05PayloadBuilder } from '../encode/v05.js'
import { newEncodeStats, type EncodeStats } from '../encode/encode_stats.js'
import type { Transport, TransportResult } from '../transport/result.js'
import type { Chunk } from '../trace/trace_state.js'
import { TRACER_VERSION } from '../version.js'
import type { FateListener, PayloadFate, TraceFailureReason } from './payload_fate.js'

export interface TraceWriterOptions {
  transport: Transport
  apiVersion: 'v0.4' | 'v0.5'
  flushIntervalMs: number
  bufferCapBytes: number
  payloadMaxBytes: number
  requestTimeoutMs: number
  /** Receives `rate_by_service` from each agent response (feeds the priority sampler). */
  onRates?: (rates: Record<string, number>) => void
}

interface Entry { chunk: Chunk, bytes: Uint8Array | undefined, size: number }

export interface TraceWriterStats {
  chunksAppended: number
  chunksAcknowledged: number
  chunksFailed: Record<string, number>
  payloadsSent: number
  payloadsFailed: number
  payloadsSplit: number
  bytesSent: number
  encode: EncodeStats
}

/**
 * Buffers encoded chunks and sends them to the agent every flush interval (or sooner when a
 * payload's worth is waiting). Memory is bounded by `bufferCapBytes`, counting bytes buffered
 * and in flight, because a payload retrying for 30 s still holds its bytes.
 *
 * v0.4 chunks are encoded once, on append, into standalone byte runs: a payload is an array
 * header plus their concatenation, so a 413 can be split in halves without re-encoding. v0.5
 * shares one string table per payload, so its chunks are encoded when the payload is built.
 */
export class TraceWriter {
  readonly stats: TraceWriterStats = {
    chunksAppended: 0, chunksAcknowledged: 0, chunksFailed: {}, payloadsSent: 0, payloadsFailed: 0, payloadsSplit: 0, bytesSent: 0, encode: newEncodeStats(),
  }

  private apiVersion: 'v0.4' | 'v0.5'
  private entries: Entry[] = []
  private pendingBytes = 0
  /** Buffered plus in-flight bytes, checked against the cap. */
  private heldBytes = 0
  private readonly inflight = new Set<Promise<void>>()
  private readonly listeners: FateListener[] = []
  private readonly encoder = new MsgpackWriter()
  private timer: NodeJS.Timeout | undefined
  private closed = false

  constructor (private readonly opts: TraceWriterOptions) {
    this.apiVersion = opts.apiVersion
  }

  get version (): 'v0.4' | 'v0.5' { return this.apiVersion }

  /** LLM Observability needs meta_struct, which only v0.4 carries. */
  setApiVersion (v: 'v0.4' | 'v0.5'): void {
    if (v === this.apiVersion) return
    this.sendBuffered()
    this.apiVersion = v
  }

  onPayloadSettled (listener: FateListener): () => void {
    this.listeners.push(listener)
    return () => {
      const i = this.listeners.indexOf(listener)
      if (i >= 0) this.listeners.splice(i, 1)
    }
  }

  append (chunk: Chunk): void {
    this.stats.chunksAppended++
    if (this.closed) {
      this.settle({ acknowledged: false, chunks: [chunk], reason: 'shutdown', detail: 'writer already shut down' })
      return
    }
    let bytes: Uint8Array | undefined
    let size: number
    if (this.apiVersion === 'v0.4') {
      this.encoder.reset()
      const result = encodeChunkV04(chunk.spans, this.encoder, this.stats.encode)
      if (result !== 'ok') {
        this.settle({ acknowledged: false, chunks: [chunk], reason: 'encoding_error', detail: result === 'overflow' ? 'chunk larger than the encoder cap' : 'internal encoder error' })
        return
      }
      bytes = this.encoder.toBuffer()
      size = bytes.length
    } else {
      size = estimateV05Size(chunk)
    }
    if (this.heldBytes + size > this.opts.bufferCapBytes) {
      this.settle({ acknowledged: false, chunks: [chunk], reason: 'buffer_full', detail: `trace buffer cap of ${this.opts.bufferCapBytes} bytes reached` })
      return
    }
    this.entries.push({ chunk, bytes, size })
    this.pendingBytes += size
    this.heldBytes += size
    if (this.pendingBytes >= this.opts.payloadMaxBytes) this.sendBuffered()
    else this.arm()
  }

  /**
   * Sends everything buffered and resolves when every payload in flight has settled, or after
   * `timeoutMs`. Retry waits use unref'ed timers so the tracer never holds a process open by
   * itself; a caller awaiting a flush does want the process held, so the wait is ref'ed.
   */
  async flush (timeoutMs = Infinity): Promise<void> {
    this.sendBuffered()
    if (this.inflight.size === 0) return
    let hold: NodeJS.Timeout | undefined
    const expired = new Promise<void>((resolve) => {
      hold = Number.isFinite(timeoutMs) ? setTimeout(resolve, timeoutMs) : setInterval(() => {}, 1 << 30)
    })
    const settled = (async () => {
      while (this.inflight.size > 0) await Promise.all([...this.inflight])
    })()
    try {
      await Promise.race([settled, expired])
    } finally {
      clearTimeout(hold)
      clearInterval(hold)
    }
  }

  /** Flushes, then refuses new chunks. Idempotent. */
  async shutdown (timeoutMs = Infinity): Promise<void> {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.closed = true
    await this.flush(timeoutMs)
  }

  get hasPending (): boolean { return this.entries.length > 0 || this.inflight.size > 0 }

  private arm (): void {
    if (this.timer !== undefined || this.closed) return
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.sendBuffered()
    }, this.opts.flushIntervalMs)
    this.timer.unref()
  }

  private sendBuffered (): void {
    if (this.timer !== undefined) { clearTimeout(this.timer); this.timer = undefined }
    if (this.entries.length === 0) return
    const entries = this.entries
    this.entries = []
    this.pendingBytes = 0
    // Group into payloads under the size limit, preserving order.
    let start = 0
    let size = 0
    for (let i = 0; i < entries.length; i++) {
      if (i > start && size + entries[i].size > this.opts.payloadMaxBytes) {
        this.track(this.sendPayload(entries.slice(start, i)))
        start = i
        size = 0
      }
      size += entries[i].size
    }
    this.track(this.sendPayload(start === 0 ? entries : entries.slice(start)))
  }

  private track (p: Promise<void>): void {
    this.inflight.add(p)
    void p.finally(() => this.inflight.delete(p))
  }

  private async sendPayload (entries: Entry[]): Promise<void> {
    const version = entries[0].bytes !== undefined ? 'v0.4' : 'v0.5'
    let body: Buffer
    try {
      body = version === 'v0.4' ? assemblePayloadV04(entries.map((e) => e.bytes as Uint8Array)) : this.buildV05(entries)
    } catch (err) {
      log.internalError('trace_writer.assemble', err)
      this.release(entries)
      this.settle({ acknowledged: false, chunks: entries.map((e) => e.chunk), reason: 'encoding_error', detail: 'payload could not be assembled' })
      return
    }
    let result: TransportResult
    try {
      result = await this.opts.transport.send({
        method: 'PUT',
        path: `/${version}/traces`,
        headers: {
          'Content-Type': 'application/msgpack',
          'X-Datadog-Trace-Count': String(entries.length),
          'Datadog-Meta-Lang': 'nodejs',
          'Datadog-Meta-Lang-Version': process.version,
          'Datadog-Meta-Lang-Interpreter': 'v8',
          'Datadog-Meta-Tracer-Version': TRACER_VERSION,
          // Without it an overloaded Agent answers 200 and silently drops the payload.
          'Datadog-Send-Real-Http-Status': 'true',
        },
        body,
        timeoutMs: this.opts.requestTimeoutMs,
      })
    } catch (err) {
      result = { kind: 'failed', reason: `transport threw: ${(err as Error)?.message}` }
    }

    if (result.kind === 'ok') {
      this.stats.payloadsSent++
      this.stats.bytesSent += body.length
      this.readRates(result.body)
      this.release(entries)
      this.stats.chunksAcknowledged += entries.length
      this.settle({ acknowledged: true, chunks: entries.map((e) => e.chunk), status: result.status })
      return
    }
    if (result.status === 413 && entries.length > 1) {
      // The agent's limit may be below ours; halves are retried independently.
      this.stats.payloadsSplit++
      const mid = entries.length >> 1
      await Promise.all([this.sendPayload(entries.slice(0, mid)), this.sendPayload(entries.slice(mid))])
      return
    }
    this.stats.payloadsFailed++
    this.release(entries)
    const reason: TraceFailureReason = result.status === 413 ? 'too_large' : result.kind === 'failed' && result.status !== undefined && result.status < 500 && result.status !== 429 ? 'refused' : 'retries_exhausted'
    log.warnOnce(`trace_writer.failed.${reason}`, `trace payload not accepted (${result.reason}); ${entries.length} chunk(s) dropped from APM (further failures counted silently)`)
    this.settle({ acknowledged: false, chunks: entries.map((e) => e.chunk), reason, detail: result.reason, status: result.status })
  }

  private buildV05 (entries: Entry[]): Buffer {
    const builder = new V05PayloadBuilder()
    for (const e of entries) builder.addChunk(e.chunk.spans, this.stats.encode)
    return builder.finish()
  }

  private release (entries: Entry[]): void {
    for (const e of entries) this.heldBytes -= e.size
  }

  private readRates (body: string): void {
    if (this.opts.onRates === undefined || body === '') return
    try {
      const parsed = JSON.parse(body) as { rate_by_service?: unknown }
      const rates = parsed.rate_by_service
      if (rates !== null && typeof rates === 'object') this.opts.onRates(rates as Record<string, number>)
    } catch {
      log.debug(() => `agent response is not JSON: ${body.slice(0, 100)}`)
    }
  }

  private settle (fate: PayloadFate): void {
    if (!fate.acknowledged) {
      this.stats.chunksFailed[fate.reason] = (this.stats.chunksFailed[fate.reason] ?? 0) + fate.chunks.length
    }
    for (const l of this.listeners) {
      try { l(fate) } catch (err) { log.internalError('trace_writer.listener', err) }
    }
  }
}

/** v0.5 strings are interned per payload; a rough per-span figure is enough for the byte cap. */
function estimateV05Size (chunk: Chunk): number {
  let size = 8
  for (const s of chunk.spans) {
    size += 64
    for (const k in s.meta) size += k.length + s.meta[k].length + 4
    for (const k in s.metrics) size += k.length + 12
  }
  return size
}
