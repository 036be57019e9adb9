// Filter controls shared by the views: the time range picker and the text/select inputs whose
// values live in the URL. Each control reports a change as (name, value); the view pushes it.
import { h } from './dom.js'

export const RANGES = [
  ['', 'any time'], ['15m', 'last 15 min'], ['1h', 'last hour'], ['6h', 'last 6 h'],
  ['24h', 'last 24 h'], ['7d', 'last 7 days'], ['30d', 'last 30 days'], ['custom', 'custom…'],
]
const UNIT_MS = { m: 60_000, h: 3_600_000, d: 86_400_000 }

/** `since`/`until` (epoch ms) for the API from the URL: a preset `range`, else explicit bounds. */
export function rangeOf (params, now = Date.now()) {
  const m = /^([0-9]+)([mhd])$/.exec(params.get('range') ?? '')
  if (m !== null) return { since: now - Number(m[1]) * UNIT_MS[m[2]], until: undefined }
  const num = (k) => { const v = params.get(k); return v !== null && /^[0-9]{1,16}$/.test(v) ? Number(v) : undefined }
  return { since: num('since'), until: num('until') }
}

const pad = (n) => String(n).padStart(2, '0')
function localInput (ms) {
  if (ms === undefined) return ''
  const d = new Date(ms)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`
}

/** The range picker: a preset select, and two datetime inputs when "custom" is chosen. */
export function rangePicker (params, set) {
  const { since, until } = rangeOf(params)
  const custom = params.get('range') === null && (since !== undefined || until !== undefined)
  const select = h('select', { name: 'range', 'aria-label': 'time range' }, RANGES.map(([v, label]) => h('option', { value: v }, label)))
  select.value = custom ? 'custom' : (params.get('range') ?? '')
  const sinceIn = h('input', { type: 'datetime-local', name: 'since', 'aria-label': 'since', value: custom ? localInput(since) : '' })
  const untilIn = h('input', { type: 'datetime-local', name: 'until', 'aria-label': 'until', value: custom ? localInput(until) : '' })
  const box = h('span', { class: 'range-custom', hidden: custom ? undefined : 'hidden' }, sinceIn, ' – ', untilIn)
  const toMs = (el) => { const t = new Date(el.value).getTime(); return Number.isFinite(t) ? String(t) : '' }
  select.addEventListener('change', () => {
    if (select.value === 'custom') { box.hidden = false; sinceIn.focus(); return }
    box.hidden = true
    set({ range: select.value, since: '', until: '' })
  })
  const apply = () => set({ range: '', since: toMs(sinceIn), until: toMs(untilIn) })
  sinceIn.addEventListener('change', apply)
  untilIn.addEventListener('change', apply)
  return h('span', { class: 'range' }, select, box)
}

export function selectFilter (name, label, options, value, set) {
  const el = h('select', { name, 'aria-label': label }, options.map(([v, text]) => h('option', { value: v }, text)))
  if (value !== '' && !options.some(([v]) => v === value)) el.append(h('option', { value }, value))
  el.value = value
  el.addEventListener('change', () => set({ [name]: el.value }))
  return el
}

/** A text filter: applied on Enter or when the box loses focus, and for search boxes also while typing. */
export function textFilter (name, label, value, set, { live = false, type = 'text', size } = {}) {
  const el = h('input', { type, name, 'aria-label': label, placeholder: label, value, size })
  let timer
  let pushed = false
  const commit = (replace) => { clearTimeout(timer); if (el.value !== value) { value = el.value; set({ [name]: el.value }, { replace }) } }
  el.addEventListener('keydown', (e) => { if (e.key === 'Enter') commit(false) })
  el.addEventListener('change', () => commit(pushed))
  el.addEventListener('blur', () => { pushed = false })
  // While typing: one history entry for the whole word, not one per key.
  if (live) el.addEventListener('input', () => { clearTimeout(timer); timer = setTimeout(() => { commit(pushed); pushed = true }, 300) })
  return el
}
