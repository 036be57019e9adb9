import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { resolveTracerConfig } from '../../src/config/tracer_config.js'
import { normaliseServiceName } from '../../src/config/app_package.js'
import { parseTagString } from '../../src/config/tags.js'
import { log } from '../../src/diag/logger.js'

function capture<T> (fn: () => T): { value: T, lines: string[] } {
  const lines: string[] = []
  log.resetWarnings()
  log.configure({ sink: (_level, msg) => lines.push(msg) })
  try { return { value: fn(), lines } } finally { log.configure({ sink: () => {} }) }
}

test('DD_TAGS parses as dd-trace-js does: commas, else whitespace; first colon; trimmed; bare keys get ""', () => {
  assert.deepEqual(parseTagString('team:ml, owner : a:b ,,bare, :nokey'), { team: 'ml', owner: 'a:b', bare: '' })
  assert.deepEqual(parseTagString('team:ml  owner:me\tx:y'), { team: 'ml', owner: 'me', x: 'y' })
  assert.deepEqual(parseTagString('  '), {})
  const proto = parseTagString('__proto__:x')
  assert.equal(Object.getPrototypeOf(proto), Object.prototype, 'a __proto__ key stays a key')
  assert.equal(Object.keys(proto)[0], '__proto__')
})

test('DD_TAGS env/service/version fill in only when DD_ENV/DD_SERVICE/DD_VERSION are unset; the tags option wins over DD_TAGS', () => {
  const tagsOnly = resolveTracerConfig({}, { DD_TAGS: 'env:from-tags,service:svc-tags,version:9.9,team:ml' })
  assert.deepEqual([tagsOnly.env, tagsOnly.service, tagsOnly.version], ['from-tags', 'svc-tags', '9.9'])
  assert.deepEqual(tagsOnly.tags, { env: 'from-tags', service: 'svc-tags', version: '9.9', team: 'ml' })
  const explicit = resolveTracerConfig({}, { DD_TAGS: 'env:from-tags,service:svc-tags,version:9.9', DD_ENV: 'prod', DD_SERVICE: 'api', DD_VERSION: '1.0' })
  assert.deepEqual([explicit.env, explicit.service, explicit.version], ['prod', 'api', '1.0'])
  const merged = resolveTracerConfig({ tags: { team: 'infra', shard: 3, canary: true } }, { DD_TAGS: 'team:ml,region:eu' })
  assert.deepEqual(merged.tags, { team: 'infra', region: 'eu', shard: '3', canary: 'true' })
})

test('a bad tags option warns once and is ignored; a bad value is left out', () => {
  const { value, lines } = capture(() => resolveTracerConfig({ tags: { ok: 'y', bad: { nested: 1 } } as never }, {}))
  assert.deepEqual(value.tags, { ok: 'y' })
  assert.equal(lines.length, 1)
  assert.match(lines[0], /tags\.bad/)
  const whole = capture(() => resolveTracerConfig({ tags: 'team:ml' as never }, {}))
  assert.deepEqual(whole.value.tags, {})
  assert.equal(whole.lines.length, 1)
})

test('DD_TRACE_SAMPLE_RATE is a catch-all rule appended after DD_TRACE_SAMPLING_RULES', () => {
  const c = resolveTracerConfig({}, { DD_TRACE_SAMPLE_RATE: '0.1', DD_TRACE_SAMPLING_RULES: '[{"sample_rate":1,"service":"checkout"}]' })
  assert.deepEqual(c.samplingRules, [{ sampleRate: 1, service: 'checkout' }, { sampleRate: 0.1 }])
  assert.equal(c.sampleRate, 0.1)
  assert.deepEqual(resolveTracerConfig({}, {}).samplingRules, [])
  assert.equal(resolveTracerConfig({ sampleRate: 0.5 }, { DD_TRACE_SAMPLE_RATE: '0.1' }).sampleRate, 0.5)
})

test('DD_TRACE_SAMPLE_RATE out of range is clamped with one warning; not a number: one warning, no rule', () => {
  const high = capture(() => { resolveTracerConfig({}, { DD_TRACE_SAMPLE_RATE: '2' }); return resolveTracerConfig({}, { DD_TRACE_SAMPLE_RATE: '2' }) })
  assert.deepEqual(high.value.samplingRules, [{ sampleRate: 1 }])
  assert.equal(high.lines.length, 1)
  assert.match(high.lines[0], /DD_TRACE_SAMPLE_RATE/)
  assert.deepEqual(capture(() => resolveTracerConfig({}, { DD_TRACE_SAMPLE_RATE: '-1' })).value.samplingRules, [{ sampleRate: 0 }])
  const bad = capture(() => { resolveTracerConfig({}, { DD_TRACE_SAMPLE_RATE: 'half' }); return resolveTracerConfig({}, { DD_TRACE_SAMPLE_RATE: 'half' }) })
  assert.equal(bad.value.sampleRate, undefined)
  assert.deepEqual(bad.value.samplingRules, [])
  assert.equal(bad.lines.length, 1)
  assert.match(bad.lines[0], /DD_TRACE_SAMPLE_RATE="half"/)
})

test('package names normalise into service names as dd-trace-js does', () => {
  assert.equal(normaliseServiceName('@Acme/My App'), 'acme/my_app')
  assert.equal(normaliseServiceName('x'.repeat(150))?.length, 100)
  assert.equal(normaliseServiceName('@@@'), undefined)
})

const CONFIG_MODULE = new URL('../../src/config/tracer_config.js', import.meta.url).href

test('version and service default to the nearest package.json above the entry script, read once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'app-pkg-'))
  try {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@acme/Shop', version: '3.2.1' }))
    mkdirSync(join(dir, 'src', 'bin'), { recursive: true })
    const script = join(dir, 'src', 'bin', 'app.mjs')
    writeFileSync(script, `import { resolveTracerConfig } from ${JSON.stringify(CONFIG_MODULE)}
const a = resolveTracerConfig({}, {})
const b = resolveTracerConfig({}, { DD_VERSION: '7', DD_TAGS: 'service:from-tags' })
const c = resolveTracerConfig({}, { DD_TAGS: 'version:from-tags' })
console.log(JSON.stringify([a.service, a.version, b.service, b.version, c.version]))`)
    // The working directory has no package.json: the entry script's directory is what counts.
    const out = spawnSync(process.execPath, [script], { cwd: tmpdir(), encoding: 'utf8' })
    assert.equal(out.status, 0, out.stderr)
    assert.deepEqual(JSON.parse(out.stdout), ['acme/shop', '3.2.1', 'from-tags', '7', 'from-tags'])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
