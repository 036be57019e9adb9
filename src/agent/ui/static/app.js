/* global document, window, location, history, sessionStorage, Node */
// The local agent's web UI: a trace list, a trace view and the delivery counters, from the
// agent's JSON API. LLM inputs and outputs are untrusted, so the DOM is built with createElement
// and text nodes only; the page's CSP (Trusted Types) also makes every HTML-parsing sink throw.
'use strict'

const KINDS = ['llm', 'embedding', 'retrieval', 'tool', 'task', 'workflow', 'agent']
const ROLES = ['system', 'user', 'assistant', 'tool']
const POLL_MS = 5000

const app = document.getElementById('app')
const conn = document.getElementById('status')
const filters = { mlApp: '', status: '', q: '' }
let generation = 0
let pollTimer

// ---- DOM ------------------------------------------------------------------------------------

/** `h('td', { class: 'num' }, 'text', node)`: attribute names are always ours; children become text nodes or elements. */
function h (tag, props, ...children) {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'class') el.className = value
    else if (key === 'style') Object.assign(el.style, value)
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value)
    else el.setAttribute(key, String(value))
  }
  add(el, children)
  return el
}

function add (el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue
    el.append(c instanceof Node ? c : String(c)) // anything else becomes a Text node, never markup
  }
}

function show (...nodes) { app.replaceChildren(...nodes.flat(Infinity).filter(Boolean)) }

// ---- formatting ------------------------------------------------------------------------------

function fmtDuration (ns) {
  const n = Number(ns)
  if (!Number.isFinite(n)) return '—'
  if (n < 1e3) return `${n} ns`
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} µs`
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} ms`
  return `${(n / 1e9).toFixed(2)} s`
}

function dateOf (startNs) {
  const ms = Number(startNs) / 1e6
  // Beyond ±8.64e15 ms a Date is invalid and toISOString() throws.
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms) : undefined
}

function fmtTime (startNs) {
  const d = dateOf(startNs)
  return d === undefined ? '—' : d.toLocaleTimeString([], { hour12: false })
}

function fmtInt (n) { return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : '—' }

function json (value) {
  try { return JSON.stringify(value, null, 2) } catch { return String(value) }
}

/** Nanosecond offset between two decimal strings, exact where Number would round. */
function offsetNs (startNs, t0) {
  try { return Number(BigInt(startNs) - BigInt(t0)) } catch { return Number(startNs) - Number(t0) }
}

function kindBadge (kind) {
  const k = KINDS.includes(kind) ? kind : 'other'
  return h('span', { class: `kind kind-${k}` }, kind ?? '?')
}

function statusBadge (status, errorCount) {
  if (status === 'error') return h('span', { class: 'status status-error' }, 'error')
  return h('span', { class: 'status status-ok' }, 'ok', errorCount > 0 ? h('small', {}, ` · ${errorCount} err`) : null)
}

const PATH_LABEL = { trace: 'rode the trace', evp: 'EVP', agentless: 'agentless' }
function pathBadge (path) { return h('span', { class: 'path', title: path }, PATH_LABEL[path] ?? path) }

function traceHref (id) { return `#/trace/${encodeURIComponent(id)}` }

// ---- data -----------------------------------------------------------------------------------

// ---- API key --------------------------------------------------------------------------------
// An agent started with an API key wants it on every query-API request. The page takes it from
// the URL fragment (`/#key=...`: a fragment never reaches the server, its logs or a Referer),
// wipes it from the address bar and history at once, and keeps it in sessionStorage (this tab
// only, gone when the tab closes). Without one, a 401 asks for it.

const KEY_SLOT = 'llmobs-ts.agent-api-key'
let apiKey = readStoredKey()

function readStoredKey () {
  try { return sessionStorage.getItem(KEY_SLOT) ?? '' } catch { return '' }
}

function storeKey (key) {
  apiKey = key
  try {
    if (key === '') sessionStorage.removeItem(KEY_SLOT)
    else sessionStorage.setItem(KEY_SLOT, key)
  } catch { /* storage off: the key lasts until the page reloads */ }
}

function takeKeyFromFragment () {
  const m = /^#key=([^&]*)(?:&(.*))?$/.exec(location.hash)
  if (m === null) return
  let key
  try { key = decodeURIComponent(m[1]) } catch { key = m[1] }
  if (key !== '') storeKey(key)
  history.replaceState(null, '', `${location.pathname}${location.search}#${m[2] ?? '/traces'}`)
}

function askForKey (wrong) {
  const input = h('input', { type: 'password', name: 'api-key', autocomplete: 'off', 'aria-label': 'API key', placeholder: 'API key' })
  const submit = () => { storeKey(input.value.trim()); route() }
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter') submit() })
  show(h('div', { class: 'key-prompt' },
    h('p', {}, wrong ? 'The agent refused this API key. Enter the one it was started with:' : 'This agent is protected by an API key. Enter it to see its data:'),
    h('p', { class: 'toolbar' }, input, h('button', { type: 'button', onclick: submit }, 'Use key')),
    h('p', { class: 'muted' }, 'Or open this page as /#key=<key>. The key stays in this tab only.')))
  input.focus()
}

async function api (path) {
  let res
  const headers = { Accept: 'application/json' }
  if (apiKey !== '') headers['DD-API-KEY'] = apiKey
  try {
    res = await fetch(path, { headers })
  } catch (err) {
    setConn(false)
    throw err
  }
  setConn(true)
  if (!res.ok) throw Object.assign(new Error(`${path}: HTTP ${res.status}`), { status: res.status })
  return res.json()
}

function setConn (ok) {
  conn.textContent = ok ? '' : 'agent unreachable'
  conn.className = ok ? 'conn' : 'conn conn-down'
}

function poll (gen, fn) {
  pollTimer = window.setInterval(() => {
    if (gen === generation && !document.hidden) fn().catch(() => {})
  }, POLL_MS)
}

// ---- trace list -----------------------------------------------------------------------------

function matches (t) {
  if (filters.mlApp !== '' && t.ml_app !== filters.mlApp) return false
  const hasError = t.status === 'error' || t.error_count > 0
  if (filters.status === 'error' && !hasError) return false
  if (filters.status === 'ok' && hasError) return false
  const q = filters.q.trim().toLowerCase()
  if (q === '') return true
  return [t.root_name, t.ml_app, t.trace_id, t.status, ...(t.paths ?? [])]
    .some((v) => typeof v === 'string' && v.toLowerCase().includes(q))
}

async function showTraces (gen) {
  let traces = []
  let lastBody = ''
  const mlSelect = h('select', { 'aria-label': 'ml_app', name: 'ml_app', onchange: (e) => { filters.mlApp = e.target.value; draw() } })
  const statusSelect = h('select', { 'aria-label': 'status', name: 'status', onchange: (e) => { filters.status = e.target.value; draw() } },
    h('option', { value: '' }, 'any status'), h('option', { value: 'ok' }, 'ok (no errors)'), h('option', { value: 'error' }, 'with errors'))
  statusSelect.value = filters.status
  const search = h('input', { type: 'search', name: 'q', placeholder: 'Search name, ml_app, trace id…', 'aria-label': 'search', oninput: (e) => { filters.q = e.target.value; draw() } })
  search.value = filters.q
  const count = h('span', { class: 'muted count' })
  const tbody = h('tbody')
  const head = ['Time', 'ml_app', 'Root span', 'Spans', 'Duration', 'Tokens', 'Status', 'Delivery'].map((c) => h('th', {}, c))
  show(
    h('div', { class: 'toolbar' }, mlSelect, statusSelect, search, count, h('button', { type: 'button', onclick: () => load().catch(fail) }, 'Refresh')),
    h('table', { class: 'traces' }, h('thead', {}, h('tr', {}, head)), tbody),
  )

  function fillMlApps () {
    const apps = [...new Set(traces.map((t) => t.ml_app).filter((a) => typeof a === 'string'))].sort()
    if (filters.mlApp !== '' && !apps.includes(filters.mlApp)) apps.push(filters.mlApp)
    mlSelect.replaceChildren(h('option', { value: '' }, 'all ml_apps'), ...apps.map((a) => h('option', { value: a }, a)))
    mlSelect.value = filters.mlApp
  }

  function row (t) {
    return h('tr', { class: t.status === 'error' ? 'trace-row is-error' : 'trace-row', 'data-trace-id': t.trace_id, onclick: (e) => { if (e.target.tagName !== 'A') location.hash = traceHref(t.trace_id) } },
      h('td', { title: dateOf(t.start_ns)?.toISOString() }, fmtTime(t.start_ns)),
      h('td', {}, t.ml_app ?? '—'),
      h('td', { class: 'name' }, h('a', { href: traceHref(t.trace_id) }, t.root_name)),
      h('td', { class: 'num' }, fmtInt(t.span_count)),
      h('td', { class: 'num' }, fmtDuration(t.duration)),
      h('td', { class: 'num', title: `${fmtInt(t.input_tokens)} in / ${fmtInt(t.output_tokens)} out` }, fmtInt(t.total_tokens)),
      h('td', {}, statusBadge(t.status, t.error_count)),
      h('td', {}, (t.paths ?? []).map(pathBadge)))
  }

  function draw () {
    const shown = traces.filter(matches)
    count.textContent = `${shown.length} of ${traces.length} traces`
    tbody.replaceChildren(...(shown.length > 0
      ? shown.map(row)
      : [h('tr', {}, h('td', { colspan: 8, class: 'empty' }, traces.length === 0 ? 'No LLM traces yet. Point an instrumented app at this agent.' : 'No trace matches the filters.'))]))
  }

  async function load () {
    const data = await api('/api/traces?limit=1000')
    if (gen !== generation) return
    const body = JSON.stringify(data.traces)
    if (body === lastBody) return
    lastBody = body
    traces = data.traces
    fillMlApps()
    draw()
  }

  await load()
  poll(gen, load)
}

// ---- trace view -----------------------------------------------------------------------------

/** Depth-first order of the span tree; spans whose parent is not stored start a tree of their own. */
function spanTree (spans) {
  const byId = new Map(spans.map((s) => [s.span_id, s]))
  const children = new Map()
  const roots = []
  for (const s of spans) {
    if (s.parent_id !== null && byId.has(s.parent_id) && s.parent_id !== s.span_id) {
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
    if (s.kind === 'llm' || s.kind === 'embedding') total += Number(s.event?.metrics?.total_tokens ?? 0) || 0
  }
  return total
}

/** How the span reached the agent, with the APM chunk that tells a rescue from a direct send. */
function delivery (span, chunks) {
  if (span.path === 'trace') return ['rode the trace', 'Carried in meta_struct._llmobs of a kept APM chunk and extracted by the agent.']
  if (span.path === 'agentless') return ['agentless', 'Posted straight to the LLM Observability intake endpoint (/api/v2/llmobs or /v1/input).']
  if (span.path !== 'evp') return [span.path, '']
  const apmId = span.event?._dd?.apm_trace_id
  const chunk = chunks.find((c) => c.trace_id === apmId)
  if (chunk === undefined) {
    return ['direct or rescued (EVP)', 'Sent through the EVP proxy, and no APM chunk of its trace reached the agent: sent directly (APM tracing off), or rescued after its APM payload failed.']
  }
  // A rescued span was removed from its chunk, so a stored chunk tells why it travelled alone.
  if (!chunk.kept) return ['rescued (EVP)', `Sent through the EVP proxy because its APM chunk (priority ${chunk.priority}) was dropped by the agent's sampling.`]
  if (chunk.priority === null || chunk.priority <= 0) {
    return ['rescued (EVP)', `Sent through the EVP proxy because the tracer predicted a drop (priority ${chunk.priority}); the agent's errors sampler kept the chunk anyway.`]
  }
  return ['direct (EVP)', `Sent through the EVP proxy on its own; its APM chunk (priority ${chunk.priority}) was kept without it, as in LLM Observability's direct mode.`]
}

async function showTrace (gen, traceId) {
  show(h('p', { class: 'muted' }, 'Loading trace…'))
  let data
  try {
    data = await api(`/api/traces/${encodeURIComponent(traceId)}`)
  } catch (err) {
    if (gen !== generation) return
    if (err.status === 404) show(h('p', { class: 'empty' }, 'No stored span belongs to trace ', h('code', {}, traceId), '. ', h('a', { href: '#/traces' }, 'Back to traces')))
    else fail(err)
    return
  }
  if (gen !== generation) return
  const spans = data.spans ?? []
  const chunks = data.apm_chunks ?? []
  const evaluations = data.evaluations ?? []
  const rows = spanTree(spans)
  if (rows.length === 0) return show(h('p', { class: 'empty' }, 'This trace has no spans.'))
  const t0 = rows.reduce((min, r) => (offsetNs(r.span.start_ns, min) < 0 ? r.span.start_ns : min), rows[0].span.start_ns)
  const extent = Math.max(1, ...rows.map((r) => offsetNs(r.span.start_ns, t0) + Number(r.span.duration)))
  const root = rows[0].span
  const errors = spans.filter((s) => s.status === 'error').length
  const detail = h('section', { class: 'detail', 'aria-label': 'span detail' })
  const tree = h('div', { class: 'tree', role: 'list' })

  const select = (span, rowEl) => {
    for (const el of tree.children) el.classList.toggle('selected', el === rowEl)
    detail.replaceChildren()
    add(detail, spanDetail(span, chunks, evaluations))
  }
  for (const { span, depth } of rows) {
    const left = (offsetNs(span.start_ns, t0) / extent) * 100
    const width = Math.max((Number(span.duration) / extent) * 100, 0.4)
    const rowEl = h('div', { class: span.status === 'error' ? 'span-row is-error' : 'span-row', role: 'listitem', tabindex: 0, 'data-span-id': span.span_id },
      h('div', { class: 'span-label', style: { paddingLeft: `${depth * 16 + 4}px` } }, kindBadge(span.kind), h('span', { class: 'span-name' }, span.name), span.status === 'error' ? h('span', { class: 'err-dot', title: 'error' }, '●') : null),
      h('div', { class: 'track' }, h('div', { class: `bar kind-${KINDS.includes(span.kind) ? span.kind : 'other'}`, style: { left: `${Math.min(left, 99.6)}%`, width: `${Math.min(width, 100 - Math.min(left, 99.6))}%` } })),
      h('div', { class: 'num dur' }, fmtDuration(span.duration)))
    rowEl.addEventListener('click', () => select(span, rowEl))
    rowEl.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); select(span, rowEl) } })
    tree.append(rowEl)
  }

  show(
    h('p', { class: 'crumbs' }, h('a', { href: '#/traces' }, '← Traces')),
    h('header', { class: 'trace-head' },
      h('h1', {}, kindBadge(root.kind), ' ', root.name),
      h('dl', { class: 'facts inline' },
        fact('trace id', h('code', {}, data.trace_id)), fact('ml_app', root.ml_app ?? '—'),
        fact('started', dateOf(root.start_ns)?.toLocaleString() ?? '—'), fact('duration', fmtDuration(extent)),
        fact('spans', String(spans.length)), fact('tokens', fmtInt(tokensOf(spans))),
        fact('status', statusBadge(root.status, root.status === 'error' ? 0 : errors)),
        chunks.length > 0 ? fact('APM chunks', chunks.map((c) => `${c.kept ? 'kept' : 'dropped'} (priority ${c.priority}, ${c.span_count} spans)`).join('; ')) : null)),
    h('div', { class: 'trace-body' }, h('section', { class: 'waterfall', 'aria-label': 'span tree' }, tree), detail),
  )
  select(root, tree.firstElementChild)
}

function fact (label, value) { return h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, value)) }

function spanDetail (span, chunks, evaluations) {
  const ev = span.event ?? {}
  const meta = ev.meta ?? {}
  const [path, why] = delivery(span, chunks)
  const model = [meta.model_provider, meta.model_name].filter((v) => typeof v === 'string' && v !== '').join(' / ')
  const evals = evaluations.filter((e) => e.span_id === span.span_id)
  return [
    h('h2', {}, kindBadge(span.kind), ' ', span.name, ' ', statusBadge(span.status, 0)),
    h('dl', { class: 'facts' },
      fact('kind', span.kind ?? '—'),
      model !== '' ? fact('model', model) : null,
      fact('duration', fmtDuration(span.duration)),
      fact('span id', h('code', {}, span.span_id)),
      fact('parent id', h('code', {}, span.parent_id ?? '—')),
      ev.session_id !== undefined ? fact('session', String(ev.session_id)) : null,
      fact('delivery', h('span', { class: 'delivery' }, h('strong', { 'data-delivery': span.path }, path), why !== '' ? h('span', { class: 'muted' }, ` — ${why}`) : null))),
    meta.error ? errorBox(meta.error) : null,
    io('Input', meta.input),
    io('Output', meta.output),
    metricsTable(ev.metrics),
    meta.metadata !== undefined ? section('Metadata', h('pre', { class: 'json' }, json(meta.metadata))) : null,
    meta.tool_definitions !== undefined ? section('Tool definitions', h('pre', { class: 'json' }, json(meta.tool_definitions))) : null,
    evals.length > 0 ? section('Evaluations', h('ul', { class: 'plain' }, evals.map((e) => h('li', {}, h('strong', {}, e.label), ` (${e.metric_type}): `, json(e.value))))) : null,
    Array.isArray(ev.tags) && ev.tags.length > 0 ? section('Tags', h('div', { class: 'tags' }, ev.tags.map((t) => h('span', { class: 'tag' }, String(t))))) : null,
  ]
}

function section (title, ...body) { return h('section', { class: 'block' }, h('h3', {}, title), body) }

function errorBox (err) {
  const e = typeof err === 'object' && err !== null ? err : { message: String(err) }
  return h('section', { class: 'block error-box' }, h('h3', {}, 'Error'),
    h('p', {}, h('strong', {}, e.type ?? 'Error'), ': ', e.message ?? ''),
    e.stack ? h('pre', { class: 'stack' }, String(e.stack)) : null)
}

function io (title, value) {
  if (value === undefined || value === null) return null
  if (Array.isArray(value.messages)) return section(title, h('div', { class: 'chat' }, value.messages.map(message)))
  if (Array.isArray(value.documents)) return section(title, h('ol', { class: 'docs' }, value.documents.map(documentItem)))
  if (value.value !== undefined) return section(title, h('pre', { class: 'value' }, typeof value.value === 'string' ? value.value : json(value.value)))
  return section(title, h('pre', { class: 'json' }, json(value)))
}

function message (m) {
  const role = typeof m?.role === 'string' && m.role !== '' ? m.role : 'message'
  return h('div', { class: `msg role-${ROLES.includes(role) ? role : 'other'}` },
    h('div', { class: 'role' }, role),
    m?.content !== undefined && m.content !== '' ? h('div', { class: 'content' }, typeof m.content === 'string' ? m.content : json(m.content)) : null,
    (Array.isArray(m?.tool_calls) ? m.tool_calls : []).map((c) => h('div', { class: 'tool-call' },
      h('div', {}, '→ tool call ', h('strong', {}, String(c?.name ?? '?')), c?.tool_id ? h('span', { class: 'muted' }, ` (${c.tool_id})`) : null),
      h('pre', { class: 'json' }, json(c?.arguments)))),
    (Array.isArray(m?.tool_results) ? m.tool_results : []).map((r) => h('div', { class: 'tool-result' },
      h('div', {}, '← tool result ', r?.name ? h('strong', {}, String(r.name)) : null, r?.tool_id ? h('span', { class: 'muted' }, ` (${r.tool_id})`) : null),
      h('pre', { class: 'value' }, typeof r?.result === 'string' ? r.result : json(r?.result)))))
}

function documentItem (d) {
  const label = [d?.name, d?.id !== undefined ? `id ${d.id}` : undefined, typeof d?.score === 'number' ? `score ${d.score}` : undefined].filter(Boolean).join(' · ')
  return h('li', { class: 'doc' }, label !== '' ? h('div', { class: 'muted' }, label) : null, h('div', { class: 'content' }, typeof d?.text === 'string' ? d.text : json(d)))
}

function metricsTable (metrics) {
  const entries = typeof metrics === 'object' && metrics !== null ? Object.entries(metrics) : []
  if (entries.length === 0) return null
  return section('Metrics', h('table', { class: 'metrics' }, h('tbody', {}, entries.map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', { class: 'num' }, typeof v === 'number' ? fmtInt(v) : json(v)))))))
}

// ---- delivery -------------------------------------------------------------------------------

const COUNTERS = {
  payloads_received: 'Data requests accepted and stored: trace payloads, EVP proxy posts, agentless posts, evaluations.',
  chunks_received: 'Non-empty trace chunks in accepted trace payloads.',
  chunks_dropped_sampling: "Chunks the Agent's sampling removed (priority < 0, or priority 0 without an error kept by the errors sampler). Their LLM spans can only arrive through the EVP proxy: the tracer rescues them.",
  chunks_dropped_invalid: "Chunks the Agent's normalizer would drop (a zero trace or span id, or spans of several traces in one chunk).",
  chunks_kept_errors: 'Priority-0 chunks kept by the errors sampler because a span has an error (part of the kept chunks).',
  llmobs_extracted: 'LLM span events taken from meta_struct._llmobs of kept chunks: they rode the trace.',
  llmobs_evp: 'LLM span events posted through the EVP proxy: rescued from dropped or failed traces, or sent directly.',
  llmobs_agentless: 'LLM span events posted straight to the intake endpoint /api/v2/llmobs.',
  duplicates_suppressed: 'Events not stored because an event with the same (trace_id, span_id) was already stored, whichever path either came by.',
  evaluations: 'Evaluation metrics received, duplicates included.',
  evaluation_duplicates_suppressed: 'Evaluations not stored because one with the same span, label, ml_app and timestamp was already stored.',
  requests_rejected: 'Requests refused by validation (bad method, content type, body, size, API key, Host, cross-site): answered 4xx, nothing stored.',
  faults_injected: 'Requests failed or delayed on purpose through POST /api/faults (fault tests).',
  requests_quiet: 'Calls to endpoints the agent does not model (remote config, telemetry, stats), answered quietly.',
  retention_removed_spans: 'LLM spans retention removed to keep the store within its limits (age, span count, size).',
  retention_removed_evaluations: 'Evaluations retention removed (too old, or their trace was removed).',
  retention_removed_chunks: 'APM chunk summaries retention removed (too old, or the store over its size limit).',
}

async function showDelivery (gen) {
  const tbody = h('tbody')
  const identity = h('p', { class: 'identity' })
  show(
    h('h1', {}, 'Delivery'),
    h('p', { class: 'muted' }, 'Every LLM span travels one way: it rides its APM trace when the trace is kept, is rescued through the EVP proxy when the trace is dropped or its payload fails, or goes directly (EVP or agentless) when APM tracing is off. The agent stores each (trace_id, span_id) once.'),
    h('table', { class: 'counters' }, h('thead', {}, h('tr', {}, h('th', {}, 'Counter'), h('th', { class: 'num' }, 'Value'), h('th', {}, 'Meaning'))), tbody),
    identity,
  )
  const load = async () => {
    const c = await api('/api/counters')
    if (gen !== generation) return
    tbody.replaceChildren(...Object.entries(c).map(([name, value]) => h('tr', { 'data-counter': name },
      h('td', {}, h('code', {}, name)), h('td', { class: 'num value' }, fmtInt(value)), h('td', { class: 'muted' }, COUNTERS[name] ?? ''))))
    const stored = (c.llmobs_extracted ?? 0) + (c.llmobs_evp ?? 0) + (c.llmobs_agentless ?? 0) - (c.duplicates_suppressed ?? 0)
    identity.textContent = `Stored LLM span events = extracted + EVP + agentless − duplicates = ${fmtInt(stored)}`
  }
  await load()
  poll(gen, load)
}

// ---- routing --------------------------------------------------------------------------------

function fail (err) {
  if (err?.status === 401) { askForKey(apiKey !== ''); return }
  show(h('p', { class: 'empty' }, 'Could not load data from the agent: ', String(err?.message ?? err)))
}

function route () {
  const gen = ++generation
  window.clearInterval(pollTimer)
  const [page, ...rest] = location.hash.replace(/^#\/?/, '').split('/')
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', a.dataset.nav === (page === 'trace' || page === '' ? 'traces' : page))
  }
  let run
  if (page === '' || page === 'traces') run = showTraces(gen)
  else if (page === 'trace' && rest.length > 0) {
    let id
    try { id = decodeURIComponent(rest.join('/')) } catch { id = rest.join('/') }
    run = showTrace(gen, id)
  } else if (page === 'delivery') run = showDelivery(gen)
  else {
    show(h('p', { class: 'empty' }, 'No such page. ', h('a', { href: '#/traces' }, 'Back to traces')))
    return
  }
  run.catch((err) => { if (gen === generation) fail(err) })
}

window.addEventListener('hashchange', () => { takeKeyFromFragment(); route() })
takeKeyFromFragment()
route()
