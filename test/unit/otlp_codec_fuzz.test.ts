import { test } from 'node:test'
import assert from 'node:assert/strict'
import { decodeTracesRequest, decodeTracesResponse, encodeTracesRequest, encodeTracesResponse, type OtlpDecoded } from '../../src/encode/otlp/index.js'
import { sampleRequest } from '../helpers/otlp_sample.js'

/**
 * Random and mutated bodies through both decoders: every one is answered with a value or a
 * reason, never an exception. scripts/fuzz.mjs runs the same decoders at a larger scale.
 */
const ITERATIONS = 4000
const SEED = 0x07e1c0de

function mulberry32 (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
const rand = mulberry32(SEED)
const int = (n: number): number => Math.floor(rand() * n)

/** Protobuf-minded mutations: bit flips, varint-ish bytes, cuts, splices, duplicated runs. */
function mutate (input: Uint8Array): Uint8Array {
  let b = Buffer.from(input)
  for (let k = 0, rounds = 1 + int(3); k < rounds; k++) {
    const at = int(b.length + 1)
    switch (int(6)) {
      case 0: for (let i = 0, n = 1 + int(4); i < n && b.length > 0; i++) b[int(b.length)] ^= 1 << int(8); break
      case 1: if (b.length > 0) b[int(b.length)] = [0x00, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x0f, 0x0b, 0x0c][int(9)]; break
      case 2: b = Buffer.concat([b.subarray(0, at), Buffer.from(Array.from({ length: 1 + int(6) }, () => int(256))), b.subarray(at)]); break
      case 3: b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + int(16)))]); break
      case 4: b = b.subarray(0, at); break
      default: { const len = 1 + int(32); b = Buffer.concat([b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len)]) }
    }
  }
  return new Uint8Array(b)
}

/** JSON text mutations: characters that break structure, types and ids. */
function mutateText (src: string): string {
  const CHARS = '{}[]",:-0123456789abcdefABCDEF.eE \\nt_\u0000\ud800'
  let s = src
  for (let k = 0, rounds = 1 + int(3); k < rounds; k++) {
    const at = int(s.length + 1)
    switch (int(5)) {
      case 0: s = s.slice(0, at) + CHARS[int(CHARS.length)] + s.slice(at + 1); break
      case 1: s = s.slice(0, at) + CHARS[int(CHARS.length)] + s.slice(at); break
      case 2: s = s.slice(0, at) + s.slice(at + 1 + int(8)); break
      case 3: { const m = /"[a-zA-Z]+":/g; const keys = [...s.matchAll(m)]; if (keys.length > 0) { const hit = keys[int(keys.length)]; s = s.slice(0, hit.index) + '"' + hit[0].slice(1, -2).replace(/[A-Z]/g, (c) => '_' + c.toLowerCase()) + '":' + s.slice(hit.index! + hit[0].length) } break }
      default: { const len = 1 + int(32); s = s.slice(0, at + len) + s.slice(at, at + len) + s.slice(at + len) }
    }
  }
  return s
}

function check (d: OtlpDecoded<unknown>): boolean {
  assert.equal(typeof d.ok, 'boolean')
  if (!d.ok) assert.ok(typeof d.reason === 'string' && d.reason.length > 0)
  return d.ok
}

test('protobuf decoders: random and mutated bodies never throw', () => {
  const bases = [encodeTracesRequest(sampleRequest(), 'protobuf'), encodeTracesResponse({ partialSuccess: { rejectedSpans: 3n, errorMessage: 'x' } }, 'protobuf')]
  let accepted = 0
  let refused = 0
  for (let i = 0; i < ITERATIONS; i++) {
    const body = i % 10 === 0 ? Uint8Array.from({ length: int(200) }, () => int(256)) : mutate(bases[i % 7 === 0 ? 1 : 0])
    const d = i % 7 === 0 ? decodeTracesResponse(body, 'protobuf') : decodeTracesRequest(body, 'protobuf')
    if (check(d)) accepted++
    else refused++
  }
  assert.ok(accepted > 0 && refused > 0, `accepted ${accepted}, refused ${refused}: both outcomes must be exercised`)
})

test('JSON decoders: mutated bodies never throw', () => {
  const base = Buffer.from(encodeTracesRequest(sampleRequest(), 'json')).toString('utf8')
  let accepted = 0
  let refused = 0
  for (let i = 0; i < ITERATIONS; i++) {
    const body = new Uint8Array(Buffer.from(mutateText(base), 'utf8'))
    const d = i % 9 === 0 ? decodeTracesResponse(body, 'json') : decodeTracesRequest(body, 'json')
    if (check(d)) accepted++
    else refused++
  }
  assert.ok(accepted > 0 && refused > 0, `accepted ${accepted}, refused ${refused}: both outcomes must be exercised`)
})
