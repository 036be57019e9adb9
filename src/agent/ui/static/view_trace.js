// One trace: the span tree as a waterfall with evaluation badges on its nodes, and the selected
// span's detail. The selected span is in the URL (`?span=`); the view reloads while spans arrive.
import { add, h } from './dom.js'
import { api } from './api.js'
import { current, href, lastHref, navigate } from './url_state.js'
import { KINDS, costCell, dateOf, evalBadge, fmtDuration, fmtInt, isRootParent, kindBadge, offsetNs, statusBadge, totalTokens } from './format.js'
import { fact, spanDetail } from './span_detail.js'
import { watch } from './live.js'

/** Depth-first order of the span tree; spans whose parent is not stored start a tree of their own. */
export function spanTree (spans) {
  const byId = new Map(spans.map((s) => [s.span_id, s]))
  const children = new Map()
  const roots = []
  for (const s of spans) {
    if (!isRootParent(s.parent_id) && byId.has(s.parent_id) && s.parent_id !== s.span_id) {
      if (!children.has(s.parent_id)) children.set(s.parent_id, [])
      children.get(s.parent_id).push(s)
    } else roots.push(s)
  }
  const out = []
  const seen = new Set()
  const walk = (s, depth) => {
    if (seen.has(s.span_id)) return
    seen.add(s.span_id)
    out.push({ span: s, depth })
    for (const c of children.get(s.span_id) ?? []) walk(c, depth + 1)
  }
  for (const r of roots) walk(r, 0)
  for (const s of spans) walk(s, 0) // parent cycles: still shown, never lost
  return out
}

function tokensOf (spans) {
  let total = 0
  for (const s of spans) {
    if (s.kind !== 'llm' && s.kind !== 'embedding') continue
    const m = s.event?.metrics ?? {}
    total += totalTokens({ input_tokens: m.input_tokens, output_tokens: m.output_tokens, total_tokens: s.total_tokens ?? m.total_tokens })
  }
  return total
}

export function renderTrace (root, traceId) {
  let data
  let lastBody = ''
  let missing = false
  let selected = current().params.get('span') ?? ''
  const detail = h('section', { class: 'detail', 'aria-label': 'span detail' })
  const tree = h('div', { class: 'tree', role: 'list' })
  root.replaceChildren(h('p', { class: 'muted' }, 'Loading trace…'))

  const selectRow = () => {
    const spans = data.spans ?? []
    const span = spans.find((s) => s.span_id === selected) ?? spanTree(spans)[0]?.span
    if (span === undefined) return
    for (const el of tree.children) el.classList.toggle('selected', el.dataset.spanId === span.span_id)
    detail.replaceChildren()
    add(detail, spanDetail(span, data.apm_chunks ?? [], data.evaluations ?? []))
  }
  const choose = (span) => {
    // One history entry per chosen span: back returns to the span seen before.
    navigate(href('trace', traceId, { span: span.span_id }))
  }

  function draw () {
    const spans = data.spans ?? []
    const chunks = data.apm_chunks ?? []
    const evaluations = data.evaluations ?? []
    const rows = spanTree(spans)
    if (rows.length === 0) { root.replaceChildren(h('p', { class: 'empty' }, 'This trace has no spans.')); return }
    const t0 = rows.reduce((min, r) => (offsetNs(r.span.start_ns, min) < 0 ? r.span.start_ns : min), rows[0].span.start_ns)
    const extent = Math.max(1, ...rows.map((r) => offsetNs(r.span.start_ns, t0) + Number(r.span.duration)))
    const top = rows[0].span
    const errors = spans.filter((s) => s.status === 'error').length
    const evalsBySpan = new Map()
    for (const e of evaluations) { if (!evalsBySpan.has(e.span_id)) evalsBySpan.set(e.span_id, []); evalsBySpan.get(e.span_id).push(e) }
    tree.replaceChildren()
    for (const { span, depth } of rows) {
      const left = Math.min((offsetNs(span.start_ns, t0) / extent) * 100, 99.6)
      const width = Math.max((Number(span.duration) / extent) * 100, 0.4)
      const evals = evalsBySpan.get(span.span_id) ?? []
      const rowEl = h('div', { class: span.status === 'error' ? 'span-row is-error' : 'span-row', role: 'listitem', tabindex: 0, 'data-span-id': span.span_id },
        h('div', { class: 'span-label', style: { paddingLeft: `${depth * 16 + 4}px` } }, kindBadge(span.kind), h('span', { class: 'span-name' }, span.name),
          span.status === 'error' ? h('span', { class: 'err-dot', title: 'error' }, '●') : null,
          evals.length > 0 ? h('span', { class: 'evals' }, evals.map(evalBadge)) : null),
        h('div', { class: 'track' }, h('div', { class: `bar kind-${KINDS.includes(span.kind) ? span.kind : 'other'}`, style: { left: `${left}%`, width: `${Math.min(width, 100 - left)}%` } })),
        h('div', { class: 'num dur' }, fmtDuration(span.duration)))
      rowEl.addEventListener('click', () => choose(span))
      rowEl.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); choose(span) } })
      tree.append(rowEl)
    }
    const sessionId = data.session_id ?? top.event?.session_id
    root.replaceChildren(
      h('p', { class: 'crumbs' }, h('a', { href: lastHref('traces') }, '← Traces')),
      h('header', { class: 'trace-head' },
        h('h1', {}, kindBadge(top.kind), ' ', top.name),
        h('dl', { class: 'facts inline' },
          fact('trace id', h('code', {}, data.trace_id)), fact('ml_app', top.ml_app ?? '—'),
          fact('started', dateOf(top.start_ns)?.toLocaleString() ?? '—'), fact('duration', fmtDuration(extent)),
          fact('spans', String(spans.length)), fact('tokens', fmtInt(tokensOf(spans))),
          'cost_usd' in data ? fact('cost', costCell(data.cost_usd)) : null,
          sessionId !== undefined && sessionId !== null ? fact('session', h('a', { href: href('session', String(sessionId)) }, String(sessionId))) : null,
          fact('status', statusBadge(top.status, top.status === 'error' ? 0 : errors)),
          chunks.length > 0 ? fact('APM chunks', chunks.map((c) => `${c.kept ? 'kept' : 'dropped'} (priority ${c.priority}, ${c.span_count} spans)`).join('; ')) : null)),
      h('div', { class: 'trace-body' }, h('section', { class: 'waterfall', 'aria-label': 'span tree' }, tree), detail),
    )
    selectRow()
  }

  async function load () {
    let next
    try {
      next = await api(`/api/traces/${encodeURIComponent(traceId)}`)
    } catch (err) {
      if (err.status === 404 && data === undefined) {
        missing = true
        root.replaceChildren(h('p', { class: 'empty' }, 'No stored span belongs to trace ', h('code', {}, traceId), '. ', h('a', { href: href('traces') }, 'Back to traces')))
        return
      }
      throw err
    }
    const body = JSON.stringify(next)
    if (body === lastBody) return
    lastBody = body
    missing = false
    data = next
    draw()
  }

  // A trace not stored yet is asked for again only when the agent names it, not on every tick.
  const stop = watch(async (ids) => { if (ids === null ? !missing : ids.includes(traceId)) await load() })
  return {
    ready: load(),
    stop,
    update (route) {
      if (route.page !== 'trace' || route.id !== traceId) return false
      selected = route.params.get('span') ?? ''
      if (data !== undefined) selectRow()
      return true
    },
  }
}
