import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The demo's own store file, `./.llmobs/demo.db`, never the agent's `agent.db`: the demo clears
 * its store at start, and must not clear one that an `llmobs-ts agent` in the same directory is
 * using. A lock file (`demo.db.lock`, holding the pid) keeps a second demo from clearing the
 * first one's; a lock whose process is gone is taken over.
 */
export type DemoStore = { ok: true, db: string, release: () => void } | { ok: false, error: string }

export function claimDemoStore (dir = './.llmobs'): DemoStore {
  mkdirSync(dir, { recursive: true })
  const db = join(dir, 'demo.db')
  const lock = `${db}.lock`
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' })
      let released = false
      const release = (): void => {
        if (released) return
        released = true
        process.off('exit', release)
        rmSync(lock, { force: true })
      }
      process.on('exit', release)
      return { ok: true, db, release }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return { ok: false, error: `cannot lock ${lock}: ${(err as Error).message}` }
      const pid = Number(readText(lock))
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
        return { ok: false, error: `another demo (pid ${pid}) is using ${db}; stop it first (its store is cleared at start, so two demos cannot share it)` }
      }
      rmSync(lock, { force: true })
    }
  }
  return { ok: false, error: `cannot lock ${lock}` }
}

function readText (file: string): string {
  try { return readFileSync(file, 'utf8').trim() } catch { return '' }
}

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    // EPERM: the process exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
