import { log } from '../diag/logger.js'
import { MsgpackWriter } from '../encode/msgpack_writer.js'
import { assemblePayloadV04, encodeChunkV04 } from '../encode/v04.js'
import { assemblePayloadJson, encodeChunkJson } from '../encode/agentless_json.js'
import { V05PayloadBuilder } from '../encode/v05.js'
import { newEncodeStats, type EncodeStats } from '../encode/encode_stats.js'
import type { Transport, TransportRequest, TransportResult } from '../transport/result.js'
import type { Chunk, TraceState } from '../model/trace_state.js'
import { TRACER_VERSION } from '../version.js'
import type { FateListener, PayloadFate, TraceFailureReason } from './payload_fate.js'

export interface TraceWriterOptions {
  transport: Transport
  apiVersion: 'v0.4' | 'v0.5'
  flushIntervalMs: number
  bufferCapBytes: number
  payloadMaxBytes: number
  /** Send as soon as this many bytes wait, before the interval ends (defaults to payloadMaxBytes). */
  flushAtBytes?: number
  requestTimeoutMs: number
  /** Receives `rate_by_service` from each agent response (feeds the priority sampler). */
  onRates?: (rates: Record<string, number>) => void
}

/**
 * A buffered chunk. For v0.4 only its byte range in the payload being built is kept (`start`,
 * `end`); v0.5 keeps the spans, encoded when the payload is built.
 */
/** `spanCount` survives encoding (`spans` does not) for the debug log of what was sent. */
interface Entry { riders: unknown[] | undefined, spans: Chunk['spans'] | undefined, spanCount: number, start: number, end: number, size: number, json?: string }

/** Agentless APM: JSON chunks to the trace intake (`/v1/input`) instead of msgpack to an agent. */
export interface AgentlessTraceDestination {
  transport: Transport
  path: string
  headers: Record<string, string>
}

/**
 * One payload, from its first buffered chunk to its fate: request-scoped flushes find the
 * payload carrying a trace's chunks through it, and wait for that payload only.
 */
interface PayloadRef {
  done: boolean
  /** Created only when a request-scoped flush waits on it. */
  settled: Promise<void> | undefined
  resolve: (() => void) | undefined
}

/**
 * Payloads started by request-scoped flushes while this many are in flight wait for a slot: the
 * chunks of every request finishing meanwhile then leave together in the next one, instead of
 * a request each queueing behind the transport's connection pool (8 sockets).
 */
const TRACE_FLUSH_CONCURRENCY = 4

/** Room left in front of a v0.4 payload for its array header (at most 5 bytes: array32). */
const HEADER_ROOM = 5
const NO_HEADER = new Uint8Array(HEADER_ROOM)

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
 * v0.4 chunks are encoded once, on append, straight into the next payload's buffer (room is left
 * in front for the array header), so sending copies nothing; each chunk's byte range is kept so
 * a 413 can still be split in halves without re-encoding. v0.5 shares one string table per
 * payload, so its chunks are encoded when the payload is built.
 */
export class TraceWriter {
  readonly stats: TraceWriterStats = {
    chunksAppended: 0, chunksAcknowledged: 0, chunksFailed: {}, payloadsSent: 0, payloadsFailed: 0, payloadsSplit: 0, bytesSent: 0, encode: newEncodeStats(),
  }

  private apiVersion: 'v0.4' | 'v0.5'
  private agentless: AgentlessTraceDestination | undefined
  private entries: Entry[] = []
  private pendingBytes = 0
  /** Buffered plus in-flight bytes, checked against the cap. */
  private heldBytes = 0
  private readonly inflight = new Set<Promise<void>>()
  private readonly listeners: FateListener[] = []
  /** The v0.4 payload being filled; replaced (not reused) when sent, since the send holds it. */
  /** Created on the first chunk after a send, sized from the last payload: an idle writer holds none. */
  private body: MsgpackWriter | undefined
  /** Size of the last payload, to size the next buffer and skip most growth copies. */
  private lastPayloadBytes = 0
  private timer: NodeJS.Timeout | undefined
  private closed = false
  /** The payload being buffered. */
  private current: PayloadRef = newRef()
  /** A request-scoped flush found every slot taken: send the buffer when one frees. */
  private sendWhenSlotFrees = false

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

  /**
   * Sends APM chunks as agentless JSON to the trace intake from now on (LLM Observability's
   * apm_agentless mode; `undefined` returns to the agent). What is buffered goes out first.
   */
  useAgentless (dest: AgentlessTraceDestination | undefined): void {
    this.sendBuffered()
    this.agentless = dest
  }

  get agentlessDestination (): AgentlessTraceDestination | undefined { return this.agentless }

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
      this.settleOne(chunk, { reason: 'shutdown', detail: 'writer already shut down' })
      return
    }
    if (this.agentless !== undefined) {
      let json: string
      try {
        json = encodeChunkJson(chunk.spans)
      } catch (err) {
        log.internalError('trace_writer.json', err)
        this.settleOne(chunk, { reason: 'encoding_error', detail: 'chunk could not be encoded as JSON' })
        return
      }
      this.buffer(chunk, { riders: chunk.riders, spans: undefined, spanCount: chunk.spans.length, start: 0, end: 0, size: Buffer.byteLength(json), json })
      return
    }
    if (this.apiVersion === 'v0.5') {
      this.buffer(chunk, { riders: chunk.riders, spans: chunk.spans, spanCount: chunk.spans.length, start: 0, end: 0, size: estimateV05Size(chunk) })
      return
    }
    let body = this.body ??= newBody(Math.min(this.lastPayloadBytes, this.opts.payloadMaxBytes))
    const start = body.length
    let result = encodeChunkV04(chunk.spans, body, this.stats.encode)
    if (result === 'overflow' && this.entries.length > 0) {
      // The payload buffer is full: send what it holds and try again on an empty one.
      this.sendBuffered()
      body = this.body ??= newBody(Math.min(this.lastPayloadBytes, this.opts.payloadMaxBytes))
      result = encodeChunkV04(chunk.spans, body, this.stats.encode)
    }
    if (result !== 'ok') {
      this.settleOne(chunk, { reason: 'encoding_error', detail: result === 'overflow' ? 'chunk larger than the encoder cap' : 'internal encoder error' })
      return
    }
    let end = body.length
    const size = end - start
    if (size > this.opts.payloadMaxBytes) {
      body.truncate(start)
      this.settleOne(chunk, { reason: 'too_large', detail: `chunk of ${size} bytes is over the ${this.opts.payloadMaxBytes}-byte payload limit` })
      return
    }
    if (this.entries.length > 0 && this.pendingBytes + size > this.opts.payloadMaxBytes) {
      // The payload cap holds for every payload, not only for one chunk: this chunk starts the
      // next one. Rare (one chunk near the cap), so a copy is fine.
      const bytes = Buffer.from(body.view(start, end))
      body.truncate(start)
      this.sendBuffered()
      body = this.body ??= newBody(Math.min(this.lastPayloadBytes, this.opts.payloadMaxBytes))
      const at = body.length
      body.writeRaw(bytes)
      end = body.length
      if (!this.buffer(chunk, { riders: chunk.riders, spans: undefined, spanCount: chunk.spans.length, start: at, end, size })) body.truncate(at)
      return
    }
    if (!this.buffer(chunk, { riders: chunk.riders, spans: undefined, spanCount: chunk.spans.length, start, end, size })) body.truncate(start)
  }

  /**
   * A chunk that will not be sent (APM export turned off while events still rode on it, after
   * an LLMObs disable/enable that changed modes): its fate is reported so its riders are rescued.
   */
  discard (chunk: Chunk): void {
    if (chunk.riders !== undefined && chunk.riders.length > 0) this.settleOne(chunk, { reason: 'not_exported', detail: 'APM export is off' })
  }

  private buffer (chunk: Chunk, entry: Entry): boolean {
    const size = entry.size
    if (entry.json !== undefined || entry.spans !== undefined) {
      // JSON and v0.5 payloads are assembled at send time: the same cap, applied before buffering.
      if (size > this.opts.payloadMaxBytes) {
        this.settleOne(chunk, { reason: 'too_large', detail: `chunk of about ${size} bytes is over the ${this.opts.payloadMaxBytes}-byte payload limit` })
        return false
      }
      if (this.entries.length > 0 && this.pendingBytes + size > this.opts.payloadMaxBytes) this.sendBuffered()
    }
    if (this.heldBytes + size > this.opts.bufferCapBytes) {
      this.settleOne(chunk, { reason: 'buffer_full', detail: `trace buffer cap of ${this.opts.bufferCapBytes} bytes reached` })
      return false
    }
    this.entries.push(entry)
    this.pendingBytes += size
    this.heldBytes += size
    this.notePayload(chunk.trace)
    if (this.pendingBytes >= (this.opts.flushAtBytes ?? this.opts.payloadMaxBytes)) this.sendBuffered()
    else this.arm()
    return true
  }

  /**
   * Sends everything buffered and resolves when every payload in flight at the call has settled, or after
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
    // Only what exists now: payloads started later (sustained traffic) must not hold the caller.
    // A 413 split is awaited inside its parent payload's promise, so the snapshot covers it.
    const settled = Promise.all([...this.inflight])
    try {
      await Promise.race([settled, expired])
    } finally {
      clearTimeout(hold)
      clearInterval(hold)
    }
  }

  /**
   * Request-scoped flush: sends the buffered payload now if it holds chunks of `trace`, and
   * resolves when every payload carrying them has settled (its fate reported, so riders are
   * delivered or handed to LLM Observability), or after `timeoutMs`. Other traces' payloads in
   * flight are not waited for.
   */
  async flushTrace (trace: TraceState, timeoutMs: number): Promise<void> {
    const refs = payloadsOf(trace)
    if (refs === undefined) return
    if (refs.includes(this.current)) {
      if (this.inflight.size < TRACE_FLUSH_CONCURRENCY) this.sendBuffered()
      else this.sendWhenSlotFrees = true
    }
    const waits: Array<Promise<void>> = []
    for (const r of refs) {
      if (r.done) continue
      r.settled ??= new Promise<void>((resolve) => { r.resolve = resolve })
      waits.push(r.settled)
    }
    if (waits.length === 0) return
    let hold: NodeJS.Timeout | undefined
    try {
      // Ref'ed: the caller awaiting its flush wants the process held (unlike background sends).
      await Promise.race([Promise.all(waits), new Promise<void>((resolve) => { hold = setTimeout(resolve, timeoutMs) })])
    } finally {
      clearTimeout(hold)
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
    this.sendWhenSlotFrees = false
    if (this.entries.length === 0) return
    const entries = this.entries
    const ref = this.current
    this.entries = []
    this.pendingBytes = 0
    this.current = newRef()
    if (entries[0].json !== undefined || this.apiVersion === 'v0.5') {
      this.track(this.sendPayload(entries, undefined, undefined), ref)
      return
    }
    const body = this.body as MsgpackWriter
    this.lastPayloadBytes = body.length
    this.body = undefined
    this.track(this.sendPayload(entries, withHeader(body, entries.length), body.view()), ref)
  }

  private track (p: Promise<void>, ref: PayloadRef): void {
    this.inflight.add(p)
    void p.finally(() => {
      this.inflight.delete(p)
      ref.done = true
      ref.resolve?.()
      try {
        if (this.sendWhenSlotFrees) this.sendBuffered()
      } catch (err) {
        log.internalError('trace_writer.slot', err)
      }
    })
  }

  /** Remembers that the buffered payload holds a chunk of `trace` (most traces: one payload). */
  private notePayload (trace: TraceState): void {
    const slot = trace.payloadSlot as PayloadRef | PayloadRef[] | undefined
    // Most traces leave in one payload: the slot holds that ref itself, no array.
    if (slot === undefined) { trace.payloadSlot = this.current; return }
    if (slot === this.current) return
    if (!Array.isArray(slot)) { trace.payloadSlot = slot.done ? this.current : [slot, this.current]; return }
    if (slot[slot.length - 1] === this.current) return
    // A long trace leaves in many payloads: forget the settled ones.
    const live = slot.filter((r) => !r.done)
    live.push(this.current)
    trace.payloadSlot = live
  }

  /**
   * `v04Body` is the encoded payload and `source` the buffer the entries' ranges index;
   * `v04Body` undefined means v0.5 (built here from the chunks).
   */
  private async sendPayload (entries: Entry[], v04Body: Buffer | undefined, source: Buffer | undefined): Promise<void> {
    const json = entries[0].json !== undefined
    const version = v04Body !== undefined ? 'v0.4' : (json ? 'json' : 'v0.5')
    let body: Buffer | string
    try {
      body = v04Body ?? (json ? assemblePayloadJson(entries.map((e) => e.json as string)) : this.buildV05(entries))
    } catch (err) {
      log.internalError('trace_writer.assemble', err)
      this.release(entries)
      this.settle({ acknowledged: false, chunkCount: entries.length, riders: ridersOf(entries), reason: 'encoding_error', detail: 'payload could not be assembled' })
      return
    }
    let result: TransportResult
    const agentless = json ? this.agentless : undefined
    const transport = agentless?.transport ?? this.opts.transport
    const request: Pick<TransportRequest, 'method' | 'path' | 'headers'> = agentless !== undefined
      ? { method: 'POST' as const, path: agentless.path, headers: { 'Content-Type': 'application/json', 'Datadog-Meta-Lang': 'nodejs', 'Datadog-Meta-Tracer-Version': TRACER_VERSION, ...agentless.headers } }
      : {
          method: 'PUT' as const,
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
        }
    try {
      result = await transport.send({ ...request, body, timeoutMs: this.opts.requestTimeoutMs })
    } catch (err) {
      result = { kind: 'failed', reason: `transport threw: ${(err as Error)?.message}` }
    }

    if (result.kind === 'ok') {
      log.debug(() => `sent trace payload ${version}: ${entries.length} chunk(s), ${entries.reduce((n, e) => n + e.spanCount, 0)} span(s), ${Buffer.byteLength(body)} bytes to ${request.path} (HTTP ${result.status})`)
      this.stats.payloadsSent++
      this.stats.bytesSent += Buffer.byteLength(body)
      if (!json) this.readRates(result.body)
      this.release(entries)
      this.stats.chunksAcknowledged += entries.length
      this.settle({ acknowledged: true, chunkCount: entries.length, riders: ridersOf(entries), status: result.status })
      return
    }
    if (result.status === 413 && entries.length > 1) {
      // The agent's limit may be below ours; halves are retried independently.
      this.stats.payloadsSplit++
      const mid = entries.length >> 1
      const halves = [entries.slice(0, mid), entries.slice(mid)]
      if (version === 'v0.4') {
        const from = source as Buffer
        await Promise.all(halves.map((h) => this.sendPayload(h, assemblePayloadV04(h.map((e) => from.subarray(e.start, e.end))), from)))
      } else {
        await Promise.all(halves.map((h) => this.sendPayload(h, undefined, undefined)))
      }
      return
    }
    this.stats.payloadsFailed++
    this.release(entries)
    const reason: TraceFailureReason = result.status === 413 ? 'too_large' : result.kind === 'failed' && result.status !== undefined && result.status < 500 && result.status !== 429 ? 'refused' : 'retries_exhausted'
    log.warnOnce(`trace_writer.failed.${reason}`, `trace payload not accepted (${result.reason}); ${entries.length} chunk(s) dropped from APM (further failures counted silently)`)
    this.settle({ acknowledged: false, chunkCount: entries.length, riders: ridersOf(entries), reason, detail: result.reason, status: result.status })
  }

  private buildV05 (entries: Entry[]): Buffer {
    const builder = new V05PayloadBuilder()
    for (const e of entries) builder.addChunk(e.spans ?? [], this.stats.encode)
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

  private settleOne (chunk: Chunk, failure: { reason: TraceFailureReason, detail: string }): void {
    this.settle({ acknowledged: false, chunkCount: 1, riders: chunk.riders ?? NO_RIDERS, reason: failure.reason, detail: failure.detail })
  }

  private settle (fate: PayloadFate): void {
    if (!fate.acknowledged) {
      this.stats.chunksFailed[fate.reason] = (this.stats.chunksFailed[fate.reason] ?? 0) + fate.chunkCount
    }
    for (const l of this.listeners) {
      try { l(fate) } catch (err) { log.internalError('trace_writer.listener', err) }
    }
  }
}

const NO_RIDERS: unknown[] = []

/** Payloads (buffered or in flight) noted as holding chunks of `trace`. */
function payloadsOf (trace: TraceState): PayloadRef[] | undefined {
  const slot = trace.payloadSlot as PayloadRef | PayloadRef[] | undefined
  return slot === undefined || Array.isArray(slot) ? slot : [slot]
}

function newRef (): PayloadRef {
  return { done: false, settled: undefined, resolve: undefined }
}

function ridersOf (entries: Entry[]): unknown[] {
  let out: unknown[] | undefined
  for (const e of entries) {
    if (e.riders === undefined) continue
    if (out === undefined) out = []
    for (const r of e.riders) out.push(r)
  }
  return out ?? NO_RIDERS
}

function newBody (expectedBytes: number): MsgpackWriter {
  // An eighth more than last time: steady traffic fills it without doubling-and-copying.
  const w = new MsgpackWriter({ initialCapacity: Math.max(64 * 1024, Math.ceil(expectedBytes * 1.125)) })
  w.writeRaw(NO_HEADER)
  return w
}

/**
 * The finished payload: the array header written right-aligned into the room left in front,
 * then a view from there to the end. Chunk ranges stay valid (they index the same buffer).
 */
function withHeader (body: MsgpackWriter, count: number): Buffer {
  const all = body.view()
  let at: number
  if (count < 16) {
    at = HEADER_ROOM - 1
    all[at] = 0x90 | count
  } else if (count < 0x10000) {
    at = HEADER_ROOM - 3
    all[at] = 0xdc
    all.writeUInt16BE(count, at + 1)
  } else {
    at = 0
    all[0] = 0xdd
    all.writeUInt32BE(count, 1)
  }
  return all.subarray(at)
}

/** v0.5 strings are interned per payload; a rough per-span figure is enough for the byte cap. */
function estimateV05Size (chunk: Chunk): number {
  let size = 8
  for (const s of chunk.spans) {
    size += 64 + s.service.length + s.name.length + s.resource.length + s.type.length
    for (const k in s.meta) size += k.length + s.meta[k].length + 4
    for (const k in s.metrics) size += k.length + 12
  }
  return size
}
