/* global URLSearchParams */
// The summary dashboard for one ml_app and/or model over a time range: requests, error rate,
// latency percentiles, tokens and cost over time, the models used, top errors, slowest spans.
import { h } from './dom.js'
import { api, qs } from './api.js'
import { current, href, navigate } from './url_state.js'
import { costCell, fmtCost, fmtInt, fmtMs, fmtPercent, fmtDuration } from './format.js'
import { rangeOf, rangePicker, selectFilter, textFilter } from './filters.js'
import { timeChart } from './charts.js'
import { watch } from './live.js'

const apps = new Set()

function card (label, value, key) {
  return h('div', { class: 'card', 'data-metric': key }, h('div', { class: 'card-label' }, label), h('div', { class: 'card-value' }, value))
}

function table (cls, head, rows, empty) {
  return h('table', { class: cls }, h('thead', {}, h('tr', {}, head.map(([c, num]) => h('th', { class: num ? 'num' : undefined }, c)))),
    h('tbody', {}, rows.length > 0 ? rows : h('tr', {}, h('td', { colspan: head.length, class: 'empty' }, empty))))
}

export function renderSummary (root) {
  let params = current().params
  let lastBody = ''
  const setParams = (patch, opts) => {
    const next = new URLSearchParams(params)
    for (const [k, v] of Object.entries(patch)) { if (v === '' || v === undefined) next.delete(k); else next.set(k, v) }
    navigate(href('summary', '', next), opts)
  }
  const toolbar = h('div', { class: 'toolbar filters' })
  const body = h('div', { class: 'summary' }, h('p', { class: 'muted' }, 'Loading summary…'))
  root.replaceChildren(h('h1', {}, 'Summary'), toolbar, body)

  function drawToolbar () {
    const g = (k) => params.get(k) ?? ''
    // The agent's default range is the last 24 h; the picker says so instead of "any time".
    const shown = params.has('range') || params.has('since') || params.has('until') ? params : new URLSearchParams({ range: '24h' })
    toolbar.replaceChildren(
      rangePicker(shown, setParams),
      selectFilter('ml_app', 'ml_app', [['', 'all ml_apps'], ...[...apps].sort().map((a) => [a, a])], g('ml_app'), setParams),
      textFilter('model', 'model', g('model'), setParams, { size: 16 }))
  }

  function draw (s) {
    const series = Array.isArray(s.series) ? s.series : []
    const pts = (k) => series.map((p) => ({ t_ms: p.t_ms, value: p[k] }))
    const lat = s.latency_ms ?? {}
    body.replaceChildren(
      h('p', { class: 'muted range-shown' }, `${new Date(s.since_ms).toLocaleString()} – ${new Date(s.until_ms).toLocaleString()}`),
      h('div', { class: 'cards' },
        card('requests', fmtInt(s.requests), 'requests'),
        card('error rate', fmtPercent(s.error_rate), 'error_rate'),
        card('latency p50', fmtMs(lat.p50), 'p50'),
        card('p95', fmtMs(lat.p95), 'p95'),
        card('p99', fmtMs(lat.p99), 'p99'),
        card('tokens', fmtInt(s.total_tokens), 'tokens'),
        card('cost', costCell(s.cost_usd, s.cost_complete), 'cost')),
      h('div', { class: 'charts' },
        timeChart({ title: 'Requests and errors', points: pts('requests'), overlay: { label: 'errors', values: series.map((p) => p.errors), fmt: fmtInt }, fmt: fmtInt }),
        timeChart({ title: 'Latency p95', points: pts('p95_ms'), kind: 'line', fmt: fmtMs }),
        timeChart({ title: 'Tokens', points: pts('total_tokens'), fmt: fmtInt }),
        timeChart({ title: 'Cost', points: pts('cost_usd'), kind: 'line', fmt: fmtCost })),
      h('section', { class: 'block' }, h('h2', {}, 'Models'),
        table('by-model', [['Model'], ['Provider'], ['Spans', true], ['Tokens', true], ['Cost', true], ['Price']],
          (s.by_model ?? []).map((m) => h('tr', { 'data-model': m.model },
            h('td', {}, h('a', { href: href('summary', '', { ...Object.fromEntries(params), model: m.model }) }, String(m.model ?? '—'))),
            h('td', {}, m.provider ?? '—'), h('td', { class: 'num' }, fmtInt(m.spans)), h('td', { class: 'num' }, fmtInt(m.total_tokens)),
            h('td', { class: 'num' }, costCell(m.cost_usd)),
            h('td', { class: 'muted' }, m.price ? `${m.price.pattern} (${m.price.date})` : 'no price'))), 'No model spans in this range.')),
      h('section', { class: 'block' }, h('h2', {}, 'Top errors'),
        table('top-errors', [['Error'], ['Count', true], ['Last trace']],
          (s.top_errors ?? []).map((e) => h('tr', {},
            h('td', {}, h('strong', {}, String(e.type ?? 'Error')), ': ', String(e.message ?? '')),
            h('td', { class: 'num' }, fmtInt(e.count)),
            h('td', {}, e.last_trace_id ? h('a', { href: href('trace', e.last_trace_id) }, 'open') : '—'))), 'No errors in this range.')),
      h('section', { class: 'block' }, h('h2', {}, 'Slowest spans'),
        table('slowest', [['Span'], ['Duration', true]],
          (s.slowest ?? []).map((x) => h('tr', {},
            h('td', {}, h('a', { href: href('trace', x.trace_id, { span: x.span_id }) }, String(x.name ?? x.span_id))),
            h('td', { class: 'num' }, fmtDuration(x.duration)))), 'No spans in this range.')))
  }

  async function load () {
    const g = (k) => params.get(k) ?? ''
    const { since, until } = rangeOf(params)
    let s
    try {
      s = await api(`/api/summary?${qs({ ml_app: g('ml_app'), model: g('model'), since, until, buckets: 24 })}`)
    } catch (err) {
      if (err.status !== 400) throw err
      body.replaceChildren(h('p', { class: 'notice', role: 'alert' }, `The agent refused this query: ${err.reason || err.message}`))
      return
    }
    const text = JSON.stringify(s)
    if (text === lastBody) return
    lastBody = text
    draw(s)
  }

  // The ml_app choices come from the trace list (the summary itself is per app).
  api('/api/traces?limit=500').then((d) => {
    const before = apps.size
    for (const t of d.traces ?? []) if (typeof t.ml_app === 'string') apps.add(t.ml_app)
    if (apps.size !== before) drawToolbar()
  }).catch(() => {})
  drawToolbar()
  return {
    ready: load(),
    stop: watch(() => load()),
    update (route) {
      if (route.page !== 'summary') return false
      params = route.params
      lastBody = ''
      drawToolbar()
      load().catch((err) => body.replaceChildren(h('p', { class: 'notice' }, err.message)))
      return true
    },
  }
}
