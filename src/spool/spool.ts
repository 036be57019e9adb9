import { mkdirSync, rmSync } from 'node:fs'
import { DEFAULTS } from '../config/defaults.js'
import type { SpoolConfig } from '../config/llmobs_config.js'
import { log } from '../diag/logger.js'
import type { SpoolCounters } from '../export/ledger.js'
import { createOwnerDir } from './owner_lock.js'
import type { EventKind } from './record_codec.js'
import { claimDead, readAdopted, type ReplayCounters } from './replay.js'
import { SegmentSet, type SpoolRef } from './segment_set.js'

export type { SpoolRef } from './segment_set.js'

/** What the spool did so far (one definition, beside the ledger's stats that carry it). */
export type SpoolStats = SpoolCounters

/** Where replayed events go: false when no one can take them now (they stay on disk). */
export type ReplaySink = (kind: EventKind, json: string, ref: SpoolRef) => boolean

/**
 * The durable spool (DESIGN §10): every LLMObs event and evaluation, as the writer will send it,
 * appended when created and released when its fate is settled; segments of dead processes
 * adopted and replayed. Opened at most once per SDK instance and kept across enable/disable,
 * as the ledgers are.
 */
export class Spool {
  private readonly set: SegmentSet
  private readonly counters: ReplayCounters = { adoptedOwners: 0, adoptedSegments: 0, tornTails: 0, corruptSegments: 0, readErrors: 0 }
  private evaluationsSpooled = 0
  private evaluationsReplayed = 0
  /** Refs handed out (own appends and replayed events) whose release has not come yet. */
  private handedLive = 0
  private replayItems = 0
  private replayBytes = 0
  private wakeReplay: (() => void) | undefined
  private readonly onExit = (): void => this.closeAtExit()

  /** Undefined when the directory cannot be used: warned once, the SDK runs without a spool. */
  static open (config: SpoolConfig): Spool | undefined {
    let ownDir: string
    try {
      mkdirSync(config.dir, { recursive: true, mode: 0o700 })
      ownDir = createOwnerDir(config.dir)
    } catch (err) {
      log.warnOnce('spool.unwritable', () => `the LLM Observability spool directory ${config.dir} cannot be used (${(err as Error)?.message}); running without a spool`)
      return undefined
    }
    return new Spool(config, ownDir)
  }

  private constructor (private readonly config: SpoolConfig, readonly ownDir: string) {
    this.set = new SegmentSet(ownDir, {
      maxBytes: config.maxBytes,
      fsync: config.fsync,
      fsyncIntervalMs: DEFAULTS.spool.fsyncIntervalMs,
      segmentMaxBytes: Math.min(DEFAULTS.spool.segmentMaxBytes, Math.max(4096, Math.floor(config.maxBytes / 4))),
    })
    process.on('exit', this.onExit)
  }

  /** Undefined: not spooled (full, or the spool broke); the event travels in memory only. */
  append (kind: EventKind, json: string): SpoolRef | undefined {
    try {
      const ref = this.set.append(kind, json)
      if (ref === undefined || ref === 'full') return undefined
      this.handedLive++
      if (kind === 'eval') this.evaluationsSpooled++
      return ref
    } catch (err) {
      log.internalError('spool.append', err)
      return undefined
    }
  }

  release (ref: SpoolRef): void {
    try {
      this.handedLive--
      if (ref.seg.adopted) {
        this.replayItems--
        this.replayBytes -= ref.bytes
        const wake = this.wakeReplay
        this.wakeReplay = undefined
        wake?.()
      }
      this.set.release(ref)
    } catch (err) {
      log.internalError('spool.release', err)
    }
  }

  /**
   * Whether all `pending` events are safe on disk: every one of them is spooled and every
   * append is written and fsynced. Then an exit loses nothing by not waiting for delivery.
   */
  holdsAll (pending: number): boolean {
    return pending === this.handedLive && this.set.durable
  }

  /** Writes and fsyncs what waits (exit paths). */
  syncNow (): void {
    try { this.set.syncNow() } catch (err) { log.internalError('spool.sync', err) }
  }

  /**
   * Adopts the segments of dead owners and hands their unsettled events to `sink`, at most
   * DEFAULTS.spool.replay* of them unsettled at a time. Events not handed out (no sink, or this
   * process exits first) stay in this process's set, and its successor replays them.
   */
  async replay (sink: ReplaySink): Promise<void> {
    const limits = DEFAULTS.spool
    for (const tree of claimDead(this.config.dir, this.ownDir, this.counters)) {
      for (const owed of readAdopted(tree, this.config.dir, this.set, this.counters)) {
        for (const ev of owed.events) {
          while (this.replayItems >= limits.replayMaxItems || this.replayBytes >= limits.replayMaxBytes) {
            await new Promise<void>((resolve) => { this.wakeReplay = resolve })
          }
          this.replayItems++
          this.replayBytes += ev.ref.bytes
          this.handedLive++
          let taken = false
          try { taken = sink(ev.kind, ev.json, ev.ref) } catch (err) { log.internalError('spool.replay', err) }
          if (!taken) {
            this.replayItems--
            this.replayBytes -= ev.ref.bytes
            this.handedLive--
            return
          }
          if (ev.kind === 'eval') this.evaluationsReplayed++
        }
      }
    }
  }

  stats (): SpoolStats {
    const c = this.counters
    return {
      spooled: this.set.spooled - this.evaluationsSpooled,
      evaluationsSpooled: this.evaluationsSpooled,
      full: this.set.full,
      errors: this.set.writeErrors + c.readErrors,
      bytesWritten: this.set.bytesWritten,
      bytes: this.set.bytes,
      segments: this.set.segmentCount,
      adoptedOwners: c.adoptedOwners,
      adoptedSegments: c.adoptedSegments,
      tornTails: c.tornTails,
      corruptSegments: c.corruptSegments,
      evaluationsReplayed: this.evaluationsReplayed,
      broken: this.set.broken,
    }
  }

  /** Last chance for appends of this turn (a `process.exit()` right after a span finished). */
  private closeAtExit (): void {
    try {
      this.set.syncNow()
      this.set.close()
      // Nothing owed: the directory and its lock go too. Otherwise they stay for a successor.
      if (!this.set.hasLive) rmSync(this.ownDir, { recursive: true, force: true })
    } catch (err) {
      log.internalError('spool.exit', err)
    }
  }
}
