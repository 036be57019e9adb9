import { copyFileSync, readdirSync, readFileSync, renameSync, rmSync, statSync, truncateSync, unlinkSync } from 'node:fs'
import { basename, join } from 'node:path'
import { log } from '../diag/logger.js'
import { OWNER_PREFIX, ownerIsDead } from './owner_lock.js'
import { decodeSegment, type Unsettled } from './record_codec.js'
import type { SegmentSet, SpoolRef } from './segment_set.js'

export interface ReplayCounters {
  adoptedOwners: number
  adoptedSegments: number
  tornTails: number
  corruptSegments: number
  readErrors: number
}

/** One adopted segment's owed events, each with the ref that releases it. */
export interface OwedSegment { events: Array<Unsettled & { ref: SpoolRef }> }

const ADOPTED_PREFIX = 'adopted-'

/**
 * Claims the owner directories of dead processes: each is renamed into `ownDir`, which is
 * atomic and succeeds for exactly one claimer; a process that loses the race gets ENOENT and
 * moves on. The adopted tree (it may hold what its owner had adopted in turn) becomes part of
 * this process's set, so if this process dies too, its own successor adopts it all again.
 */
export function claimDead (spoolDir: string, ownDir: string, counters: ReplayCounters): string[] {
  const claimed: string[] = []
  let names: string[]
  try {
    names = readdirSync(spoolDir)
  } catch (err) {
    counters.readErrors++
    log.internalError('spool.replay', err)
    return claimed
  }
  const own = basename(ownDir)
  for (const name of names) {
    if (name.startsWith('.' + OWNER_PREFIX)) { removeStaleTmp(join(spoolDir, name), name); continue }
    if (!name.startsWith(OWNER_PREFIX) || name === own) continue
    const from = join(spoolDir, name)
    if (!ownerIsDead(from)) continue
    const to = join(ownDir, ADOPTED_PREFIX + name)
    try {
      renameSync(from, to)
    } catch (err) {
      // Another process claimed it first (ENOENT), or it cannot be moved: not ours either way.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') { counters.readErrors++; log.internalError('spool.claim', err) }
      continue
    }
    counters.adoptedOwners++
    claimed.push(to)
  }
  return claimed
}

/**
 * Reads an adopted tree into the set, one segment at a time (a dead owner may leave its whole
 * budget of segments: they are not all held in memory at once). A torn tail is cut at the last
 * good record; a corrupt segment is copied aside as `<name>.corrupt` in the spool directory
 * and cut the same way, so its good prefix is still replayed and releases appended after the
 * cut stay readable. The tree is removed once every segment in it is settled.
 */
export function * readAdopted (tree: string, spoolDir: string, set: SegmentSet, counters: ReplayCounters): Generator<OwedSegment> {
  const files = segmentFiles(tree, counters)
  let left = files.length
  const done = (): void => {
    if (--left > 0) return
    try { rmSync(tree, { recursive: true, force: true }) } catch (err) { counters.readErrors++; log.internalError('spool.replay', err) }
  }
  if (files.length === 0) { left = 1; done() }
  for (const file of files) {
    let buf: Buffer
    try {
      buf = readFileSync(file)
    } catch (err) {
      // Unreadable: leave it in the tree (the tree stays), count it, go on with the others.
      counters.readErrors++
      log.internalError('spool.replay', err)
      continue
    }
    const decoded = decodeSegment(buf)
    try {
      if (decoded.damage === 'corrupt') {
        counters.corruptSegments++
        log.warnOnce('spool.corrupt', `a corrupted LLM Observability spool segment was moved aside (*.corrupt in ${spoolDir}); its readable events are replayed`)
        copyFileSync(file, join(spoolDir, `${basename(tree)}-${basename(file)}.corrupt`))
      } else if (decoded.damage === 'torn') {
        counters.tornTails++
      }
      if (decoded.damage !== 'none') truncateSync(file, decoded.goodBytes)
      if (decoded.unsettled.length === 0) {
        unlinkSync(file)
        done()
        continue
      }
    } catch (err) {
      counters.readErrors++
      log.internalError('spool.replay', err)
      continue
    }
    counters.adoptedSegments++
    const seg = set.adopt(file, decoded.goodBytes, decoded.unsettled.length, done)
    yield { events: decoded.unsettled.map((u) => ({ ...u, ref: { seg, seq: u.seq, bytes: u.json.length } })) }
  }
}

/**
 * An owner directory still under its dot-name: its process died between creating it and
 * renaming it into place (it holds a lock at most, never a segment). The pid is in the name.
 */
function removeStaleTmp (path: string, name: string): void {
  const pid = Number(name.slice(OWNER_PREFIX.length + 1).split('-')[0])
  if (!Number.isInteger(pid) || pid <= 0) return
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') return
    try { rmSync(path, { recursive: true, force: true }) } catch { /* another process removed it */ }
  }
}

function segmentFiles (dir: string, counters: ReplayCounters): string[] {
  const out: string[] = []
  try {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name)
      if (name.startsWith(ADOPTED_PREFIX) && statSync(p).isDirectory()) out.push(...segmentFiles(p, counters))
      else if (name.endsWith('.log')) out.push(p)
    }
  } catch (err) {
    counters.readErrors++
    log.internalError('spool.replay', err)
  }
  return out
}
