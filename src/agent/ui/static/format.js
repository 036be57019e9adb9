// Formatting of the values the API returns, and the small badges every view shares.
import { h } from './dom.js'

export const KINDS = ['llm', 'embedding', 'retrieval', 'tool', 'task', 'workflow', 'agent']

export function fmtDuration (ns) {
  const n = Number(ns)
  if (!Number.isFinite(n)) return '—'
  if (n < 1e3) return `${n} ns`
  if (n < 1e6) return `${(n / 1e3).toFixed(1)} µs`
  if (n < 1e9) return `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} ms`
  return `${(n / 1e9).toFixed(2)} s`
}

export function fmtMs (ms) { return ms === null || ms === undefined || !Number.isFinite(Number(ms)) ? '—' : fmtDuration(Number(ms) * 1e6) }

export function dateOfMs (ms) {
  // Beyond ±8.64e15 ms a Date is invalid and toISOString() throws.
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms) : undefined
}

export function dateOf (startNs) { return dateOfMs(Number(startNs) / 1e6) }

const pad = (n, w = 2) => String(n).padStart(w, '0')

/** Local date and time, `2026-12-01 20:04:28`: sortable by eye and the same in every locale. */
export function fmtDateTimeMs (ms) {
  const d = dateOfMs(ms)
  if (d === undefined) return '—'
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`
}

export function fmtDateTime (startNs) { return fmtDateTimeMs(Number(startNs) / 1e6) }

export function isoOf (startNs) { return dateOf(startNs)?.toISOString() }

export function fmtInt (n) { return typeof n === 'number' && Number.isFinite(n) ? n.toLocaleString('en-US') : '—' }

/** USD with enough digits that a cheap call is not shown as $0.00; null means no price. */
export function fmtCost (usd) {
  if (usd === null || usd === undefined) return 'no price'
  const n = Number(usd)
  if (!Number.isFinite(n)) return 'no price'
  if (n === 0) return '$0'
  // Two significant digits in plain decimals ($0.000023), never an exponent ($2.3e-5).
  if (n < 0.01) return `$${n.toFixed(Math.min(12, Math.ceil(-Math.log10(n)) + 1)).replace(/0+$/, '')}`
  return `$${n.toFixed(n < 10 ? 4 : 2)}`
}

export function fmtPercent (r) { return typeof r === 'number' && Number.isFinite(r) ? `${(r * 100).toFixed(r < 0.1 ? 2 : 1)}%` : '—' }

/** Total tokens; input + output when the event carried no total (or a zero one beside them). */
export function totalTokens (row) {
  const inp = Number(row?.input_tokens ?? 0) || 0
  const out = Number(row?.output_tokens ?? 0) || 0
  const total = Number(row?.total_tokens)
  return Number.isFinite(total) && total > 0 ? total : inp + out
}

export function json (value) {
  try { return JSON.stringify(value, null, 2) } catch { return String(value) }
}

export function evalValue (v) {
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(3).replace(/0+$/, '')
  if (typeof v === 'string') return v
  return JSON.stringify(v) ?? String(v)
}

/** Nanosecond offset between two decimal strings, exact where Number would round. */
export function offsetNs (startNs, t0) {
  try { return Number(BigInt(startNs) - BigInt(t0)) } catch { return Number(startNs) - Number(t0) }
}

/** Parent ids that mean "no parent" on the wire. */
export function isRootParent (parentId) {
  return parentId === null || parentId === undefined || parentId === '' || parentId === '0' || parentId === 'undefined'
}

export function kindBadge (kind) {
  const k = KINDS.includes(kind) ? kind : 'other'
  return h('span', { class: `kind kind-${k}` }, kind ?? '?')
}

export function statusBadge (status, errorCount) {
  if (status === 'error') return h('span', { class: 'status status-error' }, 'error')
  return h('span', { class: 'status status-ok' }, 'ok', errorCount > 0 ? h('small', {}, ` · ${errorCount} err`) : null)
}

const PATH_LABEL = { trace: 'rode the trace', evp: 'EVP', agentless: 'agentless', otlp: 'OTLP' }
const PATH_WHY = {
  trace: 'Carried inside its kept APM trace (meta_struct._llmobs) and extracted by the agent.',
  evp: 'Sent through the EVP proxy: rescued from a dropped or failed APM trace, or sent directly.',
  agentless: 'Posted straight to the LLM Observability intake endpoint.',
  otlp: 'Exported by an OpenTelemetry app to the OTLP intake (/v1/traces) and mapped from its GenAI attributes.',
}
export function pathBadge (path) { return h('span', { class: 'path', title: PATH_WHY[path] ?? path }, PATH_LABEL[path] ?? path) }

/** `label: value` of one evaluation; the label and value are user data and stay text. */
export function evalBadge (e) {
  const v = evalValue(e?.value)
  return h('span', { class: 'eval', title: `${e?.label} (${e?.metric_type}): ${v}`, 'data-eval-label': String(e?.label ?? '') },
    h('span', { class: 'eval-label' }, String(e?.label ?? '?')), h('span', { class: 'eval-value' }, v))
}

const USAGE_WHY = {
  provider: 'token counts reported by the model provider',
  estimated: 'token counts estimated by the SDK',
  missing: 'no token counts were recorded',
  mixed: 'some counts from the provider, some estimated or missing',
}
export function usageBadge (source) {
  if (typeof source !== 'string' || source === '') return null
  return h('span', { class: `usage usage-${USAGE_WHY[source] !== undefined ? source : 'other'}`, title: USAGE_WHY[source] ?? source }, source)
}

export function costCell (usd, complete) {
  if (usd === null || usd === undefined) return h('span', { class: 'no-price', title: 'a model of this trace is not in the price table' }, 'no price')
  return h('span', { class: 'cost', title: complete === false ? 'partial: some spans have no price' : undefined }, fmtCost(usd), complete === false ? '+' : '')
}
