/* global window, location, history, URLSearchParams */
// The page's state lives in the URL fragment, `#/<page>/<id>?<filters>`, so a shared link opens
// the same view and the back button walks it back. Changes go through pushState (one history
// entry each) or replaceState (typing in a box), and popstate brings them back.

/** `{ page, id, params }` of the current location: `#/trace/abc?span=1` → `trace`, `abc`, `span=1`. */
export function current () {
  const raw = location.hash.replace(/^#\/?/, '')
  const q = raw.indexOf('?')
  const path = q === -1 ? raw : raw.slice(0, q)
  const params = new URLSearchParams(q === -1 ? '' : raw.slice(q + 1))
  const [page = '', ...rest] = path.split('/')
  let id = rest.join('/')
  try { id = decodeURIComponent(id) } catch { /* a malformed escape stays as typed */ }
  return { page: page === '' ? 'traces' : page, id, params }
}

export function href (page, id, params) {
  const query = params instanceof URLSearchParams ? params.toString() : new URLSearchParams(clean(params ?? {})).toString()
  return `#/${page}${id !== undefined && id !== '' ? `/${encodeURIComponent(id)}` : ''}${query !== '' ? `?${query}` : ''}`
}

function clean (obj) {
  const out = {}
  for (const [k, v] of Object.entries(obj)) if (v !== undefined && v !== null && v !== '') out[k] = String(v)
  return out
}

let onChange = () => {}
let last = ''

/** Registers the router; it runs on popstate, hashchange (typed URLs, plain links) and navigate(). */
export function listen (router) {
  onChange = router
  const fire = () => {
    if (location.hash === last) return // popstate and hashchange both fire for one link click
    last = location.hash
    onChange(current())
  }
  window.addEventListener('popstate', fire)
  window.addEventListener('hashchange', fire)
  last = location.hash
  onChange(current())
}

/** Moves to `hash` (from href()); `replace` for changes that should not add a history entry. */
export function navigate (hash, { replace = false } = {}) {
  if (hash === location.hash) return
  if (replace) history.replaceState(null, '', hash)
  else history.pushState(null, '', hash)
  last = location.hash
  onChange(current())
}

/** Re-runs the router on the current URL (retry after the agent came back). */
export function rerun () { last = location.hash; onChange(current(), { force: true }) }

const lastOf = new Map()
/** The last URL of a page (the list with its filters), for "back to" links. */
export function lastHref (page) { return lastOf.get(page) ?? href(page) }
export function rememberHref (page, hash) { lastOf.set(page, hash) }
