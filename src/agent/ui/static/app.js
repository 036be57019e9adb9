/* global document, window, location */
// The local agent's web UI: trace list, trace, sessions, session, summary and delivery views
// (one module each) from the agent's JSON API. This module routes between them and shows
// what went wrong (an API key to enter, an agent gone away) instead of a blank page.
import { h } from './dom.js'
import { hasKey, storeKey, takeKeyFromFragment, onReconnect } from './api.js'
import { href, listen, rememberHref, rerun } from './url_state.js'
import { renderList } from './view_list.js'
import { renderTrace } from './view_trace.js'
import { renderSessions } from './view_sessions.js'
import { renderSession } from './view_session.js'
import { renderSummary } from './view_summary.js'
import { renderDelivery } from './view_delivery.js'
import { prime } from './live.js'

const app = document.getElementById('app')
const NAV = { traces: 'traces', trace: 'traces', sessions: 'sessions', session: 'sessions', summary: 'summary', delivery: 'delivery' }
let view
let generation = 0

function askForKey (wrong) {
  const input = h('input', { type: 'password', name: 'api-key', autocomplete: 'off', 'aria-label': 'API key', placeholder: 'API key' })
  const submit = () => { storeKey(input.value.trim()); rerun() }
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') submit() })
  app.replaceChildren(h('div', { class: 'key-prompt' },
    h('p', {}, wrong ? 'The agent refused this API key. Enter the one it was started with:' : 'This agent is protected by an API key. Enter it to see its data:'),
    h('p', { class: 'toolbar' }, input, h('button', { type: 'button', onclick: submit }, 'Use key')),
    h('p', { class: 'muted' }, 'Or open this page as /#key=<key>. The key stays in this tab only.')))
  input.focus()
}

function fail (err) {
  if (err?.status === 401) { askForKey(hasKey()); return }
  // The agent went away (or answered an error): say so and offer a retry; the page never goes blank.
  app.replaceChildren(h('div', { class: 'failure', role: 'alert' },
    h('p', {}, err?.unreachable ? 'The agent is not answering. Is it still running?' : 'Could not load data from the agent: ', err?.unreachable ? null : String(err?.message ?? err)),
    err?.unreachable ? h('p', { class: 'muted' }, String(err.message)) : null,
    h('p', {}, h('button', { type: 'button', class: 'retry', onclick: () => rerun() }, 'Retry'))))
}

function render (route) {
  switch (route.page) {
    case 'traces': return renderList(app)
    case 'trace': return route.id !== '' ? renderTrace(app, route.id) : undefined
    case 'sessions': return renderSessions(app)
    case 'session': return route.id !== '' ? renderSession(app, route.id) : undefined
    case 'summary': return renderSummary(app)
    case 'delivery': return renderDelivery(app)
    default: return undefined
  }
}

function route (r, { force = false } = {}) {
  for (const a of document.querySelectorAll('[data-nav]')) a.classList.toggle('active', a.dataset.nav === NAV[r.page])
  rememberHref(r.page, location.hash === '' ? href(r.page) : location.hash)
  // Same view, new URL state (a filter, the selected span, back or forward): it updates in place.
  if (!force && view?.update?.(r) === true) return
  view?.stop?.()
  const gen = ++generation
  view = render(r)
  if (view === undefined) {
    app.replaceChildren(h('p', { class: 'empty' }, 'No such page. ', h('a', { href: href('traces') }, 'Back to traces')))
    return
  }
  view.ready?.catch((err) => { if (gen === generation) fail(err) })
}

// A page that failed because the agent was gone comes back on its own when the agent does.
onReconnect(() => { if (app.querySelector('.failure') !== null) rerun() })
window.addEventListener('llmobs:retry', () => rerun())
window.addEventListener('hashchange', () => takeKeyFromFragment())
takeKeyFromFragment()
// The live seq is read before the first view loads its data, so nothing written in between is missed.
prime().finally(() => listen((r, opts) => route(r, opts)))
