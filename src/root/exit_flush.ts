/**
 * One `beforeExit` listener for the whole package, however many tracers and writers exist:
 * a guest adds one listener to the host's process, not one per instance.
 *
 * `beforeExit` fires when the event loop empties. Each registered callback flushes only if it
 * holds data, so after the flush the loop empties again with nothing pending and the process
 * exits: the handler cannot keep it alive.
 */
import { DEFAULTS } from '../config/defaults.js'

type ExitFlush = () => void

const callbacks = new Set<ExitFlush>()
let installed = false
/** When the current exit began (its first beforeExit), and the latest beforeExit. */
let exitStartedAt = 0
let lastBeforeExitAt = -Infinity
/**
 * A quiet gap longer than this between two beforeExit events starts a new exit. Well above the
 * longest a flush started by one event can hold the loop (a few exit-flush deadlines, when a
 * flush runs its steps one after another), so one exit is never mistaken for two.
 */
const NEW_EXIT_GAP_MS = 30_000

function onBeforeExit (): void {
  const now = Date.now()
  // One exit is a run of beforeExit events, each flush holding the loop at most the exit-flush
  // deadline. Past that deadline, counted from the first event, nothing new is started: data
  // still pending (a destination that never answers) cannot hold the exit for its retry budget.
  // A long quiet gap means the host did more work in between: a new exit, a new budget.
  if (now - lastBeforeExitAt > NEW_EXIT_GAP_MS) exitStartedAt = now
  lastBeforeExitAt = now
  if (now - exitStartedAt >= DEFAULTS.exitFlushTimeoutMs) return
  for (const cb of callbacks) {
    try { cb() } catch { /* exit must proceed */ }
  }
}

export function registerExitFlush (cb: ExitFlush): () => void {
  callbacks.add(cb)
  if (!installed) {
    installed = true
    process.on('beforeExit', onBeforeExit)
  }
  return () => { callbacks.delete(cb) }
}

/** Work to await on SIGTERM (opt-in), e.g. tracer and LLMObs shutdowns. */
const sigtermWork = new Set<() => Promise<void>>()
let sigtermInstalled = false

/**
 * Opt-in SIGTERM handling: run every registered shutdown, then exit 143 (128 + SIGTERM), as the
 * default disposition would have. Each shutdown carries its own deadline, and a backstop at the
 * shutdown deadline exits anyway: steps run one after another (flush, then shutdown) and their
 * deadlines would otherwise add up while a destination never answers.
 */
export function registerSigtermFlush (work: () => Promise<void>): () => void {
  sigtermWork.add(work)
  if (!sigtermInstalled) {
    sigtermInstalled = true
    process.once('SIGTERM', () => {
      setTimeout(() => process.exit(143), DEFAULTS.shutdownTimeoutMs)
      void Promise.allSettled([...sigtermWork].map((w) => w())).then(() => process.exit(143))
    })
  }
  return () => { sigtermWork.delete(work) }
}
