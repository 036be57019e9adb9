/* global document, window, location, history, sessionStorage, Event, URLSearchParams */
// The client of the agent's JSON API, the API key it may need, and the connection indicator.
import { h } from './dom.js'

// An agent started with an API key wants it on every query-API request. The page takes it from
// the URL fragment (`/#key=...`: a fragment never reaches the server, its logs or a Referer),
// wipes it from the address bar and history at once, and keeps it in sessionStorage (this tab
// only, gone when the tab closes). Without one, a 401 asks for it.
const KEY_SLOT = 'llmobs-ts.agent-api-key'
let apiKey = readStoredKey()

function readStoredKey () {
  try { return sessionStorage.getItem(KEY_SLOT) ?? '' } catch { return '' }
}

export function hasKey () { return apiKey !== '' }

export function storeKey (key) {
  apiKey = key
  try {
    if (key === '') sessionStorage.removeItem(KEY_SLOT)
    else sessionStorage.setItem(KEY_SLOT, key)
  } catch { /* storage off: the key lasts until the page reloads */ }
}

export function takeKeyFromFragment () {
  const m = /^#key=([^&]*)(?:&(.*))?$/.exec(location.hash)
  if (m === null) return
  let key
  try { key = decodeURIComponent(m[1]) } catch { key = m[1] }
  if (key !== '') storeKey(key)
  history.replaceState(null, '', `${location.pathname}${location.search}#${m[2] ?? '/traces'}`)
}

const conn = () => document.getElementById('status')
const connListeners = new Set()
let reachable = true

/** Called with no argument when the agent answers again after being unreachable. */
export function onReconnect (fn) { connListeners.add(fn); return () => connListeners.delete(fn) }

function setConn (ok) {
  const el = conn()
  if (ok === reachable || el === null) { reachable = ok; return }
  reachable = ok
  if (ok) {
    el.replaceChildren()
    el.className = 'conn'
    for (const fn of [...connListeners]) fn()
  } else {
    el.className = 'conn conn-down'
    el.replaceChildren('agent unreachable ', h('button', { type: 'button', class: 'retry', onclick: () => window.dispatchEvent(new Event('llmobs:retry')) }, 'Retry'))
  }
}

/** GET `path` as JSON. Throws an Error with `status` for an HTTP error, `unreachable` when the agent did not answer. */
export async function api (path) {
  const headers = { Accept: 'application/json' }
  if (apiKey !== '') headers['DD-API-KEY'] = apiKey
  let res
  try {
    res = await fetch(path, { headers })
  } catch (err) {
    setConn(false)
    throw Object.assign(new Error(`the agent did not answer (${err?.message ?? err})`), { unreachable: true })
  }
  setConn(true)
  if (!res.ok) {
    let reason = ''
    try { reason = (await res.json())?.error ?? '' } catch { /* not JSON */ }
    throw Object.assign(new Error(`${path.split('?')[0]}: HTTP ${res.status}${reason !== '' ? ` — ${reason}` : ''}`), { status: res.status, reason })
  }
  return res.json()
}

/** `qs({ a: 1, b: '' })` → `a=1`: empty values are left out. */
export function qs (params) {
  const u = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') u.set(k, String(v))
  return u.toString()
}
