/* global URLSearchParams */
// Sessions: traces grouped by session_id, with their extent, tokens, cost, errors and
// evaluations; sorted and paginated by the agent. Filters and sort are in the URL.
import { h } from './dom.js'
import { api, qs } from './api.js'
import { current, href, navigate } from './url_state.js'
import { costCell, fmtDateTime, fmtDuration, fmtInt, isoOf, totalTokens } from './format.js'
import { rangeOf, rangePicker, selectFilter, textFilter } from './filters.js'
import { watch } from './live.js'

const PAGE = 100
const COLS = [
  ['Session', null], ['ml_app', null], ['Traces', 'traces'], ['First seen', 'first_seen'], ['Last seen', 'last_seen'],
  ['Duration', 'duration'], ['Tokens', 'tokens'], ['Cost', 'cost'], ['Errors', null], ['Evaluations', null],
]

export function renderSessions (root) {
  let params = current().params
  let rows = []
  let cursor = null
  let total
  let loading = 0
  const apps = new Set()
  const setParams = (patch, opts) => {
    const next = new URLSearchParams(params)
    for (const [k, v] of Object.entries(patch)) { if (v === '' || v === undefined) next.delete(k); else next.set(k, v) }
    navigate(href('sessions', '', next), opts)
  }
  const toolbar = h('div', { class: 'toolbar filters' })
  const table = h('table', { class: 'sessions traces' })
  const count = h('span', { class: 'muted count' })
  const message = h('p', { class: 'notice', hidden: 'hidden', role: 'alert' })
  const more = h('button', { type: 'button', class: 'more', hidden: 'hidden', onclick: () => load(cursor) }, 'More')
  root.replaceChildren(h('h1', {}, 'Sessions'), toolbar, message, table, h('p', { class: 'pager' }, count, ' ', more))

  function drawToolbar () {
    const g = (k) => params.get(k) ?? ''
    toolbar.replaceChildren(
      textFilter('q', 'Search…', g('q'), setParams, { type: 'search' }),
      rangePicker(params, setParams),
      selectFilter('ml_app', 'ml_app', [['', 'all ml_apps'], ...[...apps].sort().map((a) => [a, a])], g('ml_app'), setParams))
  }

  function head () {
    const sort = params.get('sort') ?? 'last_seen'
    const order = params.get('order') ?? 'desc'
    return h('thead', {}, h('tr', {}, COLS.map(([label, key]) => {
      const num = !['Session', 'ml_app', 'First seen', 'Last seen'].includes(label)
      if (key === null) return h('th', { class: num ? 'num' : undefined }, label)
      const active = sort === key
      const next = active && order === 'desc' ? 'asc' : 'desc'
      return h('th', { class: num ? 'sortable num' : 'sortable', 'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : 'none' },
        h('button', { type: 'button', class: 'sort', 'data-sort': key, onclick: () => setParams({ sort: key === 'last_seen' ? '' : key, order: next === 'desc' ? '' : next }) },
          label, active ? (order === 'asc' ? ' ▲' : ' ▼') : ''))
    })))
  }

  function row (s) {
    const link = href('session', s.session_id)
    return h('tr', { class: 'session-row', 'data-session-id': s.session_id, onclick: (e) => { if (e.target.closest('a') === null) navigate(link) } },
      h('td', { 'data-label': 'Session', class: 'name' }, h('a', { href: link }, s.session_id)),
      h('td', { 'data-label': 'ml_app' }, s.ml_app ?? '—'),
      h('td', { 'data-label': 'Traces', class: 'num' }, fmtInt(s.traces)),
      h('td', { 'data-label': 'First seen', title: isoOf(s.first_seen_ns) }, fmtDateTime(s.first_seen_ns)),
      h('td', { 'data-label': 'Last seen', title: isoOf(s.last_seen_ns) }, fmtDateTime(s.last_seen_ns)),
      h('td', { 'data-label': 'Duration', class: 'num' }, fmtDuration(s.duration_ns)),
      h('td', { 'data-label': 'Tokens', class: 'num' }, fmtInt(totalTokens(s))),
      h('td', { 'data-label': 'Cost', class: 'num' }, costCell(s.cost_usd)),
      h('td', { 'data-label': 'Errors', class: s.errors > 0 ? 'num status-error' : 'num' }, fmtInt(s.errors)),
      h('td', { 'data-label': 'Evaluations', class: 'num' }, fmtInt(s.evaluations)))
  }

  function draw () {
    table.replaceChildren(head(), h('tbody', {}, rows.length > 0
      ? rows.map(row)
      : h('tr', {}, h('td', { colspan: COLS.length, class: 'empty' }, 'No sessions. Spans join a session when they carry a session_id.'))))
    count.textContent = typeof total === 'number' ? `${rows.length} of ${total} sessions` : `${rows.length} sessions${cursor !== null ? ', more available' : ''}`
    more.hidden = cursor === null
  }

  async function load (after) {
    const mine = after === undefined ? ++loading : loading
    const { since, until } = rangeOf(params)
    const g = (k) => params.get(k) ?? ''
    let data
    try {
      data = await api(`/api/sessions?${qs({ ml_app: g('ml_app'), q: g('q'), sort: g('sort'), order: g('order'), since, until, limit: PAGE, cursor: after })}`)
    } catch (err) {
      if (err.status !== 400) throw err
      message.textContent = `The agent refused this query: ${err.reason || err.message}`
      message.hidden = false
      return
    }
    if (mine !== loading) return
    message.hidden = true
    const list = data.sessions ?? []
    rows = after === undefined ? list : rows.concat(list)
    cursor = typeof data.next_cursor === 'string' ? data.next_cursor : null
    total = typeof data.total === 'number' ? data.total : undefined
    const before = apps.size
    for (const s of list) if (typeof s.ml_app === 'string') apps.add(s.ml_app)
    if (apps.size !== before) drawToolbar()
    draw()
  }

  drawToolbar()
  return {
    ready: load(),
    stop: watch(() => (rows.length <= PAGE ? load() : undefined)),
    update (route) {
      if (route.page !== 'sessions') return false
      params = route.params
      drawToolbar()
      load().catch((err) => { message.textContent = err.message; message.hidden = false })
      return true
    },
  }
}
