/* global document, URLSearchParams */
// The trace list: server-side filters, sort and cursor pagination, search hits with their
// snippet, and new traces arriving without a reload. Every filter is in the URL.
import { h, snippetNodes } from './dom.js'
import { api, qs } from './api.js'
import { current, href, navigate } from './url_state.js'
import { KINDS, costCell, evalBadge, fmtDateTime, fmtDuration, fmtInt, isoOf, pathBadge, statusBadge, totalTokens, usageBadge } from './format.js'
import { rangeOf, rangePicker, selectFilter, textFilter } from './filters.js'
import { watch } from './live.js'

const PAGE = 100
/** URL parameters that are API filters under the same name. */
const FILTERS = ['ml_app', 'status', 'kind', 'model', 'session_id', 'eval_label', 'eval_value', 'q', 'sort', 'order']
const SORTABLE = { Time: 'start', Duration: 'duration', Tokens: 'tokens', Cost: 'cost' }
const DELIVERY_WHY = 'How the spans reached the agent: inside their APM trace, through the EVP proxy (rescued or direct), or agentless.'
// ml_apps seen in this tab: the select offers them even while a filter hides the others.
const knownApps = new Set()

export function listQuery (params) {
  const out = {}
  for (const k of FILTERS) out[k] = params.get(k) ?? ''
  const { since, until } = rangeOf(params)
  return { ...out, since, until }
}

/** One trace as a table row (the list) or, below 600 px, a card (CSS only). */
export function traceRow (t, { onOpen } = {}) {
  const tokens = totalTokens(t)
  const open = (e) => { if (e.target.closest('a') === null) (onOpen ?? (() => navigate(href('trace', t.trace_id))))() }
  return h('tr', { class: t.status === 'error' ? 'trace-row is-error' : 'trace-row', 'data-trace-id': t.trace_id, onclick: open },
    h('td', { 'data-col': 'time', 'data-label': 'Time', title: isoOf(t.start_ns) }, fmtDateTime(t.start_ns)),
    h('td', { 'data-col': 'ml_app', 'data-label': 'ml_app' }, t.ml_app ?? '—'),
    h('td', { 'data-col': 'name', class: 'name', 'data-label': 'Root span' },
      h('a', { href: href('trace', t.trace_id) }, t.root_name),
      typeof t.snippet === 'string' && t.snippet !== '' ? h('div', { class: 'snippet' }, snippetNodes(t.snippet)) : null,
      Array.isArray(t.evaluations) && t.evaluations.length > 0 ? h('div', { class: 'evals' }, t.evaluations.map(evalBadge)) : null),
    h('td', { 'data-col': 'spans', class: 'num', 'data-label': 'Spans' }, fmtInt(t.span_count)),
    h('td', { 'data-col': 'duration', class: 'num', 'data-label': 'Duration' }, fmtDuration(t.duration)),
    h('td', { 'data-col': 'tokens', class: 'num', 'data-label': 'Tokens', title: `${fmtInt(t.input_tokens)} in / ${fmtInt(t.output_tokens)} out` },
      h('span', { class: 'tokens' }, fmtInt(tokens)), usageBadge(t.usage_source)),
    h('td', { 'data-col': 'cost', class: 'num', 'data-label': 'Cost' }, costCell(t.cost_usd, t.cost_complete)),
    h('td', { 'data-col': 'status', 'data-label': 'Status' }, statusBadge(t.status, t.error_count)),
    h('td', { 'data-col': 'delivery', 'data-label': 'Delivery', title: DELIVERY_WHY }, (t.paths ?? []).map(pathBadge)))
}

export function traceTableHead (params, setParams) {
  const sort = params.get('sort') ?? 'start'
  const order = params.get('order') ?? 'desc'
  const cols = ['Time', 'ml_app', 'Root span', 'Spans', 'Duration', 'Tokens', 'Cost', 'Status', 'Delivery']
  return h('thead', {}, h('tr', {}, cols.map((c) => {
    const key = SORTABLE[c]
    const title = c === 'Delivery' ? DELIVERY_WHY : undefined
    if (key === undefined || setParams === undefined) return h('th', { title, class: ['Spans', 'Duration', 'Tokens', 'Cost'].includes(c) ? 'num' : undefined }, c)
    const active = sort === key
    const next = active && order === 'desc' ? 'asc' : 'desc'
    return h('th', { class: c === 'Time' ? 'sortable' : 'sortable num', 'aria-sort': active ? (order === 'asc' ? 'ascending' : 'descending') : 'none' },
      h('button', { type: 'button', class: 'sort', 'data-sort': key, onclick: () => setParams({ sort: key === 'start' && next === 'desc' ? '' : key, order: next === 'desc' ? '' : next }) },
        c, active ? (order === 'asc' ? ' ▲' : ' ▼') : ''))
  })))
}

export function renderList (root) {
  let params = current().params
  let rows = []
  let cursor = null
  let total
  let loading = 0
  const setParams = (patch, opts) => {
    const next = new URLSearchParams(params)
    // A box typed in but not committed yet (its debounce pending) is part of this change too.
    for (const el of toolbar.querySelectorAll('input[type="text"], input[type="search"]')) {
      if (el.value !== (params.get(el.name) ?? '')) { if (el.value === '') next.delete(el.name); else next.set(el.name, el.value) }
    }
    for (const [k, v] of Object.entries(patch)) { if (v === '' || v === undefined) next.delete(k); else next.set(k, v) }
    navigate(href('traces', '', next), opts)
  }
  const toolbar = h('div', { class: 'toolbar filters' })
  const count = h('span', { class: 'muted count' })
  const message = h('p', { class: 'notice', hidden: 'hidden', role: 'alert' })
  const jump = h('p', { class: 'jump' })
  const table = h('table', { class: 'traces' })
  const tbody = h('tbody')
  const more = h('button', { type: 'button', class: 'more', hidden: 'hidden', onclick: () => loadMore() }, 'More')
  root.replaceChildren(toolbar, message, jump, table, h('p', { class: 'pager' }, count, ' ', more))

  function drawToolbar () {
    // A rebuilt toolbar keeps the focus (and caret) of the box being typed in.
    const focused = document.activeElement?.name
    const caret = document.activeElement?.selectionStart
    const g = (k) => params.get(k) ?? ''
    const apps = [...knownApps].sort()
    toolbar.replaceChildren(
      textFilter('q', 'Search inputs, outputs, names, errors…', g('q'), setParams, { live: true, type: 'search' }),
      rangePicker(params, setParams),
      selectFilter('ml_app', 'ml_app', [['', 'all ml_apps'], ...apps.map((a) => [a, a])], g('ml_app'), setParams),
      selectFilter('status', 'status', [['', 'any status'], ['ok', 'ok (no errors)'], ['error', 'with errors']], g('status'), setParams),
      selectFilter('kind', 'kind', [['', 'any kind'], ...KINDS.map((k) => [k, k])], g('kind'), setParams),
      textFilter('model', 'model', g('model'), setParams, { size: 12 }),
      textFilter('session_id', 'session', g('session_id'), setParams, { size: 12 }),
      textFilter('eval_label', 'evaluation label', g('eval_label'), setParams, { size: 12 }),
      textFilter('eval_value', 'evaluation value', g('eval_value'), setParams, { size: 8 }),
      h('button', { type: 'button', onclick: () => load() }, 'Refresh'))
    const el = focused !== undefined ? toolbar.querySelector(`[name="${focused}"]`) : null
    if (el !== null) { el.focus(); if (typeof caret === 'number' && el.setSelectionRange !== undefined) { try { el.setSelectionRange(caret, caret) } catch { /* not a text box */ } } }
  }

  function drawRows () {
    table.replaceChildren(traceTableHead(params, setParams), tbody)
    tbody.replaceChildren(...(rows.length > 0
      ? rows.map((t) => traceRow(t))
      : [h('tr', {}, h('td', { colspan: 9, class: 'empty' }, FILTERS.some((k) => k !== 'sort' && k !== 'order' && params.has(k)) || params.has('range') || params.has('since')
        ? 'No trace matches the filters.'
        : 'No LLM traces yet. Point an instrumented app at this agent.'))]))
    count.textContent = typeof total === 'number'
      ? `${rows.length} of ${total} traces`
      : `${rows.length} traces${cursor !== null ? ', more available' : ''}`
    more.hidden = cursor === null
  }

  function learnApps (list) {
    let grew = false
    for (const t of list) if (typeof t.ml_app === 'string' && !knownApps.has(t.ml_app)) { knownApps.add(t.ml_app); grew = true }
    return grew
  }

  async function fetchPage (after, limit = PAGE) {
    return api(`/api/traces?${qs({ ...listQuery(params), limit, cursor: after })}`)
  }

  function accept (data) {
    message.hidden = true
    total = typeof data.total === 'number' ? data.total : undefined
    cursor = typeof data.next_cursor === 'string' ? data.next_cursor : null
    if (learnApps(data.traces ?? [])) drawToolbar()
  }

  /** A search for a trace id (which full-text search does not index) offers that trace. */
  async function idHit (mine) {
    const q = (params.get('q') ?? '').trim()
    jump.replaceChildren()
    if (!/^[0-9A-Za-z_-]{8,128}$/.test(q) || !/[0-9]/.test(q)) return
    try {
      const t = await api(`/api/traces/${encodeURIComponent(q)}`)
      if (mine !== loading) return
      const first = Array.isArray(t.spans) ? t.spans[0] : undefined
      jump.replaceChildren('Trace ', h('a', { href: href('trace', q), class: 'id-hit' }, q), first !== undefined ? ` — ${first.name}` : '')
    } catch { /* not a trace id */ }
  }

  async function load () {
    const mine = ++loading
    idHit(mine)
    try {
      const data = await fetchPage()
      if (mine !== loading) return
      rows = data.traces ?? []
      accept(data)
      drawRows()
    } catch (err) {
      if (mine !== loading) return
      if (err.status === 400) { showProblem(`The agent refused this query: ${err.reason || err.message}`); rows = []; cursor = null; drawRows(); return }
      throw err
    }
  }

  async function loadMore () {
    if (cursor === null) return
    const mine = loading
    more.disabled = true
    try {
      const data = await fetchPage(cursor)
      if (mine !== loading) return
      const seen = new Set(rows.map((t) => t.trace_id))
      rows = rows.concat((data.traces ?? []).filter((t) => !seen.has(t.trace_id)))
      accept(data)
      drawRows()
    } catch (err) { showProblem(err.message) } finally { more.disabled = false }
  }

  /** Live: the first page again; rows already shown are updated in place, new ones go on top. */
  async function refresh () {
    const mine = loading
    const data = await fetchPage()
    if (mine !== loading) return
    const fresh = data.traces ?? []
    if (rows.length <= PAGE) { rows = fresh; accept(data) } else {
      const byId = new Map(fresh.map((t) => [t.trace_id, t]))
      const shown = new Set(rows.map((t) => t.trace_id))
      rows = [...fresh.filter((t) => !shown.has(t.trace_id)), ...rows.map((t) => byId.get(t.trace_id) ?? t)]
      if (typeof data.total === 'number') total = data.total
      if (learnApps(fresh)) drawToolbar()
    }
    drawRows()
  }

  function showProblem (text) { message.textContent = text; message.hidden = false }

  drawToolbar()
  const stop = watch(() => refresh())
  return {
    ready: load(),
    stop,
    /** Filters changed in the URL (a control, back, forward): same view, new rows. */
    update (route) {
      if (route.page !== 'traces') return false
      params = route.params
      drawToolbar()
      load().catch((err) => showProblem(err.message))
      return true
    },
  }
}
