import { epochNsString } from '../model/clock.js'
import type { SpanData } from '../model/span_data.js'

/**
 * Agentless APM (`POST <trace intake>/v1/input`, DESIGN §3.6): one chunk as JSON
 * `{"spans":[...]}`, ids as 16-char hex strings, `start` as an exact integer (written from the
 * decimal digits: epoch nanoseconds do not survive a double), meta_struct values inline as JSON.
 * Off the hot path (agentless is opt-in), so plain JSON.stringify per field is fine.
 */
export function encodeChunkJson (spans: readonly SpanData[]): string {
  const parts: string[] = []
  for (const s of spans) {
    let json = '{"trace_id":' + JSON.stringify(s.traceId) +
      ',"span_id":' + JSON.stringify(s.spanId) +
      ',"parent_id":' + JSON.stringify(s.parentId) +
      ',"name":' + JSON.stringify(String(s.name)) +
      ',"service":' + JSON.stringify(String(s.service)) +
      ',"resource":' + JSON.stringify(String(s.resource)) +
      ',"type":' + JSON.stringify(String(s.type)) +
      ',"start":' + epochNsString(s.startSec, s.startNsec) +
      ',"duration":' + String(Math.max(0, Math.round(s.duration))) +
      ',"error":' + (s.error === 1 ? '1' : '0') +
      ',"meta":' + JSON.stringify(s.meta) +
      ',"metrics":' + JSON.stringify(finiteMetrics(s.metrics))
    if (s.metaStruct !== undefined && Object.keys(s.metaStruct).length > 0) json += ',"meta_struct":' + JSON.stringify(s.metaStruct)
    parts.push(json + '}')
  }
  return '{"spans":[' + parts.join(',') + ']}'
}

/** The payload body from chunks encoded by `encodeChunkJson`. */
export function assemblePayloadJson (chunks: readonly string[]): string {
  return '{"traces":[' + chunks.join(',') + ']}'
}

function finiteMetrics (m: Record<string, number>): Record<string, number> {
  for (const k in m) {
    if (!Number.isFinite(m[k])) {
      const out: Record<string, number> = {}
      for (const j in m) if (Number.isFinite(m[j])) out[j] = m[j]
      return out
    }
  }
  return m
}
