import type { OtlpSpan, OtlpTracesRequest, OtlpValue } from '../../src/encode/otlp/index.js'

/**
 * An OTLP request that sets every field of every message, with the edge values of each type:
 * int64 and fixed64 extremes, uint32 max, -0, NaN and infinities, non-ASCII text, empty strings,
 * arrays and kvlists (with a duplicate key), a null value, nesting, bytes with every bit pattern.
 */
export function everyValue (): Array<{ key: string, value: OtlpValue }> {
  return [
    { key: 'str', value: 'héllo 🌍 "q" \\ \u0000' },
    { key: 'str.empty', value: '' },
    { key: 'bool.true', value: true },
    { key: 'bool.false', value: false },
    { key: 'int.zero', value: 0n },
    { key: 'int.min', value: -(2n ** 63n) },
    { key: 'int.max', value: 2n ** 63n - 1n },
    { key: 'int.neg', value: -12n },
    { key: 'double', value: 1.5 },
    { key: 'double.zero', value: 0 },
    { key: 'double.negzero', value: -0 },
    { key: 'double.tiny', value: 5e-324 },
    { key: 'double.nan', value: NaN },
    { key: 'double.inf', value: Infinity },
    { key: 'double.neginf', value: -Infinity },
    { key: 'bytes', value: Uint8Array.from([0, 1, 127, 128, 254, 255]) },
    { key: 'bytes.empty', value: new Uint8Array(0) },
    { key: 'null', value: null },
    { key: 'array', value: ['a', 1n, 2.5, true, null, [false, ['deep']], { kvlist: [{ key: 'in', value: 'array' }] }] },
    { key: 'array.empty', value: [] },
    { key: 'kvlist', value: { kvlist: [{ key: 'dup', value: 1n }, { key: 'dup', value: 'two' }, { key: 'nested', value: { kvlist: [] } }] } },
  ]
}

export function sampleSpan (i: number): OtlpSpan {
  return {
    traceId: '5b8efff798038103d269b633813fc60c',
    spanId: (0xeee19b7ec3c1b170n + BigInt(i)).toString(16),
    traceState: i === 0 ? 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' : '',
    parentSpanId: i === 0 ? '' : 'eee19b7ec3c1b170',
    flags: i === 0 ? 0x301 : 0x100,
    name: i === 0 ? 'chat gpt-4o' : `child ${i}`,
    kind: (i % 6) as OtlpSpan['kind'],
    startTimeUnixNano: 1544712660000000000n + BigInt(i),
    endTimeUnixNano: i === 0 ? 2n ** 64n - 1n : 1544712661000000001n,
    attributes: i === 0 ? everyValue() : [{ key: 'i', value: BigInt(i) }],
    droppedAttributesCount: i === 0 ? 0xffffffff : 0,
    events: i === 0
      ? [
          { timeUnixNano: 1544712660500000000n, name: 'gen_ai.client.inference.operation.details', attributes: everyValue(), droppedAttributesCount: 3 },
          { timeUnixNano: 0n, name: '', attributes: [], droppedAttributesCount: 0 },
        ]
      : [],
    droppedEventsCount: i === 0 ? 7 : 0,
    links: i === 0
      ? [
          { traceId: 'ffffffffffffffffffffffffffffffff', spanId: '0000000000000001', traceState: 'k=v', attributes: everyValue(), droppedAttributesCount: 2, flags: 0x201 },
          { traceId: '00000000000000000000000000000001', spanId: 'ffffffffffffffff', traceState: '', attributes: [], droppedAttributesCount: 0, flags: 0 },
        ]
      : [],
    droppedLinksCount: i === 0 ? 9 : 0,
    status: i === 0 ? { code: 2, message: 'boom: ünïcode' } : i === 1 ? { code: 1, message: '' } : { code: 0, message: '' },
  }
}

export function sampleRequest (): OtlpTracesRequest {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: 'svc' }, ...everyValue()], droppedAttributesCount: 4 },
        scopeSpans: [
          { scope: { name: 'lib', version: '1.0.0', attributes: everyValue(), droppedAttributesCount: 5 }, spans: [0, 1, 2, 3, 4, 5].map(sampleSpan), schemaUrl: 'https://opentelemetry.io/schemas/1.30.0' },
          { scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, spans: [], schemaUrl: '' },
        ],
        schemaUrl: 'https://opentelemetry.io/schemas/1.31.0',
      },
      { resource: { attributes: [], droppedAttributesCount: 0 }, scopeSpans: [], schemaUrl: '' },
    ],
  }
}
