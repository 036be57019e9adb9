import { test } from 'node:test'
import assert from 'node:assert/strict'
import { compileGlob } from '../../src/sampling/glob.js'
import { compileRule, matchRule, parseSamplingRules } from '../../src/sampling/rules.js'
import type { SamplingRule } from '../../src/sampling/rules.js'
import type { SpanData } from '../../src/model/span_data.js'
import { ZERO_ID } from '../../src/model/span_data.js'

function root (overrides: Partial<SpanData> = {}): SpanData {
  return {
    traceId: '00000000000000aa',
    spanId: '00000000000000bb',
    parentId: ZERO_ID,
    name: 'web.request',
    service: 'checkout',
    resource: 'GET /cart',
    type: 'web',
    startSec: 0,
    startNsec: 0,
    duration: 1,
    error: 0,
    meta: {},
    metrics: {},
    metaStruct: undefined,
    ...overrides,
  }
}

test('glob: * matches any run, including empty', () => {
  const g = compileGlob('*')
  assert.equal(g.matchesEverything, true)
  assert.equal(g.matches(''), true)
  assert.equal(g.matches('anything at all'), true)
  assert.equal(compileGlob('***').matchesEverything, true)
  const mid = compileGlob('a*c')
  for (const s of ['ac', 'abc', 'abbbc', 'aXc']) assert.equal(mid.matches(s), true, s)
  for (const s of ['ab', 'bc', 'acb', '']) assert.equal(mid.matches(s), false, s)
  assert.equal(compileGlob('*-api').matches('payments-api'), true)
  assert.equal(compileGlob('*-api').matches('payments-api-2'), false)
})

test('glob: ? matches exactly one character', () => {
  const g = compileGlob('?')
  assert.equal(g.matchesEverything, false)
  assert.equal(g.matches('a'), true)
  assert.equal(g.matches(''), false)
  assert.equal(g.matches('ab'), false)
  assert.equal(compileGlob('v?.?').matches('v1.2'), true)
  assert.equal(compileGlob('v?.?').matches('v12.2'), false)
  const oneOrMore = compileGlob('*?')
  assert.equal(oneOrMore.matchesEverything, false)
  assert.equal(oneOrMore.matches(''), false)
  assert.equal(oneOrMore.matches('x'), true)
})

test('glob: literals, case-insensitivity, regex metacharacters and the empty pattern', () => {
  assert.equal(compileGlob('checkout').matches('checkout'), true)
  assert.equal(compileGlob('checkout').matches('checkout2'), false)
  assert.equal(compileGlob('CheckOut').matches('cHECKoUT'), true)
  assert.equal(compileGlob('WEB-*').matches('web-api'), true)
  assert.equal(compileGlob('a.b').matches('axb'), false)
  assert.equal(compileGlob('a.b').matches('a.b'), true)
  assert.equal(compileGlob('[a]+(b)').matches('[a]+(b)'), true)
  // A literal '*' in the subject must not be consumed by the pattern's star as a literal.
  assert.equal(compileGlob('*a').matches('*ba'), true)
  const empty = compileGlob('')
  assert.equal(empty.matchesEverything, false)
  assert.equal(empty.matches(''), true)
  assert.equal(empty.matches('a'), false)
})

// Backtracking over 10 stars and 20,000 characters would run for ages: the runner's per-file
// timeout (a hang, not a speed budget) is what fails an exponential matcher.
test('glob: no catastrophic backtracking', () => {
  const g = compileGlob('a*a*a*a*a*a*a*a*a*a*b')
  const subject = 'a'.repeat(20_000)
  assert.equal(g.matches(subject), false)
  assert.equal(g.matches(subject + 'b'), true)
})

test('parse: DD_TRACE_SAMPLING_RULES JSON with every field', () => {
  const text = JSON.stringify([
    { sample_rate: 0.25, service: 'checkout', name: 'web.*', resource: 'GET /?art', tags: { 'http.method': 'G*' } },
    { sample_rate: 1 },
  ])
  const { rules, error } = parseSamplingRules(text)
  assert.equal(error, undefined)
  assert.deepEqual(rules, [
    { sampleRate: 0.25, service: 'checkout', name: 'web.*', resource: 'GET /?art', tags: { 'http.method': 'G*' } },
    { sampleRate: 1 },
  ])
})

test('parse: option form accepts sampleRate and sample_rate, ignores unknown keys', () => {
  const { rules, error } = parseSamplingRules([
    { sampleRate: 0.5, service: 'a' },
    { sample_rate: 0, name: 'b', max_per_second: 10, provenance: 'local' },
  ])
  assert.equal(error, undefined)
  assert.deepEqual(rules, [{ sampleRate: 0.5, service: 'a' }, { sampleRate: 0, name: 'b' }])
})

test('parse: nothing configured is no rules and no error', () => {
  for (const input of [undefined, null, '', '   ', '[]', []]) {
    assert.deepEqual(parseSamplingRules(input), { rules: [] }, JSON.stringify(input))
  }
})

test('parse: every malformed input gives an error and no rules', () => {
  const cases: Array<[unknown, RegExp]> = [
    ['[{"sample_rate": 0.5', /not valid JSON/],
    ['{"sample_rate": 0.5}', /expected a JSON array/],
    ['"rules"', /expected a JSON array/],
    [42, /expected a JSON array/],
    [{ sample_rate: 1 }, /expected a JSON array/],
    [[null], /rule \[0\]: expected an object/],
    [[[0.5]], /rule \[0\]: expected an object/],
    [[7], /rule \[0\]: expected an object/],
    [[{ service: 'a' }], /rule \[0\]: sample_rate is missing/],
    [[{ sample_rate: '0.5' }], /sample_rate must be a number between 0 and 1/],
    [[{ sample_rate: -0.1 }], /sample_rate must be a number between 0 and 1/],
    [[{ sample_rate: 1.1 }], /sample_rate must be a number between 0 and 1/],
    [[{ sampleRate: Number.NaN }], /sample_rate must be a number between 0 and 1/],
    [[{ sample_rate: null }], /sample_rate must be a number between 0 and 1/],
    [[{ sample_rate: 1, service: 5 }], /service must be a string/],
    [[{ sample_rate: 1, name: null }], /name must be a string/],
    [[{ sample_rate: 1, resource: {} }], /resource must be a string/],
    [[{ sample_rate: 1, tags: ['a'] }], /tags must be an object/],
    [[{ sample_rate: 1, tags: null }], /tags must be an object/],
    [[{ sample_rate: 1, tags: { code: 200 } }], /tags\.code must be a string/],
  ]
  for (const [input, message] of cases) {
    const result = parseSamplingRules(input)
    assert.deepEqual(result.rules, [], JSON.stringify(input))
    assert.match(result.error ?? '', message, JSON.stringify(input))
  }
})

test('parse: one bad rule rejects the whole list and names its index', () => {
  const result = parseSamplingRules('[{"sample_rate":0.1,"service":"a"},{"sample_rate":2}]')
  assert.deepEqual(result.rules, [])
  assert.match(result.error ?? '', /rule \[1\]/)
})

test('parse: a "__proto__" tag key stays an ordinary key', () => {
  const { rules } = parseSamplingRules('[{"sample_rate":1,"tags":{"__proto__":"x"}}]')
  const tags = rules[0]?.tags ?? {}
  assert.deepEqual(Object.keys(tags), ['__proto__'])
  assert.equal(Object.getPrototypeOf(tags), Object.prototype)
})

test('match: service, name and resource globs must all match', () => {
  const rule: SamplingRule = { sampleRate: 1, service: 'check*', name: 'web.request', resource: 'GET /?art' }
  assert.equal(matchRule(rule, root()), true)
  assert.equal(matchRule(rule, root({ service: 'billing' })), false)
  assert.equal(matchRule(rule, root({ name: 'db.query' })), false)
  assert.equal(matchRule(rule, root({ resource: 'POST /cart' })), false)
  assert.equal(matchRule(rule, root({ service: 'CHECKOUT-v2', resource: 'get /cart' })), true)
})

test('match: a rule with no patterns matches every root; empty patterns are no constraint', () => {
  assert.equal(matchRule({ sampleRate: 1 }, root()), true)
  assert.equal(matchRule({ sampleRate: 1, service: '', name: '', resource: '' }, root()), true)
})

test('match: tags read meta values and integer metrics', () => {
  const span = root({
    meta: { 'http.method': 'GET', team: '' },
    metrics: { 'http.status_code': 200, ratio: 1.5, retries: 0 },
  })
  const m = (tags: Record<string, string>): boolean => matchRule({ sampleRate: 1, tags }, span)
  assert.equal(m({ 'http.method': 'get' }), true)
  assert.equal(m({ 'http.method': 'POST' }), false)
  assert.equal(m({ 'http.status_code': '200' }), true)
  assert.equal(m({ 'http.status_code': '2??' }), true)
  assert.equal(m({ 'http.status_code': '5*' }), false)
  assert.equal(m({ retries: '0' }), true)
  // Non-integer metrics never match a real pattern (dd-trace-js does not stringify them).
  assert.equal(m({ ratio: '1.5' }), false)
  assert.equal(m({ ratio: '*' }), true)
  // A missing or empty value only matches an all-star pattern.
  assert.equal(m({ missing: '*' }), true)
  assert.equal(m({ missing: '**' }), true)
  assert.equal(m({ missing: '?*' }), false)
  assert.equal(m({ team: '*' }), true)
  assert.equal(m({ team: '' }), false)
  // Every tag must match.
  assert.equal(m({ 'http.method': 'GET', 'http.status_code': '404' }), false)
  assert.equal(m({ 'http.method': 'GET', 'http.status_code': '200' }), true)
})

test('match: inherited object properties are not tag values', () => {
  assert.equal(matchRule({ sampleRate: 1, tags: { toString: '*function*' } }, root()), false)
  assert.equal(matchRule({ sampleRate: 1, tags: { constructor: '?*' } }, root()), false)
})

test('compileRule keeps the rule and matches like matchRule', () => {
  const rule: SamplingRule = { sampleRate: 0.3, service: 'a*' }
  const compiled = compileRule(rule)
  assert.equal(compiled.rule, rule)
  assert.equal(compiled.matches(root({ service: 'abc' })), true)
  assert.equal(compiled.matches(root({ service: 'bcd' })), false)
})
