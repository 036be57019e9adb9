import { test } from 'node:test'
import assert from 'node:assert/strict'
import { OutgoingMessage } from 'node:http'
import { log } from '../../src/diag/logger.js'
import { newTraceState } from '../../src/model/trace_state.js'
import type { TraceState } from '../../src/model/trace_state.js'
import { extract, inject } from '../../src/trace/propagation/propagator.js'
import type { ExtractedContext, InjectSource } from '../../src/trace/propagation/extracted.js'

const warnings: string[] = []
log.configure({ sink: (level, message) => { if (level === 'warn') warnings.push(message) } })

const ZERO = '0000000000000000'

function traceOf (high: string, low: string, opts: { priority?: number, origin?: string, tags?: Record<string, string> } = {}): TraceState {
  const t = newTraceState(high, low)
  t.samplingPriority = opts.priority
  t.origin = opts.origin
  t.tags = { ...opts.tags }
  return t
}

function injectInto (trace: TraceState, spanId: string, extra: Partial<InjectSource> = {}): { headers: Record<string, string>, meta: Record<string, string> } {
  const headers: Record<string, string> = {}
  const meta: Record<string, string> = {}
  inject({ trace, spanId, spanMeta: meta, ...extra }, headers)
  return { headers, meta }
}

function only (headers: Record<string, string>, names: string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const n of names) if (headers[n] !== undefined) out[n] = headers[n]
  return out
}

const DD = ['x-datadog-trace-id', 'x-datadog-parent-id', 'x-datadog-sampling-priority', 'x-datadog-origin', 'x-datadog-tags']
const W3C = ['traceparent', 'tracestate']

// --- exact header strings -------------------------------------------------------------------

test('known 128-bit context produces the exact Datadog and W3C headers', () => {
  const trace = traceOf('640cfd8d00000000', 'abcdefab12345678', {
    priority: 2, origin: 'synthetics', tags: { '_dd.p.dm': '-4', '_dd.p.usr.id': 'baz64' },
  })
  const { headers, meta } = injectInto(trace, '000000003ade68b1')
  assert.deepEqual(headers, {
    'x-datadog-trace-id': '12379814468735227512',
    'x-datadog-parent-id': '987654321',
    'x-datadog-sampling-priority': '2',
    'x-datadog-origin': 'synthetics',
    'x-datadog-tags': '_dd.p.tid=640cfd8d00000000,_dd.p.dm=-4,_dd.p.usr.id=baz64',
    traceparent: '00-640cfd8d00000000abcdefab12345678-000000003ade68b1-01',
    tracestate: 'dd=s:2;o:synthetics;p:000000003ade68b1;t.tid:640cfd8d00000000;t.dm:-4;t.usr.id:baz64',
  })
  assert.deepEqual(meta, {})
})

test('64-bit trace id 1: decimal 1, no _dd.p.tid, zero high half in traceparent', () => {
  const { headers } = injectInto(traceOf(ZERO, '0000000000000001', { priority: 0 }), '0000000000000002')
  assert.deepEqual(headers, {
    'x-datadog-trace-id': '1',
    'x-datadog-parent-id': '2',
    'x-datadog-sampling-priority': '0',
    traceparent: '00-00000000000000000000000000000001-0000000000000002-00',
    tracestate: 'dd=s:0;p:0000000000000002',
  })
})

test('max uint64 ids are written in full decimal', () => {
  const { headers } = injectInto(traceOf(ZERO, 'ffffffffffffffff'), 'fffffffffffffffe')
  assert.equal(headers['x-datadog-trace-id'], '18446744073709551615')
  assert.equal(headers['x-datadog-parent-id'], '18446744073709551614')
})

test('undecided priority: no priority header, no s:, traceparent flags 00', () => {
  const { headers } = injectInto(traceOf(ZERO, '00000000000000aa'), '00000000000000bb')
  assert.equal(headers['x-datadog-sampling-priority'], undefined)
  assert.equal(headers.traceparent, '00-000000000000000000000000000000aa-00000000000000bb-00')
  assert.equal(headers.tracestate, 'dd=p:00000000000000bb')
})

test('traceparent flags: 01 only for priority > 0', () => {
  for (const [p, flags] of [[-1, '00'], [0, '00'], [1, '01'], [2, '01']] as const) {
    const { headers } = injectInto(traceOf(ZERO, '0000000000000001', { priority: p }), '0000000000000002')
    assert.ok(headers.traceparent.endsWith('-' + flags), `priority ${p}`)
    assert.equal(headers['x-datadog-sampling-priority'], String(p))
  }
})

// --- round trips ------------------------------------------------------------------------------

const LLMOBS_TAGS = {
  '_dd.p.dm': '-3',
  '_dd.p.llmobs_parent_id': '1234567890123456789',
  '_dd.p.llmobs_trace_id': '123456789012345678901234567890123456789',
  '_dd.p.llmobs_ml_app': 'my-app',
  '_dd.p.custom': 'a=b',
}

for (const high of [ZERO, '65f1a2b300000000']) {
  for (const priority of [-1, 0, 1, 2]) {
    test(`round trip high=${high} priority=${priority} through Datadog, W3C and both`, () => {
      const trace = traceOf(high, '1234567890abcdef', { priority, origin: 'rum', tags: LLMOBS_TAGS })
      const { headers, meta } = injectInto(trace, 'fedcba0987654321')
      assert.deepEqual(meta, {})
      const expected: ExtractedContext = {
        traceIdHigh: high,
        traceIdLow: '1234567890abcdef',
        parentId: 'fedcba0987654321',
        samplingPriority: priority,
        origin: 'rum',
        tags: LLMOBS_TAGS,
      }
      assert.deepEqual(extract(only(headers, DD)), expected, 'datadog only')
      assert.deepEqual(extract(only(headers, W3C)), { ...expected, w3cParentId: 'fedcba0987654321' }, 'w3c only')
      // Same trace, same parent: the Datadog context as is.
      assert.deepEqual(extract(headers), expected, 'both')
    })
  }
}

test('tracestate round trip restores = from ~ in values and origin', () => {
  const { headers } = injectInto(traceOf(ZERO, '0000000000000001', { priority: 1, origin: 'a=b', tags: { '_dd.p.x': 'k=v=w' } }), '0000000000000002')
  assert.equal(headers.tracestate, 'dd=s:1;o:a~b;p:0000000000000002;t.x:k~v~w')
  const ctx = extract(only(headers, W3C))
  assert.equal(ctx?.origin, 'a=b')
  assert.deepEqual(ctx?.tags, { '_dd.p.x': 'k=v=w' })
})

// --- x-datadog-tags size cap ------------------------------------------------------------------

test('x-datadog-tags of exactly 512 characters is sent; 513 is not and sets inject_max_size', () => {
  // '_dd.p.big=' is 10 characters.
  const fits = injectInto(traceOf(ZERO, '0000000000000001', { priority: 1, tags: { '_dd.p.big': 'x'.repeat(502) } }), '0000000000000002')
  assert.equal(fits.headers['x-datadog-tags']?.length, 512)
  assert.deepEqual(fits.meta, {})

  const over = injectInto(traceOf(ZERO, '0000000000000001', { priority: 1, tags: { '_dd.p.big': 'x'.repeat(503), '_dd.p.dm': '-0' } }), '0000000000000002')
  assert.equal(over.headers['x-datadog-tags'], undefined)
  assert.deepEqual(over.meta, { '_dd.propagation_error': 'inject_max_size' })
  // Ids and priority still travel.
  assert.equal(over.headers['x-datadog-trace-id'], '1')
  assert.equal(over.headers['x-datadog-sampling-priority'], '1')
  // tracestate has its own 256-character budget: the big tag is left out, the small one kept.
  assert.equal(over.headers.tracestate, 'dd=s:1;p:0000000000000002;t.dm:-0')
})

test('_dd.p.tid counts toward the 512 cap', () => {
  // '_dd.p.tid=<16>,' is 26 characters, so a 487-character value brings the total to 513.
  const { headers, meta } = injectInto(traceOf('65f1a2b300000000', '0000000000000001', { tags: { '_dd.p.big': 'x'.repeat(477) } }), '0000000000000002')
  assert.equal(headers['x-datadog-tags'], undefined)
  assert.equal(meta['_dd.propagation_error'], 'inject_max_size')
})

test('a tag that cannot be encoded drops x-datadog-tags with encoding_error; tracestate sanitises it', () => {
  const { headers, meta } = injectInto(traceOf(ZERO, '0000000000000001', { priority: 1, tags: { '_dd.p.ok': '1', '_dd.p.bad': 'a,b' } }), '0000000000000002')
  assert.equal(headers['x-datadog-tags'], undefined)
  assert.equal(meta['_dd.propagation_error'], 'encoding_error')
  assert.equal(headers.tracestate, 'dd=s:1;p:0000000000000002;t.ok:1;t.bad:a_b')
})

test('maxTagsLength 0 disables x-datadog-tags in both directions', () => {
  const headers: Record<string, string> = {}
  const meta: Record<string, string> = {}
  inject({ trace: traceOf(ZERO, '0000000000000001', { tags: { '_dd.p.dm': '-0' } }), spanId: '0000000000000002', spanMeta: meta }, headers, { maxTagsLength: 0 })
  assert.equal(headers['x-datadog-tags'], undefined)
  assert.equal(meta['_dd.propagation_error'], 'disabled')
  const ctx = extract({ 'x-datadog-trace-id': '1', 'x-datadog-parent-id': '2', 'x-datadog-tags': '_dd.p.dm=-0' }, { maxTagsLength: 0 })
  assert.deepEqual(ctx?.tags, {})
  assert.equal(ctx?.propagationError, undefined)
})

test('empty tag values and non-_dd.p keys are not propagated', () => {
  const { headers } = injectInto(traceOf(ZERO, '0000000000000001', { tags: { '_dd.p.empty': '', 'other.tag': 'x', '_dd.p.a': '1' } }), '0000000000000002')
  assert.equal(headers['x-datadog-tags'], '_dd.p.a=1')
  assert.equal(headers.tracestate, 'dd=p:0000000000000002;t.a:1')
})

// --- x-datadog-tags extraction ----------------------------------------------------------------

function ddCarrier (tags: string): Record<string, string> {
  return { 'x-datadog-trace-id': '7', 'x-datadog-parent-id': '8', 'x-datadog-tags': tags }
}

test('oversized x-datadog-tags: ids kept, tags dropped, extract_max_size', () => {
  const at512 = extract(ddCarrier('_dd.p.big=' + 'x'.repeat(502)))
  assert.equal(at512?.tags['_dd.p.big']?.length, 502)
  assert.equal(at512?.propagationError, undefined)

  const ctx = extract(ddCarrier('_dd.p.tid=65f1a2b300000000,_dd.p.big=' + 'x'.repeat(490)))
  assert.deepEqual(ctx, {
    traceIdHigh: ZERO, traceIdLow: '0000000000000007', parentId: '0000000000000008', tags: {}, propagationError: 'extract_max_size',
  })
})

test('malformed x-datadog-tags: ids kept, tags and tid dropped, decoding_error', () => {
  for (const bad of ['_dd.p.a', '=x', '_dd.p.a=1,,_dd.p.b=2', '_dd.p.a=', '_dd.p.a=  ', '_dd.p a=1', '_dd.p.a=é',
    '_dd.p.tid=65f1a2b300000000,_dd.p.a=\n', ',_dd.p.a=1']) {
    const ctx = extract(ddCarrier(bad))
    assert.deepEqual(ctx, {
      traceIdHigh: ZERO, traceIdLow: '0000000000000007', parentId: '0000000000000008', tags: {}, propagationError: 'decoding_error',
    }, JSON.stringify(bad))
  }
})

test('x-datadog-tags decoding details', () => {
  // Keys outside _dd.p.* are skipped, spaces around values trimmed, one trailing comma tolerated.
  assert.deepEqual(extract(ddCarrier('foo=bar,_dd.p.a= 1 ,_dd.p.b=x=y,'))?.tags, { '_dd.p.a': '1', '_dd.p.b': 'x=y' })
  // An invalid tid is ignored, the rest kept, no error.
  const badTid = extract(ddCarrier('_dd.p.tid=XYZ,_dd.p.dm=-1'))
  assert.equal(badTid?.traceIdHigh, ZERO)
  assert.deepEqual(badTid?.tags, { '_dd.p.dm': '-1' })
  assert.equal(badTid?.propagationError, undefined)
  assert.equal(extract(ddCarrier('_dd.p.tid=65f1a2b3000000001'))?.traceIdHigh, ZERO)
  // A valid tid becomes the high half (lowercased) and is not a tag.
  const tid = extract(ddCarrier('_dd.p.tid=65F1A2B300000000'))
  assert.equal(tid?.traceIdHigh, '65f1a2b300000000')
  assert.deepEqual(tid?.tags, {})
  // Repeated header fields are combined.
  assert.deepEqual(extract({ 'x-datadog-trace-id': '7', 'x-datadog-parent-id': '8', 'x-datadog-tags': ['_dd.p.a=1', '_dd.p.b=2'] })?.tags, { '_dd.p.a': '1', '_dd.p.b': '2' })
})

// --- Datadog id validation ----------------------------------------------------------------------

test('invalid Datadog ids give no context', () => {
  for (const traceId of ['0', '00', '', ' ', 'abc', '-1', '1.5', '1e3', '0x10', '18446744073709551616', '123456789012345678901']) {
    assert.equal(extract({ 'x-datadog-trace-id': traceId, 'x-datadog-parent-id': '1' }), undefined, JSON.stringify(traceId))
  }
  for (const parentId of ['', 'x', '-1', '18446744073709551616']) {
    assert.equal(extract({ 'x-datadog-trace-id': '1', 'x-datadog-parent-id': parentId }), undefined, JSON.stringify(parentId))
  }
  assert.equal(extract({ 'x-datadog-trace-id': '1' }), undefined)
  assert.equal(extract({}), undefined)
})

test('Datadog edge ids: max uint64 accepted, parent id 0 means a root in an upstream trace', () => {
  assert.equal(extract({ 'x-datadog-trace-id': '18446744073709551615', 'x-datadog-parent-id': '1' })?.traceIdLow, 'ffffffffffffffff')
  assert.deepEqual(extract({ 'x-datadog-trace-id': '5', 'x-datadog-parent-id': '0', 'x-datadog-origin': 'synthetics' }), {
    traceIdHigh: ZERO, traceIdLow: '0000000000000005', parentId: ZERO, origin: 'synthetics', tags: {},
  })
})

test('a malformed priority is dropped, the context kept', () => {
  for (const p of ['abc', '1.5', '', '99999999999']) {
    const ctx = extract({ 'x-datadog-trace-id': '1', 'x-datadog-parent-id': '2', 'x-datadog-sampling-priority': p })
    assert.equal(ctx?.traceIdLow, '0000000000000001')
    assert.equal(ctx?.samplingPriority, undefined, JSON.stringify(p))
  }
  assert.equal(extract({ 'x-datadog-trace-id': '1', 'x-datadog-parent-id': '2', 'x-datadog-sampling-priority': '-1' })?.samplingPriority, -1)
})

// --- tracestate encoding ----------------------------------------------------------------------

test('tracestate escaping matches dd-trace-js for origin, keys and values', () => {
  // The vector from dd-trace-js's own test: origin 'foo,bar=', key 'foo bar,baz=', value 'abc~!@#$%^&*()_+`-='.
  const trace = traceOf(ZERO, '0000000000000001', {
    priority: 2, origin: 'foo,bar=', tags: { '_dd.p.foo bar,baz=': 'abc~!@#$%^&*()_+`-=' },
  })
  const { headers } = injectInto(trace, '5555eeee6666ffff')
  assert.equal(headers.tracestate, 'dd=s:2;o:foo_bar~;p:5555eeee6666ffff;t.foo_bar_baz_:abc_!@#$%^&*()_+`-~')
})

test('tracestate escaping of ; , ~ = and non-ASCII in values, : and ; in keys', () => {
  const trace = traceOf(ZERO, '0000000000000001', {
    origin: 'o;r~i\u00e9', tags: { '_dd.p.v': 'a;b,c~d=e\u00e9f\u0001g h', '_dd.p.k:e;y': '1', '_dd.p.emoji': '\u263a\ufe0f' },
  })
  const { headers } = injectInto(trace, '0000000000000002')
  // Non-ASCII is replaced per UTF-16 code unit, as dd-trace-js does.
  assert.equal(headers.tracestate, 'dd=o:o_r_i_;p:0000000000000002;t.v:a_b_c_d~e_f_g h;t.k_e_y:1;t.emoji:__')
})

test('the dd member stays within 256 characters, dropping tags that do not fit', () => {
  const tags: Record<string, string> = {}
  for (let i = 0; i < 20; i++) tags[`_dd.p.tag${i}`] = 'v'.repeat(10)
  const { headers } = injectInto(traceOf(ZERO, '0000000000000001', { priority: 1, tags }), '0000000000000002')
  const dd = headers.tracestate.slice(3)
  assert.ok(dd.length <= 256, String(dd.length))
  assert.ok(dd.length > 230, 'fills the budget')
  assert.ok(dd.includes('t.tag0:') && !dd.includes('t.tag19:'))
  // x-datadog-tags has its own, larger budget and carries them all.
  assert.equal(headers['x-datadog-tags'].split(',').length, 20)
})

// --- other vendors --------------------------------------------------------------------------

test('other vendors are kept, dd moves first', () => {
  const carrier = {
    traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
    tracestate: 'rojo=00f067aa0ba902b7, dd=s:2;o:rum;t.dm:-4 ,congo=t61rcWkgMzE',
  }
  const ctx = extract(carrier)
  assert.deepEqual(ctx, {
    traceIdHigh: '4bf92f3577b34da6', traceIdLow: 'a3ce929d0e0e4736', parentId: '00f067aa0ba902b7',
    samplingPriority: 2, origin: 'rum', tags: { '_dd.p.dm': '-4' }, tracestateOthers: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE',
  })
  const trace = traceOf(ctx.traceIdHigh, ctx.traceIdLow, { priority: ctx.samplingPriority, origin: ctx.origin, tags: ctx.tags })
  const { headers } = injectInto(trace, '1111111111111111', { tracestateOthers: ctx.tracestateOthers })
  assert.equal(headers.tracestate, 'dd=s:2;o:rum;p:1111111111111111;t.tid:4bf92f3577b34da6;t.dm:-4,rojo=00f067aa0ba902b7,congo=t61rcWkgMzE')
})

test('tracestate keeps at most 32 members in total', () => {
  const members = Array.from({ length: 40 }, (_, i) => `v${i}=x${i}`)
  const ctx = extract({ traceparent: '00-00000000000000000000000000000001-0000000000000002-01', tracestate: members.join(',') })
  // Only the first 32 members are considered; 31 others leave room for ours.
  assert.equal(ctx?.tracestateOthers?.split(',').length, 31)
  const { headers } = injectInto(traceOf(ZERO, '0000000000000001', { priority: 1 }), '0000000000000002', { tracestateOthers: members.join(',') + ',dd=s:9' })
  const out = headers.tracestate.split(',')
  assert.equal(out.length, 32)
  assert.equal(out[0], 'dd=s:1;p:0000000000000002')
  assert.equal(out[31], 'v30=x30')
  assert.equal(out.filter((m) => m.startsWith('dd=')).length, 1)
})

test('malformed tracestate members are dropped, the rest kept', () => {
  const ctx = extract({
    traceparent: '00-00000000000000000000000000000001-0000000000000002-01',
    tracestate: ['a=1,noequals,=x,b=,c d=2,e=has\ttab,a=dup', 'f=3'],
  })
  assert.equal(ctx?.tracestateOthers, 'a=1,f=3')
})

// A quadratic parser would hang on this; the runner's per-file timeout, not a speed budget,
// catches that.
test('a huge tracestate is parsed and bounded', () => {
  const ts = 'x=' + ' '.repeat(100_000) + 'y,' + 'k=v,'.repeat(50_000)
  const ctx = extract({ traceparent: '00-00000000000000000000000000000001-0000000000000002-01', tracestate: ts })
  assert.equal(ctx?.tracestateOthers?.split(',').length, 2)
})

// --- traceparent validation -----------------------------------------------------------------

test('invalid traceparent is ignored', () => {
  const tid = '4bf92f3577b34da6a3ce929d0e0e4736'
  const sid = '00f067aa0ba902b7'
  for (const tp of [
    'invalid', '', `ff-${tid}-${sid}-01`, `00-${tid}-${sid}-01-extra`, `00-${tid}-${sid}-01x`, `00-${tid.slice(1)}-${sid}-01`,
    `00-${tid}-${sid}0-01`, `00-${tid}-${sid}-1`, `0-${tid}-${sid}-01`, `00-${tid.replace('4', 'g')}-${sid}-01`,
    `00-${'0'.repeat(32)}-${sid}-01`, `00-${tid}-${'0'.repeat(16)}-01`, `00_${tid}_${sid}_01`,
  ]) {
    assert.equal(extract({ traceparent: tp, tracestate: 'dd=s:2' }), undefined, tp)
  }
  // Repeated traceparent fields are ambiguous.
  assert.equal(extract({ traceparent: [`00-${tid}-${sid}-01`, `00-${tid}-${sid}-01`] }), undefined)
  assert.equal(extract({ traceparent: 42 }), undefined)
})

test('lenient traceparent forms that dd-trace-js accepts', () => {
  const ctx = extract({ traceparent: ' 00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01 ' })
  assert.equal(ctx?.traceIdHigh, '4bf92f3577b34da6')
  assert.equal(ctx?.traceIdLow, 'a3ce929d0e0e4736')
  assert.equal(ctx?.parentId, '00f067aa0ba902b7')
  // Future versions may append fields.
  assert.equal(extract({ traceparent: '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future' })?.samplingPriority, 1)
  assert.equal(extract({ traceparent: ['00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00'] })?.samplingPriority, 0)
})

test('sampled flag vs s: the flag decides keep/drop, s refines when it agrees', () => {
  const cases: Array<[string, string | undefined, number]> = [
    ['01', 's:2', 2], ['01', 's:1', 1], ['01', 's:0', 1], ['01', 's:-1', 1], ['01', undefined, 1],
    ['00', 's:2', 0], ['00', 's:1', 0], ['00', 's:0', 0], ['00', 's:-1', -1], ['00', undefined, 0],
    ['03', 's:2', 2], ['02', 's:2', 0], ['01', 's:abc', 1],
  ]
  for (const [flags, s, want] of cases) {
    const carrier: Record<string, string> = { traceparent: `00-00000000000000000000000000000001-0000000000000002-${flags}` }
    if (s !== undefined) carrier.tracestate = 'dd=' + s
    assert.equal(extract(carrier)?.samplingPriority, want, `${flags} ${s}`)
  }
})

test('dd member decoding: p, t.dm normalisation, t.tid ignored, junk entries skipped', () => {
  const ctx = extract({
    traceparent: '00-640cfd8d00000000abcdefab12345678-000000003ade68b1-01',
    tracestate: 'dd=p:2244EEEE6666AAAA;t.dm:4;t.tid:640cfd8d0000ffff;t.:x;junk;:y;o:;t.usr.id:baz64~~',
  })
  assert.equal(ctx?.traceIdHigh, '640cfd8d00000000')
  assert.equal(ctx?.w3cParentId, '2244eeee6666aaaa')
  assert.deepEqual(ctx?.tags, { '_dd.p.dm': '-4', '_dd.p.usr.id': 'baz64==' })
  assert.equal(ctx?.origin, undefined)
  assert.equal(extract({ traceparent: '00-00000000000000000000000000000001-0000000000000002-01', tracestate: 'dd=p:xyz' })?.w3cParentId, undefined)
})

// --- Datadog + W3C together -----------------------------------------------------------------

test('both styles, same trace, different parent: traceparent parent wins, Datadog parent kept (dd-trace-js vector)', () => {
  const base = { 'x-datadog-trace-id': '61185', 'x-datadog-parent-id': '15', 'x-datadog-sampling-priority': '1', traceparent: '00-0000000000000000000000000000ef01-0000000000011ef0-01' }
  const noP = extract(base)
  assert.equal(noP?.parentId, '0000000000011ef0')
  assert.equal(noP?.w3cParentId, '000000000000000f')
  const withP = extract({ ...base, tracestate: 'other=bleh,dd=p:0000000000000001;s:2;o:foo;t.dm:-4' })
  assert.equal(withP?.parentId, '0000000000011ef0')
  assert.equal(withP?.w3cParentId, '0000000000000001')
  assert.equal(withP?.tracestateOthers, 'other=bleh')
  // Priority, origin and tags stay those of the Datadog headers.
  assert.equal(withP?.samplingPriority, 1)
  assert.equal(withP?.origin, undefined)
  assert.deepEqual(withP?.tags, {})
})

test('both styles, different trace: Datadog only, nothing taken from W3C', () => {
  const ctx = extract({
    'x-datadog-trace-id': '123', 'x-datadog-parent-id': '456',
    traceparent: '00-00000000000000000000000000000789-0000000000000456-01', tracestate: 'other=bleh,dd=s:2',
  })
  assert.deepEqual(ctx, { traceIdHigh: ZERO, traceIdLow: '000000000000007b', parentId: '00000000000001c8', tags: {} })
})

test('both styles: W3C supplies the high half when x-datadog-tags lost _dd.p.tid; a conflicting tid keeps W3C out', () => {
  const tp = '00-65f1a2b300000000000000000000007b-00000000000001c8-01'
  assert.equal(extract({ 'x-datadog-trace-id': '123', 'x-datadog-parent-id': '456', traceparent: tp })?.traceIdHigh, '65f1a2b300000000')
  const conflict = extract({ 'x-datadog-trace-id': '123', 'x-datadog-parent-id': '456', 'x-datadog-tags': '_dd.p.tid=1111111100000000', traceparent: tp, tracestate: 'o=1' })
  assert.equal(conflict?.traceIdHigh, '1111111100000000')
  assert.equal(conflict?.tracestateOthers, undefined)
})

test('invalid Datadog headers fall back to W3C', () => {
  const ctx = extract({ 'x-datadog-trace-id': '0', 'x-datadog-parent-id': '1', traceparent: '00-00000000000000000000000000000005-0000000000000006-01' })
  assert.equal(ctx?.traceIdLow, '0000000000000005')
  assert.equal(ctx?.parentId, '0000000000000006')
})

// --- carriers -----------------------------------------------------------------------------

test('IncomingHttpHeaders: arrays read as last value for ids, combined for list headers', () => {
  const ctx = extract({ 'x-datadog-trace-id': ['1', '2'], 'x-datadog-parent-id': ['3'], 'x-datadog-origin': undefined, host: 'example' })
  assert.equal(ctx?.traceIdLow, '0000000000000002')
  assert.equal(ctx?.parentId, '0000000000000003')
})

test('plain objects with any key case, read and written in place', () => {
  const carrier: Record<string, string> = { 'X-Datadog-Trace-Id': '10', 'X-DATADOG-PARENT-ID': '11', TraceParent: 'stale' }
  const ctx = extract(carrier)
  assert.equal(ctx?.traceIdLow, '000000000000000a')
  inject({ trace: traceOf(ZERO, '0000000000000001', { priority: 1 }), spanId: '0000000000000002', spanMeta: {} }, carrier)
  assert.equal(carrier['X-Datadog-Trace-Id'], '1')
  assert.equal(carrier['X-DATADOG-PARENT-ID'], '2')
  assert.equal(carrier.TraceParent, '00-00000000000000000000000000000001-0000000000000002-01')
  assert.equal(carrier.traceparent, undefined, 'no duplicate in another case')
  assert.equal(carrier['x-datadog-sampling-priority'], '1')
})

test('fetch Headers and Map carriers', () => {
  const headers = new Headers()
  const trace = traceOf('65f1a2b300000000', '0000000000000001', { priority: 2, tags: { '_dd.p.dm': '-4' } })
  inject({ trace, spanId: '0000000000000002', spanMeta: {} }, headers)
  assert.equal(headers.get('x-datadog-tags'), '_dd.p.tid=65f1a2b300000000,_dd.p.dm=-4')
  assert.equal(headers.get('traceparent'), '00-65f1a2b3000000000000000000000001-0000000000000002-01')
  const fromHeaders = extract(new Headers(headers))
  assert.equal(fromHeaders?.traceIdHigh, '65f1a2b300000000')
  assert.equal(fromHeaders?.samplingPriority, 2)
  // Headers joins repeated fields with ', '; the tracestate parser trims around members.
  const h2 = new Headers({ traceparent: '00-00000000000000000000000000000001-0000000000000002-01' })
  h2.append('tracestate', 'a=1')
  h2.append('tracestate', 'b=2')
  assert.equal(extract(h2)?.tracestateOthers, 'a=1,b=2')

  const map = new Map<string, string>()
  inject({ trace, spanId: '0000000000000002', spanMeta: {} }, map)
  assert.equal(map.get('x-datadog-trace-id'), '1')
  assert.equal(extract(map)?.parentId, '0000000000000002')
})

test('Node OutgoingMessage carrier', () => {
  const msg = new OutgoingMessage()
  inject({ trace: traceOf(ZERO, '0000000000000001', { priority: 1 }), spanId: '0000000000000002', spanMeta: {} }, msg)
  assert.equal(msg.getHeader('x-datadog-trace-id'), '1')
  assert.equal(extract(msg)?.traceIdLow, '0000000000000001')
})

test('weird carriers never throw and warn once', () => {
  warnings.length = 0
  log.resetWarnings()
  const trace = traceOf(ZERO, '0000000000000001', { priority: 1 })
  const source = { trace, spanId: '0000000000000002', spanMeta: {} }
  const frozen = Object.freeze({ a: '1' })
  const throwing = new Proxy({}, {
    get () { throw new Error('get trap') },
    set () { throw new Error('set trap') },
    has () { throw new Error('has trap') },
    ownKeys () { throw new Error('ownKeys trap') },
    getOwnPropertyDescriptor () { throw new Error('gopd trap') },
  })
  const getterThrows = Object.defineProperty({}, 'x-datadog-trace-id', { enumerable: true, get () { throw new Error('boom') } })
  const badHeaders = { get: () => { throw new Error('get') }, set: () => { throw new Error('set') } }
  for (const carrier of [null, undefined, 42, 'str', true, Symbol('s'), frozen, throwing, getterThrows, badHeaders, [], () => {}]) {
    assert.equal(extract(carrier), undefined)
    assert.doesNotThrow(() => inject(source, carrier))
    assert.doesNotThrow(() => extract(carrier))
  }
  inject(source, null)
  inject(source, 7)
  assert.deepEqual(frozen, { a: '1' })
  const joined = warnings.join('\n')
  assert.match(joined, /carrier of type null/)
  assert.match(joined, /frozen carrier/)
  assert.equal(warnings.filter((w) => w.includes('carrier of type null')).length, 1)
  assert.equal(warnings.filter((w) => w.includes('frozen carrier')).length, 1)
})

test('invalid source ids inject nothing', () => {
  warnings.length = 0
  log.resetWarnings()
  for (const [high, low, span] of [['xyz', '0000000000000001', '0000000000000002'], [ZERO, '1', '0000000000000002'], [ZERO, '0000000000000001', 'ABCDEF0123456789']]) {
    const headers: Record<string, string> = {}
    inject({ trace: traceOf(high, low), spanId: span, spanMeta: {} }, headers)
    assert.deepEqual(headers, {})
  }
  assert.equal(warnings.length, 1)
})

test('an origin that is not a valid header value is not sent as x-datadog-origin', () => {
  const { headers } = injectInto(traceOf(ZERO, '0000000000000001', { origin: 'a\r\nb' }), '0000000000000002')
  assert.equal(headers['x-datadog-origin'], undefined)
  assert.equal(headers.tracestate, 'dd=o:a__b;p:0000000000000002')
})
