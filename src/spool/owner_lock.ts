import { closeSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'

/**
 * Who owns a segment set: each process's segments live in a directory of their own, holding a
 * `lock` file with the owner's pid, the start time of that pid (so a recycled pid is not taken
 * for the owner) and its host. The directory appears under its final name with the lock already
 * inside (built under a dot-name, then renamed), so no other process ever sees an owner
 * directory without its lock.
 */
export const LOCK_FILE = 'lock'
export const OWNER_PREFIX = 'owner-'

interface LockContent { pid: number, start: string | undefined, host: string }

/** Creates this process's owner directory (0700) and its lock (0600); throws on fs errors. */
export function createOwnerDir (spoolDir: string): string {
  const name = `${OWNER_PREFIX}${process.pid}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`
  const tmp = join(spoolDir, `.${name}`)
  mkdirSync(tmp, { mode: 0o700 })
  const content: LockContent = { pid: process.pid, start: processStart(process.pid), host: hostname() }
  // Exclusive create: a name collision (it cannot happen, but) fails instead of sharing a lock.
  const fd = openSync(join(tmp, LOCK_FILE), 'wx', 0o600)
  try { writeSync(fd, JSON.stringify(content)) } finally { closeSync(fd) }
  const dir = join(spoolDir, name)
  renameSync(tmp, dir)
  return dir
}

/**
 * Whether the owner of an owner directory is gone for good. Anything uncertain — a lock we
 * cannot read, another host (a shared volume), a pid we may not signal — counts as alive:
 * adopting a live owner's segments would send its events twice and, worse, delete files it
 * still appends to.
 */
export function ownerIsDead (ownerDir: string): boolean {
  let lock: LockContent
  try {
    lock = JSON.parse(readFileSync(join(ownerDir, LOCK_FILE), 'utf8')) as LockContent
  } catch {
    return false
  }
  if (typeof lock?.pid !== 'number' || lock.host !== hostname()) return false
  if (lock.pid === process.pid && lock.start === processStart(process.pid)) return false
  try {
    process.kill(lock.pid, 0)
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH'
  }
  // The pid exists: the owner only if it is the same process (same start time, where we can
  // tell) and not a zombie waiting for its parent to reap it.
  const stat = procStat(lock.pid)
  if (stat === undefined) return false
  if (stat[0] === 'Z') return true
  return lock.start !== undefined && stat[19] !== lock.start
}

/** Linux: the process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat). */
function processStart (pid: number): string | undefined {
  return procStat(pid)?.[19]
}

/** Fields 3.. of /proc/<pid>/stat (state first), or undefined where there is no /proc. */
function procStat (pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}
