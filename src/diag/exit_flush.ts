/**
 * One `beforeExit` listener for the whole package, however many tracers and writers exist:
 * a guest adds one listener to the host's process, not one per instance.
 *
 * `beforeExit` fires when the event loop empties. Each registered callback flushes only if it
 * holds data, so after the flush the loop empties again with nothing pending and the process
 * exits: the handler cannot keep it alive.
 */
type ExitFlush = () => void

const callbacks = new Set<ExitFlush>()
let installed = false

function onBeforeExit (): void {
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
 * default disposition would have. Each shutdown carries its own deadline, so a destination that
 * never answers cannot hold the exit.
 */
export function registerSigtermFlush (work: () => Promise<void>): () => void {
  sigtermWork.add(work)
  if (!sigtermInstalled) {
    sigtermInstalled = true
    process.once('SIGTERM', () => {
      void Promise.allSettled([...sigtermWork].map((w) => w())).then(() => process.exit(143))
    })
  }
  return () => { sigtermWork.delete(work) }
}
