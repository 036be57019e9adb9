import { decodeMsgpack, evpEvents, v04Chunks, type Sink } from './sink.js'

/**
 * Field-by-field comparison of what dd-trace and llmobs-ts sent for one workload: LLMObs events
 * (wherever they travelled: EVP posts or `meta_struct._llmobs` on APM spans) paired by name and
 * start order, each with its APM span, and the APM spans that carry no event paired by name.
 * Ids, timings and sampling decisions differ by nature and are normalised or left out; every
 * other difference is reported.
 */

type Obj = Record<string, any>

export interface Diff { span: string, field: string, dd?: unknown, ours?: unknown }

export interface Capture { events: Obj[], spans: Obj[] }

/** Sampling is item 1's business and its own tests'; the values depend on when agent rates arrived. */
const IGNORED_APM = new Set(['_dd.p.dm', '_dd.p.ksr', '_dd.agent_psr', '_sampling_priority_v1'])
/** Present on both sides with values that differ by nature (ids, pids, paths of this machine). */
const VOLATILE_APM = new Set(['runtime-id', '_dd.p.tid', 'process_id', '_dd.tags.process'])
const VOLATILE_METRICS = new Set(['time_to_first_token'])
/** The event's own envelope: ids and timings, compared structurally (parent) or not at all. */
const ENVELOPE = new Set(['trace_id', 'span_id', 'parent_id', 'name', 'start_ns', 'duration', 'status', 'meta', 'metrics', 'tags', '_dd', 'session_id', 'ml_app', 'delivery'])

export function capture (sink: Sink): Capture {
  const spans = v04Chunks(sink).flat()
  const events: Obj[] = evpEvents(sink).map((e) => ({ ...e, delivery: 'EVP' }))
  for (const s of spans) {
    const raw = s.meta_struct?._llmobs
    if (raw === undefined) continue
    const ms = (raw instanceof Uint8Array ? decodeMsgpack(raw) : raw) as Obj
    events.push({ ...ms, span_id: String(s.span_id), start_ns: String(s.start), status: s.error === 1 ? 'error' : 'ok', delivery: 'meta_struct' })
  }
  return { events, spans }
}

export function compare (dd: Capture, ours: Capture): Diff[] {
  const diffs: Diff[] = []
  const ddPairs = byName(dd.events)
  const ourPairs = byName(ours.events)
  const usedDd = new Set<string>()
  const usedOurs = new Set<string>()
  for (const key of [...new Set([...ddPairs.keys(), ...ourPairs.keys()])].sort()) {
    const a = ddPairs.get(key)
    const b = ourPairs.get(key)
    if (a === undefined || b === undefined) {
      diffs.push({ span: key, field: 'event', dd: a === undefined ? undefined : 'sent', ours: b === undefined ? undefined : 'sent' })
      continue
    }
    usedDd.add(String(a.span_id))
    usedOurs.add(String(b.span_id))
    diffFields(diffs, key, eventView(a, dd.events), eventView(b, ours.events))
    const sa = dd.spans.find((s) => String(s.span_id) === String(a.span_id))
    const sb = ours.spans.find((s) => String(s.span_id) === String(b.span_id))
    diffFields(diffs, key, apmView(sa, a), apmView(sb, b))
  }
  // APM spans without an event: the first of each name on each side.
  const restDd = firstByName(dd.spans.filter((s) => !usedDd.has(String(s.span_id))))
  const restOurs = firstByName(ours.spans.filter((s) => !usedOurs.has(String(s.span_id))))
  for (const name of [...new Set([...restDd.keys(), ...restOurs.keys()])].sort()) {
    const a = restDd.get(name)
    const b = restOurs.get(name)
    if (a === undefined || b === undefined) {
      diffs.push({ span: `apm:${name}`, field: 'apm', dd: a === undefined ? undefined : 'sent', ours: b === undefined ? undefined : 'sent' })
      continue
    }
    diffFields(diffs, `apm:${name}`, apmView(a, undefined), apmView(b, undefined))
  }
  return diffs
}

/** Events keyed `name` (or `name#2`, ... in start order when a name repeats). */
function byName (events: Obj[]): Map<string, Obj> {
  const sorted = [...events].sort((x, y) => (BigInt(x.start_ns) < BigInt(y.start_ns) ? -1 : 1))
  const seen = new Map<string, number>()
  const out = new Map<string, Obj>()
  for (const e of sorted) {
    const n = (seen.get(e.name) ?? 0) + 1
    seen.set(e.name, n)
    out.set(n === 1 ? e.name : `${String(e.name)}#${n}`, e)
  }
  return out
}

function firstByName (spans: Obj[]): Map<string, Obj> {
  const out = new Map<string, Obj>()
  for (const s of [...spans].sort((x, y) => (BigInt(x.start) < BigInt(y.start) ? -1 : 1))) if (!out.has(s.name)) out.set(s.name, s)
  return out
}

function tagMap (tags: unknown): Obj {
  if (!Array.isArray(tags)) return (tags ?? {}) as Obj
  const out: Obj = {}
  for (const t of tags as string[]) {
    const i = t.indexOf(':')
    out[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1)
  }
  return out
}

/** One event as flat `field → value`. */
function eventView (e: Obj, all: Obj[]): Obj {
  const v: Obj = {}
  const meta: Obj = e.meta ?? {}
  v['event.delivery'] = e.delivery
  v['event.meta.span.kind'] = 'span.kind' in meta ? 'flat "span.kind" key' : 'nested span.kind'
  v['event.kind'] = meta['span.kind'] ?? meta.span?.kind
  const parent = all.find((p) => String(p.span_id) === String(e.parent_id))
  v['event.parent'] = parent === undefined ? (e.parent_id === 'undefined' ? 'root' : 'not in this capture') : parent.name
  v['event.status'] = e.status
  v['event.session_id'] = e.session_id
  for (const [k, x] of Object.entries(meta)) {
    if (k === 'span' || k === 'span.kind') continue
    if (k === 'metadata' && x !== null && typeof x === 'object') {
      for (const [mk, mx] of Object.entries(x as Obj)) v[`event.meta.metadata.${mk}`] = mx
      continue
    }
    v[`event.meta.${k}`] = x
  }
  for (const [k, x] of Object.entries(e.metrics ?? {})) v[`event.metrics.${k}`] = VOLATILE_METRICS.has(k) ? 'a number' : x
  for (const [k, x] of Object.entries(tagMap(e.tags))) v[`event.tags.${k}`] = x
  for (const k of Object.keys(e._dd ?? {})) v[`event._dd.${k}`] = 'present'
  for (const k of Object.keys(e)) if (!ENVELOPE.has(k)) v[`event.${k}`] = 'present'
  return v
}

/** One APM span as flat `field → value`, ids normalised to what they point at. */
function apmView (s: Obj | undefined, event: Obj | undefined): Obj {
  if (s === undefined) return { apm: undefined }
  const v: Obj = { 'apm.name': s.name, 'apm.resource': s.resource, 'apm.type': s.type ?? '', 'apm.service': s.service, 'apm.error': s.error }
  for (const [k, x] of Object.entries(s.meta ?? {})) {
    if (IGNORED_APM.has(k)) continue
    let val: unknown = x
    if (VOLATILE_APM.has(k)) val = 'present'
    else if (k === 'llmobs_trace_id') val = event !== undefined && x === event.trace_id ? "this span's LLMObs trace id" : 'another id'
    else if (k === 'llmobs_parent_id') val = String(x) === String(s.span_id) ? "this span's id" : 'another id'
    v[`apm.meta.${k}`] = val
  }
  for (const [k, x] of Object.entries(s.metrics ?? {})) {
    if (IGNORED_APM.has(k)) continue
    v[`apm.metrics.${k}`] = VOLATILE_APM.has(k) ? 'present' : x
  }
  return v
}

function diffFields (out: Diff[], span: string, a: Obj, b: Obj): void {
  for (const field of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    if (canonical(a[field]) !== canonical(b[field])) out.push({ span, field, dd: a[field], ours: b[field] })
  }
}

/** JSON with object keys sorted: key order is not part of what either side means. */
export function canonical (v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) return x
    return Object.fromEntries(Object.entries(x as Obj).sort(([p], [q]) => (p < q ? -1 : p > q ? 1 : 0)))
  }) ?? 'undefined'
}

/** An expected, documented difference; `span: '*'` matches any span. Values are exact (undefined: absent). */
export interface Expected { span: string, field: string, dd?: unknown, ours?: unknown, why: string }

export function matches (e: Expected, d: Diff): boolean {
  return (e.span === '*' || e.span === d.span) && e.field === d.field &&
    canonical(e.dd) === canonical(d.dd) && canonical(e.ours) === canonical(d.ours)
}
