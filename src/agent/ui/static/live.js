/* global window, document */
// Live updates: the page polls GET /api/changes?after=<seq> and hands the ids of the traces that
// changed to the open view. An agent without that endpoint (older build) gets `null` on every
// tick instead, which tells the view to reload what it shows and compare.
import { api } from './api.js'

export const POLL_MS = 1500

let seq
const PAST_ANY_SEQ = '999999999999999'
let changesMissing = false

/**
 * Calls `fn(traceIds | null)` after every tick that saw a change, until the returned stop()
 * is called. Ticks are chained timeouts, so a slow agent never has two polls in flight.
 */
export function watch (fn) {
  let stopped = false
  let timer
  const tick = async () => {
    if (stopped) return
    if (!document.hidden) {
      try {
        const ids = await changes()
        if (!stopped && (ids === null || ids.length > 0)) await fn(ids)
      } catch { /* unreachable agents show in the header; the next tick tries again */ }
    }
    if (!stopped) timer = window.setTimeout(tick, POLL_MS)
  }
  timer = window.setTimeout(tick, POLL_MS)
  return () => { stopped = true; window.clearTimeout(timer) }
}

/** The sequence number to start from: what the agent holds now. */
export async function prime () {
  if (changesMissing) return
  try {
    // Past any seq the agent has: it answers nothing changed and its latest seq, cheaply.
    const r = await api(`/api/changes?after=${PAST_ANY_SEQ}`)
    // An agent without the endpoint may answer unknown paths quietly (200, no body of ours).
    if (typeof r?.seq === 'number') seq = r.seq
    else changesMissing = true
  } catch (err) {
    if (err?.status === 404) changesMissing = true
  }
}

async function changes () {
  if (changesMissing) return null
  if (seq === undefined) await prime()
  if (changesMissing) return null
  if (seq === undefined) return []
  try {
    const r = await api(`/api/changes?after=${seq}`)
    const ids = Array.isArray(r?.traces) ? r.traces : []
    // A seq going back means another store (the agent restarted, or was reset): reload everything.
    if (typeof r?.seq === 'number' && r.seq < seq) { seq = r.seq; return null }
    if (typeof r?.seq === 'number') seq = r.seq
    return ids
  } catch (err) {
    if (err?.status === 404) { changesMissing = true; return null }
    throw err
  }
}
