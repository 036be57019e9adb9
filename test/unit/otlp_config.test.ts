import { test } from 'node:test'
import assert from 'node:assert/strict'
import { resolveTracerConfig } from '../../src/config/tracer_config.js'
import { log } from '../../src/diag/logger.js'

function capture (fn: () => void): string[] {
  const lines: string[] = []
  log.resetWarnings()
  log.configure({ sink: (_level, msg) => lines.push(msg) })
  try { fn() } finally { log.configure({ sink: () => {} }) }
  return lines
}

const OTLP = { OTEL_TRACES_EXPORTER: 'otlp' }

test('OTEL_TRACES_EXPORTER=otlp turns the OTLP mode on with the spec defaults; unset keeps the agent', () => {
  assert.equal(resolveTracerConfig({}, {}).exporter, 'agent')
  assert.equal(resolveTracerConfig({}, {}).otlp, undefined)
  const c = resolveTracerConfig({}, OTLP)
  assert.equal(c.exporter, 'otlp')
  assert.deepEqual(c.otlp, { url: 'http://localhost:4318/v1/traces', headers: {}, protocol: 'http/protobuf', timeoutMs: 10000, compression: 'none', resourceAttributes: {} })
  assert.equal(resolveTracerConfig({ exporter: 'otlp' }, {}).exporter, 'otlp')
})

test('the traces endpoint is used as given and wins; the generic one gets /v1/traces appended', () => {
  assert.equal(resolveTracerConfig({}, { ...OTLP, OTEL_EXPORTER_OTLP_ENDPOINT: 'https://collector:4318/' }).otlp?.url, 'https://collector:4318/v1/traces')
  assert.equal(resolveTracerConfig({}, { ...OTLP, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:1', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:2/custom' }).otlp?.url, 'http://t:2/custom')
  assert.equal(resolveTracerConfig({ otlp: { endpoint: 'http://o:3/x' } }, { ...OTLP, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:2/custom' }).otlp?.url, 'http://o:3/x')
})

test('headers: k=v lists, percent-decoded, the traces-specific entries winning key by key', () => {
  const c = resolveTracerConfig({}, { ...OTLP, OTEL_EXPORTER_OTLP_HEADERS: 'dd-api-key=a%20b,x=1', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x=2,dd-otlp-source=llmobs' })
  assert.deepEqual(c.otlp?.headers, { 'dd-api-key': 'a b', x: '2', 'dd-otlp-source': 'llmobs' })
})

test('protocol: traces-specific wins; grpc is one warning and the default', () => {
  assert.equal(resolveTracerConfig({}, { ...OTLP, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json' }).otlp?.protocol, 'http/json')
  let c: ReturnType<typeof resolveTracerConfig> | undefined
  const lines = capture(() => { c = resolveTracerConfig({}, { ...OTLP, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }); resolveTracerConfig({}, { ...OTLP, OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }) })
  assert.equal(lines.length, 1, lines.join('\n'))
  assert.match(lines[0], /OTEL_EXPORTER_OTLP_PROTOCOL=grpc is not supported/)
  assert.equal(c?.otlp?.protocol, 'http/protobuf')
})

const MALFORMED: Array<[string, Record<string, string>, (c: ReturnType<typeof resolveTracerConfig>) => void]> = [
  ['OTEL_TRACES_EXPORTER', { OTEL_TRACES_EXPORTER: 'zipkin' }, (c) => assert.equal(c.exporter, 'agent')],
  ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', { ...OTLP, OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'ftp://x' }, (c) => assert.equal(c.otlp?.url, 'http://localhost:4318/v1/traces')],
  ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', { ...OTLP, OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'thrift' }, (c) => assert.equal(c.otlp?.protocol, 'http/protobuf')],
  ['OTEL_EXPORTER_OTLP_TIMEOUT', { ...OTLP, OTEL_EXPORTER_OTLP_TIMEOUT: '-5' }, (c) => assert.equal(c.otlp?.timeoutMs, 10000)],
  ['OTEL_EXPORTER_OTLP_COMPRESSION', { ...OTLP, OTEL_EXPORTER_OTLP_COMPRESSION: 'brotli' }, (c) => assert.equal(c.otlp?.compression, 'none')],
  ['OTEL_EXPORTER_OTLP_HEADERS', { ...OTLP, OTEL_EXPORTER_OTLP_HEADERS: 'novalue,k=v' }, (c) => assert.deepEqual(c.otlp?.headers, { k: 'v' })],
]

for (const [name, env, check] of MALFORMED) {
  test(`malformed ${name}=${Object.values(env).at(-1) ?? ''} gives exactly one warning naming it, and the default`, () => {
    let c: ReturnType<typeof resolveTracerConfig> | undefined
    const lines = capture(() => { c = resolveTracerConfig({}, env); resolveTracerConfig({}, env) })
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.match(lines[0], new RegExp(name))
    check(c as ReturnType<typeof resolveTracerConfig>)
  })
}

test('timeout and compression: traces-specific wins over generic', () => {
  const c = resolveTracerConfig({}, { ...OTLP, OTEL_EXPORTER_OTLP_TIMEOUT: '100', OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: '2500', OTEL_EXPORTER_OTLP_COMPRESSION: 'none', OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: 'gzip' })
  assert.equal(c.otlp?.timeoutMs, 2500)
  assert.equal(c.otlp?.compression, 'gzip')
})

test('OTEL_SERVICE_NAME comes after DD_SERVICE; OTEL_RESOURCE_ATTRIBUTES fill service/env/version under DD_TAGS and stay raw for the resource', () => {
  assert.equal(resolveTracerConfig({}, { OTEL_SERVICE_NAME: 'otel-svc', DD_SERVICE: 'dd-svc' }).service, 'dd-svc')
  assert.equal(resolveTracerConfig({}, { OTEL_SERVICE_NAME: 'otel-svc', DD_TAGS: 'service:tag-svc' }).service, 'otel-svc')
  const c = resolveTracerConfig({}, { ...OTLP, OTEL_RESOURCE_ATTRIBUTES: 'service.name=r-svc,deployment.environment.name=prod,service.version=9,team=a%2Cb', DD_TAGS: 'team:dd' })
  assert.equal(c.service, 'r-svc')
  assert.equal(c.env, 'prod')
  assert.equal(c.version, '9')
  assert.equal(c.tags.team, 'dd')
  assert.deepEqual(c.otlp?.resourceAttributes, { 'service.name': 'r-svc', 'deployment.environment.name': 'prod', 'service.version': '9', team: 'a,b' })
})
