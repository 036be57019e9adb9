/* global URLSearchParams */
// One session read as the conversation it was: each trace's turn (what came in, what went
// out) in time order, then the traces themselves. Updates while new turns arrive.
import { h } from './dom.js'
import { api } from './api.js'
import { href, lastHref } from './url_state.js'
import { costCell, fmtDateTime, fmtDuration, fmtInt, isoOf, totalTokens } from './format.js'
import { fact, errorBox, message } from './span_detail.js'
import { traceRow, traceTableHead } from './view_list.js'
import { watch } from './live.js'

/**
 * Chat apps resend the whole history on every call, so a turn's input is the messages after
 * the last assistant reply (the new question), not the full list again.
 */
export function newMessages (messages) {
  const lastAssistant = messages.map((m) => m?.role).lastIndexOf('assistant')
  const fresh = messages.slice(lastAssistant + 1).filter((m) => m?.role !== 'system')
  return fresh.length > 0 ? fresh : messages.slice(-1)
}

function side (value, role) {
  if (value === undefined || value === null) return []
  if (Array.isArray(value.messages)) return (role === 'user' ? newMessages(value.messages) : value.messages).map(message)
  const text = value.value !== undefined ? value.value : value
  return [message({ role, content: typeof text === 'string' ? text : JSON.stringify(text, null, 2) })]
}

function turn (t, i) {
  return h('li', { class: 'turn', 'data-trace-id': t.trace_id },
    h('div', { class: 'turn-head muted' }, `Turn ${i + 1} · `, h('span', { title: isoOf(t.start_ns) }, fmtDateTime(t.start_ns)), ' · ',
      h('a', { href: href('trace', t.trace_id, t.span_id ? { span: t.span_id } : undefined) }, String(t.name ?? 'trace'))),
    h('div', { class: 'chat' }, side(t.input, 'user'), side(t.output, 'assistant')),
    t.error ? errorBox(t.error) : null)
}

export function renderSession (root, sessionId) {
  let lastBody = ''
  root.replaceChildren(h('p', { class: 'muted' }, 'Loading session…'))

  async function load () {
    let data
    try {
      data = await api(`/api/sessions/${encodeURIComponent(sessionId)}`)
    } catch (err) {
      if (err.status !== 404) throw err
      if (lastBody === '') root.replaceChildren(h('p', { class: 'empty' }, 'No stored trace belongs to session ', h('code', {}, sessionId), '. ', h('a', { href: lastHref('sessions') }, 'Back to sessions')))
      return
    }
    const body = JSON.stringify(data)
    if (body === lastBody) return
    lastBody = body
    const turns = Array.isArray(data.turns) ? data.turns : []
    const traces = Array.isArray(data.traces) ? data.traces : []
    root.replaceChildren(
      h('p', { class: 'crumbs' }, h('a', { href: lastHref('sessions') }, '← Sessions')),
      h('header', { class: 'trace-head' },
        h('h1', {}, 'Session ', h('code', {}, data.session_id ?? sessionId)),
        h('dl', { class: 'facts inline' },
          fact('ml_app', data.ml_app ?? '—'), fact('traces', fmtInt(data.trace_count ?? traces.length)),
          fact('first seen', fmtDateTime(data.first_seen_ns)), fact('last seen', fmtDateTime(data.last_seen_ns)),
          fact('duration', fmtDuration(data.duration_ns)), fact('tokens', fmtInt(totalTokens(data))),
          fact('cost', costCell(data.cost_usd)), fact('errors', fmtInt(data.errors)))),
      h('section', { class: 'conversation', 'aria-label': 'conversation' }, h('h2', {}, 'Conversation'),
        turns.length > 0 ? h('ol', { class: 'turns' }, turns.map(turn)) : h('p', { class: 'empty' }, 'No turns recorded.')),
      h('section', { class: 'block' }, h('h2', {}, 'Traces'),
        h('table', { class: 'traces' }, traceTableHead(new URLSearchParams()), h('tbody', {}, traces.map((t) => traceRow(t))))))
  }

  return { ready: load(), stop: watch(() => load()), update: (route) => route.page === 'session' && route.id === sessionId }
}
