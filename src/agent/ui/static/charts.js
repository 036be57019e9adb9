// Small hand-drawn SVG charts for the summary: bars or a line over time buckets, with the
// maximum on the axis and each bucket's value in a tooltip (<title>). Sized by viewBox, so
// they shrink to a phone's width.
import { h, svg } from './dom.js'
import { fmtDateTimeMs } from './format.js'

const W = 480
const H = 150
const PAD = { left: 8, right: 8, top: 18, bottom: 22 }

/**
 * `points`: [{ t_ms, value, extra? }] in time order. `kind`: 'bars' | 'line'. `fmt` formats a
 * value for the axis and tooltips. A bucket whose value is null (no data, no price) is a gap.
 */
export function timeChart ({ title, points, kind = 'bars', fmt = String, overlay }) {
  const values = points.map((p) => (typeof p.value === 'number' && Number.isFinite(p.value) ? p.value : null))
  const max = Math.max(0, ...values.filter((v) => v !== null))
  const innerW = W - PAD.left - PAD.right
  const innerH = H - PAD.top - PAD.bottom
  const step = points.length > 0 ? innerW / points.length : innerW
  const y = (v) => PAD.top + innerH - (max > 0 ? (v / max) * innerH : 0)
  const x = (i) => PAD.left + i * step
  const marks = []
  if (kind === 'bars') {
    points.forEach((p, i) => {
      const v = values[i]
      if (v === null) return
      const tip = `${fmtDateTimeMs(p.t_ms)}: ${fmt(v)}${overlay !== undefined ? `, ${overlay.label} ${overlay.fmt(overlay.values[i] ?? 0)}` : ''}`
      marks.push(svg('rect', { class: 'chart-bar', x: x(i) + step * 0.1, y: y(v), width: Math.max(step * 0.8, 1), height: PAD.top + innerH - y(v) }, svg('title', {}, tip)))
      const o = overlay?.values[i]
      if (typeof o === 'number' && o > 0) marks.push(svg('rect', { class: 'chart-bar-overlay', x: x(i) + step * 0.1, y: y(o), width: Math.max(step * 0.8, 1), height: PAD.top + innerH - y(o) }, svg('title', {}, tip)))
    })
  } else {
    let d = ''
    points.forEach((p, i) => {
      const v = values[i]
      if (v === null) { d += ' '; return }
      const cx = x(i) + step / 2
      d += `${d === '' || d.endsWith(' ') ? 'M' : 'L'}${cx.toFixed(1)},${y(v).toFixed(1)}`
      marks.push(svg('circle', { class: 'chart-dot', cx, cy: y(v), r: 2.5 }, svg('title', {}, `${fmtDateTimeMs(p.t_ms)}: ${fmt(v)}`)))
    })
    if (d.trim() !== '') marks.unshift(svg('path', { class: 'chart-line', d: d.replace(/ +/g, ' ').trim(), fill: 'none' }))
  }
  const first = points[0]?.t_ms
  const last = points.at(-1)?.t_ms
  return h('figure', { class: 'chart', 'data-chart': title },
    h('figcaption', {}, title),
    svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': `${title}, max ${fmt(max)}` },
      svg('line', { class: 'chart-axis', x1: PAD.left, x2: W - PAD.right, y1: PAD.top + innerH, y2: PAD.top + innerH }),
      svg('text', { class: 'chart-label', x: PAD.left, y: 12 }, `max ${fmt(max)}`),
      first !== undefined ? svg('text', { class: 'chart-label', x: PAD.left, y: H - 6 }, fmtDateTimeMs(first)) : null,
      last !== undefined ? svg('text', { class: 'chart-label', x: W - PAD.right, y: H - 6, 'text-anchor': 'end' }, fmtDateTimeMs(last)) : null,
      marks))
}
