// The detail pane of one span: its facts, how it reached the agent, its I/O as a chat or
// documents, metrics, metadata, evaluations and tags. Everything from the span is text.
import { h } from './dom.js'
import { costCell, evalBadge, fmtDuration, fmtInt, isRootParent, json, kindBadge, statusBadge, totalTokens } from './format.js'
import { href } from './url_state.js'

const ROLES = ['system', 'user', 'assistant', 'tool']

/** How the span reached the agent, with the APM chunk that tells a rescue from a direct send. */
export function delivery (span, chunks) {
  if (span.path === 'trace') return ['rode the trace', 'Carried in meta_struct._llmobs of a kept APM chunk and extracted by the agent.']
  if (span.path === 'agentless') return ['agentless', 'Posted straight to the LLM Observability intake endpoint (/api/v2/llmobs or /v1/input).']
  if (span.path === 'otlp') return ['OTLP', 'Exported by an OpenTelemetry app to the OTLP intake (/v1/traces); mapped from its GenAI attributes.']
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

export function fact (label, value) { return h('div', { class: 'fact' }, h('dt', {}, label), h('dd', {}, value)) }

function spanTokens (span) {
  const m = span.event?.metrics ?? {}
  return totalTokens({ input_tokens: m.input_tokens, output_tokens: m.output_tokens, total_tokens: span.total_tokens ?? m.total_tokens })
}

export function spanDetail (span, chunks, evaluations) {
  const ev = span.event ?? {}
  const meta = ev.meta ?? {}
  const [path, why] = delivery(span, chunks)
  const model = [meta.model_provider, meta.model_name].filter((v) => typeof v === 'string' && v !== '').join(' / ')
  const evals = evaluations.filter((e) => e.span_id === span.span_id)
  const isModel = span.kind === 'llm' || span.kind === 'embedding'
  const sessionId = ev.session_id
  return [
    h('h2', {}, kindBadge(span.kind), ' ', span.name, ' ', statusBadge(span.status, 0)),
    h('dl', { class: 'facts' },
      fact('kind', span.kind ?? '—'),
      model !== '' ? fact('model', model) : null,
      fact('duration', fmtDuration(span.duration)),
      fact('span id', h('code', {}, span.span_id)),
      // The wire spells "no parent" several ways (null, '', '0', 'undefined').
      fact('parent id', isRootParent(span.parent_id) ? h('span', { class: 'muted' }, 'none (root span)') : h('code', {}, span.parent_id)),
      sessionId !== undefined && sessionId !== null ? fact('session', h('a', { href: href('session', String(sessionId)) }, String(sessionId))) : null,
      isModel ? fact('tokens', fmtInt(spanTokens(span))) : null,
      isModel || span.cost_usd !== undefined ? fact('cost', h('span', {}, costCell(span.cost_usd ?? null), span.price ? h('span', { class: 'muted' }, ` — price of ${span.price.pattern}, ${span.price.date}`) : null)) : null,
      fact('delivery', h('span', { class: 'delivery' }, h('strong', { 'data-delivery': span.path }, path), why !== '' ? h('span', { class: 'muted' }, ` — ${why}`) : null))),
    warningsBox(ev),
    apmPath(ev._dd?.apm_path),
    meta.error ? errorBox(meta.error) : null,
    io('Input', meta.input),
    io('Output', meta.output),
    metricsTable(ev.metrics),
    meta.metadata !== undefined ? section('Metadata', h('pre', { class: 'json' }, json(meta.metadata))) : null,
    meta.tool_definitions !== undefined ? section('Tool definitions', h('pre', { class: 'json' }, json(meta.tool_definitions))) : null,
    evals.length > 0 ? section('Evaluations', h('ul', { class: 'plain evaluations' }, evals.map((e) => h('li', {}, evalBadge(e), ` (${e.metric_type})`)))) : null,
    Array.isArray(ev.tags) && ev.tags.length > 0 ? section('Tags', h('div', { class: 'tags' }, ev.tags.map((t) => h('span', { class: 'tag' }, String(t))))) : null,
  ]
}

/**
 * What the mapping could not read: `collection_errors:<warning>` tags (one each, or the bridge's
 * comma-joined one) and the event's own `collection_errors` list (e.g. truncated_io).
 */
export function mappingWarnings (ev) {
  const out = []
  for (const t of Array.isArray(ev.tags) ? ev.tags : []) {
    if (typeof t === 'string' && t.startsWith('collection_errors:')) out.push(...t.slice('collection_errors:'.length).split(','))
  }
  for (const w of Array.isArray(ev.collection_errors) ? ev.collection_errors : []) out.push(String(w))
  return [...new Set(out.filter((w) => w !== ''))]
}

function warningsBox (ev) {
  const warnings = mappingWarnings(ev)
  if (warnings.length === 0) return null
  return h('section', { class: 'block warnings-box' }, h('h3', {}, 'Mapping warnings'),
    h('ul', { class: 'plain warnings' }, warnings.map((w) => h('li', {}, h('code', {}, w)))))
}

/** The APM spans (OTLP intake) between this span and its LLM parent: where the call happened. */
function apmPath (hops) {
  if (!Array.isArray(hops) || hops.length === 0) return null
  return section('Called from (APM spans)', h('ol', { class: 'plain apm-path' }, hops.map((p) => h('li', {},
    h('code', {}, String(p?.name ?? '?')), ' ', String(p?.resource ?? ''),
    h('span', { class: 'muted' }, ` — ${String(p?.service ?? '')}${p?.type ? ` (${String(p.type)})` : ''}`)))))
}

export function section (title, ...body) { return h('section', { class: 'block' }, h('h3', {}, title), body) }

export function errorBox (err) {
  const e = typeof err === 'object' && err !== null ? err : { message: String(err) }
  return h('section', { class: 'block error-box' }, h('h3', {}, 'Error'),
    h('p', {}, h('strong', {}, String(e.type ?? 'Error')), ': ', String(e.message ?? '')),
    e.stack ? h('pre', { class: 'stack' }, String(e.stack)) : null)
}

/** Input or output as the span stored it: messages as a chat, documents as a list, else text or JSON. */
export function ioBody (value) {
  if (value === undefined || value === null) return null
  if (Array.isArray(value.messages)) return h('div', { class: 'chat' }, value.messages.map(message))
  if (Array.isArray(value.documents)) return h('ol', { class: 'docs' }, value.documents.map(documentItem))
  if (value.value !== undefined) return h('pre', { class: 'value' }, typeof value.value === 'string' ? value.value : json(value.value))
  return h('pre', { class: 'json' }, json(value))
}

function io (title, value) {
  const body = ioBody(value)
  return body === null ? null : section(title, body)
}

export function message (m) {
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
