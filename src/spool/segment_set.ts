import { closeSync, fsyncSync, openSync, unlinkSync, writeSync, writevSync } from 'node:fs'
import { join } from 'node:path'
import type { FsyncPolicy } from '../config/llmobs_config.js'
import { log } from '../diag/logger.js'
import { AppendBatch } from './append_batch.js'
import { BATCH_ENTRY_HEAD, encodeRelease, type EventKind } from './record_codec.js'

/**
 * One segment file: appends while it is the active one, releases for as long as any of its
 * events is unsettled, then deleted whole. `bytes` counts what is written and what waits for
 * the next write batch.
 */
export class Segment {
  fd: number | undefined
  /** The file exists (it is created at its first write, so a segment settled in time never touches the disk). */
  onDisk: boolean
  gone = false
  dirty = false
  pending: Buffer[] = []
  releases: number[] = []
  constructor (
    readonly path: string,
    public bytes: number,
    /** Events appended to it and not released. */
    public live: number,
    /** Adopted from a dead owner: never appended to, only released. */
    readonly adopted: boolean,
    readonly onGone: (() => void) | undefined,
  ) {
    this.onDisk = adopted
  }
}

/** What an event's record holds to be released later. */
export interface SpoolRef { readonly seg: Segment, readonly seq: number, readonly bytes: number }

export interface SegmentSetOptions {
  maxBytes: number
  fsync: FsyncPolicy
  fsyncIntervalMs: number
  segmentMaxBytes: number
}

/**
 * This process's segments (and those it adopted). Appends and releases are collected during a
 * turn of the event loop and written in one synchronous write per segment at the next
 * setImmediate: an event is on disk (in the OS's page cache, so it survives a kill of the
 * process) once the loop turned; `fsync` decides when it also survives a power loss.
 *
 * Every fs error is caught and counted. A failed write stops the spool for the rest of the
 * process (warned once): events keep travelling in memory as they would without a spool, and
 * the exit stops treating them as safe on disk.
 */
export class SegmentSet {
  private active: Segment | undefined
  /** This turn's appends, all to one segment (the active one when they were made). */
  private readonly batch = new AppendBatch()
  private batchSeg: Segment | undefined
  private readonly segments = new Set<Segment>()
  private nextSegment = 1
  private nextSeq = 1
  private totalBytes = 0
  private scheduled = false
  private syncTimer: NodeJS.Timeout | undefined
  private readonly flushBound = (): void => { this.scheduled = false; this.write() }
  broken = false
  spooled = 0
  /** Bytes written to segment files (appends and releases), over the process's life. */
  bytesWritten = 0
  full = 0
  writeErrors = 0

  constructor (private readonly dir: string, private readonly opts: SegmentSetOptions) {}

  /** 'full': past maxBytes, the event is not spooled; undefined: the spool is broken. */
  append (kind: EventKind, json: string): SpoolRef | 'full' | undefined {
    if (this.broken) return undefined
    // json.length is a lower bound of its UTF-8 size: a cheap first check, the exact one follows.
    if (this.totalBytes + BATCH_ENTRY_HEAD + json.length > this.opts.maxBytes) return this.noteFull()
    let seg = this.active
    if (seg === undefined || (seg.bytes > 0 && seg.bytes + BATCH_ENTRY_HEAD + json.length > this.opts.segmentMaxBytes)) {
      seg = this.active = new Segment(join(this.dir, `seg-${String(this.nextSegment++).padStart(6, '0')}.log`), 0, 0, false, undefined)
      this.segments.add(seg)
    }
    if (this.batchSeg !== seg) {
      // A roll-over in mid-turn: the old segment's appends leave the reused buffer as a copy.
      const sealed = this.batch.seal()
      if (sealed !== undefined && this.batchSeg !== undefined) this.batchSeg.pending.push(Buffer.from(sealed))
      this.batchSeg = seg
    }
    const seq = this.nextSeq
    const bytes = this.batch.add(seq, kind, json)
    if (this.totalBytes + bytes > this.opts.maxBytes) {
      this.batch.undoLast()
      return this.noteFull()
    }
    this.nextSeq++
    seg.bytes += bytes
    seg.live++
    this.totalBytes += bytes
    this.spooled++
    this.schedule()
    return { seg, seq, bytes }
  }

  private noteFull (): 'full' {
    this.full++
    log.warnOnce('spool.full', `the LLM Observability spool reached its limit of ${this.opts.maxBytes} bytes: new events travel in memory only until it drains (counted as spool.full)`)
    return 'full'
  }

  /** A segment read back from a dead owner, with `live` events still owed. */
  adopt (path: string, bytes: number, live: number, onGone: () => void): Segment {
    const seg = new Segment(path, bytes, live, true, onGone)
    this.segments.add(seg)
    this.totalBytes += bytes
    return seg
  }

  release (ref: SpoolRef): void {
    const seg = ref.seg
    if (seg.gone) return
    seg.live--
    if (seg.live <= 0) {
      // Everything it holds is settled: delete the segment instead of recording the release.
      // The active one too, so an idle process keeps no files; the next append starts a new one.
      this.remove(seg)
      return
    }
    seg.releases.push(ref.seq)
    if (seg.releases.length === 1) this.schedule()
  }

  /** Everything appended so far is written (and fsynced, unless fsync is `never`). */
  get durable (): boolean {
    if (this.broken) return false
    const never = this.opts.fsync === 'never'
    if (this.batch.count > 0) return false
    for (const seg of this.segments) if (seg.pending.length > 0 || (seg.dirty && !never)) return false
    return true
  }

  /** Writes what waits and fsyncs it now (exit paths): after it, `durable` holds unless the disk failed. */
  syncNow (): void {
    this.write()
    if (this.opts.fsync !== 'never') this.fsyncDirty()
  }

  /** Bytes on disk or about to be. */
  get bytes (): number { return this.totalBytes }
  get segmentCount (): number { return this.segments.size }
  get hasLive (): boolean { return this.segments.size > 0 }

  /** Closes every file (process exit); segments stay on disk for the next process to replay. */
  close (): void {
    if (this.syncTimer !== undefined) clearTimeout(this.syncTimer)
    for (const seg of this.segments) this.closeFd(seg)
  }

  private schedule (): void {
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(this.flushBound)
  }

  private write (): void {
    if (this.broken) return
    let wrote = false
    for (const seg of this.segments) {
      // Appends before releases: a release read before its append would settle nothing.
      const appends = seg === this.batchSeg ? this.batch.seal() : undefined
      if (appends !== undefined) seg.pending.push(appends)
      if (seg.releases.length > 0) {
        const frame = encodeRelease(seg.releases)
        seg.pending.push(frame)
        seg.releases = []
        // Releases may take the spool past maxBytes: they are what lets it shrink.
        seg.bytes += frame.length
        this.totalBytes += frame.length
      }
      if (seg.pending.length === 0) continue
      const bufs = seg.pending
      seg.pending = []
      try {
        if (seg.fd === undefined) {
          // 'ax': a new segment never reuses a file; an adopted one is appended to.
          seg.fd = openSync(seg.path, seg.onDisk ? 'a' : 'ax', 0o600)
          seg.onDisk = true
        }
        this.bytesWritten += writeAll(seg.fd, bufs)
        seg.dirty = true
        wrote = true
      } catch (err) {
        this.fail(err)
        return
      }
    }
    if (!wrote) return
    if (this.opts.fsync === 'always') this.fsyncDirty()
    else if (this.opts.fsync === 'interval' && this.syncTimer === undefined) {
      this.syncTimer = setTimeout(() => { this.syncTimer = undefined; this.fsyncDirty() }, this.opts.fsyncIntervalMs)
      this.syncTimer.unref()
    }
  }

  private fsyncDirty (): void {
    for (const seg of this.segments) {
      if (!seg.dirty || seg.fd === undefined) continue
      try {
        fsyncSync(seg.fd)
        seg.dirty = false
      } catch (err) {
        this.fail(err)
        return
      }
    }
  }

  private remove (seg: Segment): void {
    seg.gone = true
    seg.pending = []
    // Every append of this turn to it is settled already: none is written.
    if (this.batchSeg === seg) { this.batch.clear(); this.batchSeg = undefined }
    seg.releases = []
    this.segments.delete(seg)
    this.totalBytes -= seg.bytes
    if (this.active === seg) this.active = undefined
    this.closeFd(seg)
    if (seg.onDisk) {
      try { unlinkSync(seg.path) } catch (err) { this.count(err) }
    }
    if (seg.onGone !== undefined) {
      try { seg.onGone() } catch (err) { this.count(err) }
    }
  }

  private closeFd (seg: Segment): void {
    if (seg.fd === undefined) return
    try { closeSync(seg.fd) } catch (err) { this.count(err) }
    seg.fd = undefined
  }

  private fail (err: unknown): void {
    this.count(err)
    this.broken = true
    log.warnOnce('spool.broken', () => `the LLM Observability spool cannot write to ${this.dir} (${(err as Error)?.message}); continuing without it: events travel in memory only`)
  }

  private count (err: unknown): void {
    this.writeErrors++
    log.internalError('spool.fs', err)
  }
}

/** One writev for a segment's turn; a short write (a full disk, a signal) continues where it stopped. */
function writeAll (fd: number, bufs: Buffer[]): number {
  let total = 0
  for (const b of bufs) total += b.length
  let done = writevSync(fd, bufs)
  if (done === total) return total
  let off = 0
  for (const b of bufs) {
    const end = off + b.length
    if (done < end) {
      let at = Math.max(0, done - off)
      while (at < b.length) { at += writeSync(fd, b, at, b.length - at) }
      done = end
    }
    off = end
  }
  return total
}
