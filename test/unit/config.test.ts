import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolveTracerConfig } from '../../src/config/tracer_config.js'
import { ENV_VARS } from '../../src/config/env_registry.js'
import { log } from '../../src/diag/logger.js'

function capture (fn: () => void): string[] {
  const lines: string[] = []
  log.resetWarnings()
  log.configure({ sink: (_level, msg) => lines.push(msg) })
  try { fn() } finally { log.configure({ sink: () => {} }) }
  return lines
}

test('defaults with an empty environment', () => {
  const c = resolveTracerConfig({}, {})
  assert.equal(c.env, undefined)
  assert.equal(c.enabled, true)
  assert.equal(c.apiVersion, 'v0.4')
  assert.equal(c.apiVersionExplicit, false)
  assert.deepEqual(c.agent, { kind: 'http', origin: 'http://127.0.0.1:8126', host: '127.0.0.1', port: 8126 })
  assert.equal(c.rateLimit, 100)
  assert.equal(c.partialFlushMinSpans, 300)
  assert.equal(c.flushIntervalMs, 1000)
  assert.deepEqual(c.samplingRules, [])
})

test('options win over the environment, which wins over defaults', () => {
  const env = { DD_SERVICE: 'from-env', DD_ENV: 'staging', DD_TRACE_RATE_LIMIT: '5', DD_TRACE_API_VERSION: 'v0.5' }
  const c = resolveTracerConfig({ service: 'from-option' }, env)
  assert.equal(c.service, 'from-option')
  assert.equal(c.env, 'staging')
  assert.equal(c.rateLimit, 5)
  assert.equal(c.apiVersion, 'v0.5')
  assert.equal(c.apiVersionExplicit, true)
})

test('agent URL: explicit URL, unix sockets, host/port fallback', () => {
  assert.deepEqual(resolveTracerConfig({}, { DD_TRACE_AGENT_URL: 'http://agent:9000' }).agent, { kind: 'http', origin: 'http://agent:9000', host: 'agent', port: 9000 })
  assert.deepEqual(resolveTracerConfig({}, { DD_TRACE_AGENT_URL: 'unix:///var/run/datadog/apm.socket' }).agent, { kind: 'unix', socketPath: '/var/run/datadog/apm.socket', origin: 'http://localhost' })
  assert.deepEqual(resolveTracerConfig({}, { DD_AGENT_HOST: 'dd', DD_TRACE_AGENT_PORT: '1234' }).agent, { kind: 'http', origin: 'http://dd:1234', host: 'dd', port: 1234 })
  assert.equal(resolveTracerConfig({}, { DD_AGENT_HOST: '::1' }).agent.origin, 'http://[::1]:8126')
})

const MALFORMED: Array<[string, Record<string, string>, (c: ReturnType<typeof resolveTracerConfig>) => void]> = [
  ['DD_TRACE_ENABLED', { DD_TRACE_ENABLED: 'maybe' }, (c) => assert.equal(c.enabled, true)],
  ['DD_TRACE_DEBUG', { DD_TRACE_DEBUG: '2' }, (c) => assert.equal(c.debug, false)],
  ['DD_TRACE_API_VERSION', { DD_TRACE_API_VERSION: 'v0.7' }, (c) => assert.equal(c.apiVersion, 'v0.4')],
  ['DD_TRACE_AGENT_URL', { DD_TRACE_AGENT_URL: 'ftp://x' }, (c) => assert.equal(c.agent.origin, 'http://127.0.0.1:8126')],
  ['DD_TRACE_AGENT_URL', { DD_TRACE_AGENT_URL: 'not a url' }, (c) => assert.equal(c.agent.origin, 'http://127.0.0.1:8126')],
  ['DD_TRACE_AGENT_PORT', { DD_TRACE_AGENT_PORT: '70000' }, (c) => assert.equal(c.agent.origin, 'http://127.0.0.1:8126')],
  ['DD_TRACE_SAMPLING_RULES', { DD_TRACE_SAMPLING_RULES: '[{"sample_rate": 1.5}]' }, (c) => assert.deepEqual(c.samplingRules, [])],
  ['DD_TRACE_SAMPLING_RULES', { DD_TRACE_SAMPLING_RULES: '{not json' }, (c) => assert.deepEqual(c.samplingRules, [])],
  ['DD_TRACE_SAMPLING_RULES', { DD_TRACE_SAMPLING_RULES: '{"sample_rate": 1}' }, (c) => assert.deepEqual(c.samplingRules, [])],
  ['DD_TRACE_RATE_LIMIT', { DD_TRACE_RATE_LIMIT: 'fast' }, (c) => assert.equal(c.rateLimit, 100)],
  ['DD_TRACE_PARTIAL_FLUSH_MIN_SPANS', { DD_TRACE_PARTIAL_FLUSH_MIN_SPANS: '0' }, (c) => assert.equal(c.partialFlushMinSpans, 300)],
  ['DD_TRACE_PARTIAL_FLUSH_MIN_SPANS', { DD_TRACE_PARTIAL_FLUSH_MIN_SPANS: '2.5' }, (c) => assert.equal(c.partialFlushMinSpans, 300)],
  ['DD_TRACE_FLUSH_INTERVAL', { DD_TRACE_FLUSH_INTERVAL: '-1' }, (c) => assert.equal(c.flushIntervalMs, 1000)],
]

for (const [name, env, check] of MALFORMED) {
  test(`malformed ${name}=${Object.values(env)[0]} gives exactly one warning naming it, and the default`, () => {
    let c: ReturnType<typeof resolveTracerConfig> | undefined
    const lines = capture(() => { c = resolveTracerConfig({}, env); resolveTracerConfig({}, env) })
    assert.equal(lines.length, 1, lines.join('\n'))
    assert.match(lines[0], new RegExp(name))
    check(c as ReturnType<typeof resolveTracerConfig>)
  })
}

test('valid sampling rules from env and from the option', () => {
  const c = resolveTracerConfig({}, { DD_TRACE_SAMPLING_RULES: '[{"sample_rate":0.3,"service":"a*"}]' })
  assert.equal(c.samplingRules.length, 1)
  assert.equal(c.samplingRules[0].sampleRate, 0.3)
  const d = resolveTracerConfig({ samplingRules: [{ sample_rate: 0 }] }, {})
  assert.equal(d.samplingRules[0].sampleRate, 0)
})

/** Rows `| \`NAME\` | cell | ... |` of the README table whose header row starts with `| <first> |`. */
function readmeTable (readme: string, first: string): Map<string, string[]> {
  const lines = readme.split('\n')
  const start = lines.findIndex((l) => l.startsWith(`| ${first} |`))
  assert.ok(start >= 0, `README has a table headed "${first}"`)
  const rows = new Map<string, string[]>()
  for (let i = start + 2; i < lines.length && lines[i].startsWith('|'); i++) {
    const cells = lines[i].split(' | ').map((c) => c.replace(/^\| ?| ?\|$/g, '').trim())
    rows.set(cells[0].replace(/`/g, ''), cells.slice(1))
  }
  return rows
}

test('the README configuration table is the registry, row for row', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
  const table = readmeTable(readme, 'variable | option')
  assert.deepEqual([...table.keys()].sort(), ENV_VARS.map((v) => v.name).sort())
  for (const v of ENV_VARS) {
    const [option, type, dflt] = table.get(v.name) as string[]
    assert.equal(option.replace(/`/g, ''), v.option.replace(/`/g, ''), `${v.name} option`)
    assert.equal(type, v.type, `${v.name} type`)
    assert.equal(dflt, v.default, `${v.name} default`)
  }
})

test('the README compatibility table agrees with the registry: supported and partly are read, not is not', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
  const table = readmeTable(readme, 'variable | status')
  const read = new Set(ENV_VARS.map((v) => v.name))
  for (const [name, [status, why]] of table) {
    assert.ok(status === 'supported' || status === 'partly' || status === 'not', `${name}: status ${status}`)
    assert.ok(why !== undefined && why.length > 10, `${name} says why`)
    if (status === 'not') assert.ok(!read.has(name), `${name} is marked not supported but the code reads it`)
    else assert.ok(read.has(name), `${name} is marked ${status} but the registry does not read it`)
  }
  for (const name of read) assert.ok(table.has(name), `the compatibility table lacks ${name}, which the code reads`)
  // The variables users ask about most, so the table cannot quietly shrink.
  for (const name of ['DD_TAGS', 'DD_TRACE_SAMPLE_RATE', 'DD_TRACE_OTEL_ENABLED', 'DD_TRACE_PROPAGATION_STYLE', 'DD_LOGS_INJECTION', 'DD_TRACE_<INTEGRATION>_ENABLED', 'DD_SERVICE_MAPPING']) {
    assert.ok(table.has(name), `the compatibility table covers ${name}`)
  }
})

test('the registry lists every environment variable the config modules read', () => {
  for (const file of ['tracer_config.ts', 'llmobs_config.ts', 'app_package.ts', 'tags.ts']) {
    const src = readFileSync(new URL(`../../../src/config/${file}`, import.meta.url), 'utf8')
    for (const m of src.matchAll(/DD_[A-Z_]+/g)) assert.ok(ENV_VARS.some((v) => v.name === m[0]), `${m[0]} read in ${file} but not in the registry`)
  }
})
