/* global document, Node */
// DOM building for the page. LLM inputs and outputs are untrusted, so nodes are made with
// createElement and text nodes only; the page's CSP (Trusted Types) also makes every
// HTML-parsing sink throw, so a slip fails loudly instead of becoming an injection.

const SVG_NS = 'http://www.w3.org/2000/svg'

/** `h('td', { class: 'num' }, 'text', node)`: attribute names are always ours; children become text nodes or elements. */
export function h (tag, props, ...children) {
  return build(document.createElement(tag), props, children)
}

/** `svg('rect', { x: 1 })`: the same for SVG elements (charts). */
export function svg (tag, props, ...children) {
  return build(document.createElementNS(SVG_NS, tag), props, children)
}

function build (el, props, children) {
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue
    if (key === 'class') el.setAttribute('class', value)
    else if (key === 'style') Object.assign(el.style, value)
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value)
    else el.setAttribute(key, String(value))
  }
  add(el, children)
  return el
}

export function add (el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue
    el.append(c instanceof Node ? c : String(c)) // anything else becomes a Text node, never markup
  }
}

const ENTITIES = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }

function decodeEntities (s) {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name) => {
    if (name[0] === '#') {
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10)
      try { return String.fromCodePoint(code) } catch { return whole }
    }
    return ENTITIES[name.toLowerCase()] ?? whole
  })
}

/**
 * The server's search snippet is HTML-escaped text whose only markup is `<mark>`…`</mark>`.
 * It is read here by hand rather than through an HTML sink: only those two tags become
 * elements, everything else (a tag the server should never send included) stays text.
 */
export function snippetNodes (html) {
  if (typeof html !== 'string' || html === '') return []
  const out = []
  let marked = false
  for (const part of html.split(/(<mark>|<\/mark>)/)) {
    if (part === '<mark>') { marked = true; continue }
    if (part === '</mark>') { marked = false; continue }
    if (part === '') continue
    const text = decodeEntities(part)
    out.push(marked ? h('mark', {}, text) : text)
  }
  return out
}
