import { closeSync, fsyncSync, openSync, unlinkSync, writeSync } from 'node:fs'
import { join } from 'node:path'
import type { FsyncPolicy } from '../config/llmobs_config.js'
import { log } from '../diag/logger.js'
import { encodeAppend, encodeRelease, type EventKind } from './record_codec.js'

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
    const seq = this.nextSeq++
    const frame = encodeAppend(seq, kind, json)
    if (this.totalBytes + frame.length > this.opts.maxBytes) {
      this.full++
      log.warnOnce('spool.full', `the LLM Observability spool reached its limit of ${this.opts.maxBytes} bytes: new events travel in memory only until it drains (counted as spool.full)`)
      return 'full'
    }
    let seg = this.active
    if (seg === undefined || (seg.bytes > 0 && seg.bytes + frame.length > this.opts.segmentMaxBytes)) {
      seg = this.active = new Segment(join(this.dir, `seg-${String(this.nextSegment++).padStart(6, '0')}.log`), 0, 0, false, undefined)
      this.segments.add(seg)
    }
    seg.pending.push(frame)
    seg.bytes += frame.length
    seg.live++
    this.totalBytes += frame.length
    this.spooled++
    this.schedule()
    return { seg, seq, bytes: frame.length }
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
      if (seg.releases.length > 0) {
        const frame = encodeRelease(seg.releases)
        seg.pending.push(frame)
        seg.releases = []
        // Releases may take the spool past maxBytes: they are what lets it shrink.
        seg.bytes += frame.length
        this.totalBytes += frame.length
      }
      if (seg.pending.length === 0) continue
      const buf = seg.pending.length === 1 ? seg.pending[0] : Buffer.concat(seg.pending)
      seg.pending = []
      try {
        if (seg.fd === undefined) {
          // 'ax': a new segment never reuses a file; an adopted one is appended to.
          seg.fd = openSync(seg.path, seg.onDisk ? 'a' : 'ax', 0o600)
          seg.onDisk = true
        }
        let off = 0
        while (off < buf.length) off += writeSync(seg.fd, buf, off, buf.length - off)
        this.bytesWritten += buf.length
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
