import type { SpanData } from '../model/span_data.js'
import { compileGlob } from './glob.js'
import type { Glob } from './glob.js'

/**
 * One trace sampling rule. Every pattern present must match the local root span; the first rule
 * that matches decides the trace's rate.
 *
 * @example
 * { sampleRate: 0.1, service: 'checkout-*', tags: { 'http.method': 'GET' } }
 */
export interface SamplingRule {
  /** Rate in [0, 1] applied with the Knuth hash of the trace id. */
  sampleRate: number
  /** Glob on the root's service; '' is the same as absent (dd-trace-js ignores it too). */
  service?: string
  /** Glob on the root's operation name; '' is the same as absent. */
  name?: string
  /** Glob on the root's resource; '' is the same as absent. */
  resource?: string
  /** Globs on root tags: a meta value, or a metric value when it is an integer. */
  tags?: Record<string, string>
}

export interface ParsedRules {
  rules: SamplingRule[]
  /** Why the input was rejected; `rules` is then empty. */
  error?: string
}

/**
 * Validates rules given as `DD_TRACE_SAMPLING_RULES` JSON text or as an already-parsed array
 * (the option form). Keys are `sample_rate` (or `sampleRate`), `service`, `name`, `resource`,
 * `tags`; other keys are ignored so rules written for newer tracers still load.
 *
 * A single bad rule rejects the whole list: dropping just that rule would let traces it was
 * meant to catch fall through to a later, broader rule and be sampled at a rate nobody chose.
 * Undefined, null and blank text mean "no rules" and are not errors.
 */
export function parseSamplingRules (input: unknown): ParsedRules {
  let value: unknown = input
  if (typeof input === 'string') {
    if (input.trim() === '') return { rules: [] }
    try {
      value = JSON.parse(input)
    } catch (err) {
      return fail(`not valid JSON (${err instanceof Error ? err.message : String(err)})`)
    }
  }
  if (value === undefined || value === null) return { rules: [] }
  if (!Array.isArray(value)) return fail(`expected a JSON array of rules, got ${describe(value)}`)

  const rules: SamplingRule[] = []
  for (let i = 0; i < value.length; i++) {
    const rule = parseRule(value[i])
    if (typeof rule === 'string') return fail(`rule [${i}]: ${rule}`)
    rules.push(rule)
  }
  return { rules }
}

/** A rule with its globs compiled, ready to be matched against many roots. */
export interface RuleMatcher {
  readonly rule: SamplingRule
  matches (root: SpanData): boolean
}

export function compileRule (rule: SamplingRule): RuleMatcher {
  const service = fieldGlob(rule.service)
  const name = fieldGlob(rule.name)
  const resource = fieldGlob(rule.resource)
  const tagKeys: string[] = []
  const tagGlobs: Glob[] = []
  if (rule.tags !== undefined) {
    for (const key of Object.keys(rule.tags)) {
      tagKeys.push(key)
      tagGlobs.push(compileGlob(rule.tags[key] as string))
    }
  }
  return {
    rule,
    matches (root: SpanData): boolean {
      if (service !== undefined && !subjectMatches(service, root.service)) return false
      if (name !== undefined && !subjectMatches(name, root.name)) return false
      if (resource !== undefined && !subjectMatches(resource, root.resource)) return false
      for (let i = 0; i < tagKeys.length; i++) {
        if (!subjectMatches(tagGlobs[i] as Glob, tagValue(root, tagKeys[i] as string))) return false
      }
      return true
    },
  }
}

const compiled = new WeakMap<SamplingRule, RuleMatcher>()

/** Convenience form of compileRule: compiles each rule object once and reuses it. */
export function matchRule (rule: SamplingRule, root: SpanData): boolean {
  let matcher = compiled.get(rule)
  if (matcher === undefined) {
    matcher = compileRule(rule)
    compiled.set(rule, matcher)
  }
  return matcher.matches(root)
}

function fieldGlob (pattern: string | undefined): Glob | undefined {
  return pattern === undefined || pattern === '' ? undefined : compileGlob(pattern)
}

/**
 * An all-star pattern matches even a missing or empty subject (dd-trace-js: `tags: {k: '*'}`
 * matches roots without `k`); any other pattern needs a non-empty subject.
 */
function subjectMatches (glob: Glob, subject: string | undefined): boolean {
  if (glob.matchesEverything) return true
  if (subject === undefined || subject === '') return false
  return glob.matches(subject)
}

/**
 * The root's value for a tag key: meta first, then an integer metric in decimal (dd-trace-js
 * keeps both in one map and matches integers by their decimal text; other numbers never match).
 * Unlike dd-trace-js, a metric of 0 matches "0": there it is skipped as falsy, which looks
 * accidental.
 */
function tagValue (root: SpanData, key: string): string | undefined {
  const meta = root.meta[key]
  if (typeof meta === 'string') return meta
  const metric = root.metrics[key]
  if (typeof metric === 'number' && Number.isInteger(metric)) return String(metric)
  return undefined
}

/** The rule, or a string saying what is wrong with it. */
function parseRule (raw: unknown): SamplingRule | string {
  if (!isPlainObject(raw)) return `expected an object, got ${describe(raw)}`

  const rate = raw['sample_rate'] !== undefined ? raw['sample_rate'] : raw['sampleRate']
  if (rate === undefined) return 'sample_rate is missing'
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) {
    return `sample_rate must be a number between 0 and 1, got ${describe(rate)}`
  }
  const rule: SamplingRule = { sampleRate: rate }

  for (const field of ['service', 'name', 'resource'] as const) {
    const pattern = raw[field]
    if (pattern === undefined) continue
    if (typeof pattern !== 'string') return `${field} must be a string, got ${describe(pattern)}`
    rule[field] = pattern
  }

  const tags = raw['tags']
  if (tags !== undefined) {
    if (!isPlainObject(tags)) return `tags must be an object of string globs, got ${describe(tags)}`
    const entries: Array<[string, string]> = []
    for (const key of Object.keys(tags)) {
      const pattern = tags[key]
      if (typeof pattern !== 'string') return `tags.${key} must be a string, got ${describe(pattern)}`
      entries.push([key, pattern])
    }
    // fromEntries defines own properties, so a "__proto__" key stays a key.
    rule.tags = Object.fromEntries(entries)
  }
  return rule
}

function fail (reason: string): ParsedRules {
  return { rules: [], error: `invalid sampling rules: ${reason}` }
}

function isPlainObject (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Short description of a bad value for an error message (bounded: the input is user text). */
function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') {
    return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)
  }
  return `${typeof value} ${String(value)}`
}
