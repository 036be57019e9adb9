import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

/** What the application's own package.json contributes to the defaults (DESIGN §11). */
export interface AppPackage {
  /** Normalised `name` (see normaliseServiceName), when there is one. */
  service: string | undefined
  version: string | undefined
}

let cached: AppPackage | undefined

/**
 * The nearest package.json walking up from the entry script's directory, else from the working
 * directory (dd-trace-js uses require.main; in ESM there is none, and argv[1] is the same
 * file). Read once per process: the answer cannot change and config is resolved per tracer.
 */
export function appPackage (): AppPackage {
  if (cached !== undefined) return cached
  cached = { service: undefined, version: undefined }
  try {
    const entry = process.argv[1]
    const start = entry !== undefined && entry !== '' ? dirname(resolve(entry)) : process.cwd()
    const pkg = findPackage(start) ?? (start !== process.cwd() ? findPackage(process.cwd()) : undefined)
    if (pkg !== undefined) {
      if (typeof pkg.name === 'string') cached.service = normaliseServiceName(pkg.name)
      if (typeof pkg.version === 'string' && pkg.version.trim() !== '') cached.version = pkg.version.trim()
    }
  } catch { /* unreadable: keep the generic defaults */ }
  return cached
}

function findPackage (dir: string): { name?: unknown, version?: unknown } | undefined {
  for (let d = dir; ; d = dirname(d)) {
    let text: string | undefined
    try { text = readFileSync(join(d, 'package.json'), 'utf8') } catch { /* none here: go up */ }
    if (text !== undefined) {
      try {
        const parsed: unknown = JSON.parse(text)
        if (typeof parsed === 'object' && parsed !== null) return parsed as { name?: unknown, version?: unknown }
      } catch { /* a broken package.json is the nearest one: stop, as Node's resolver would */ }
      return undefined
    }
    if (dirname(d) === d) return undefined
  }
}

/**
 * dd-trace-js's normalisation of a package name into a service name: lower case, characters
 * outside `[a-z0-9_:./-]` become `_`, leading non-alphanumerics go, at most 100 characters
 * (so `@acme/App` is `acme/app`). Empty after that: no service from the package.
 */
export function normaliseServiceName (name: string): string | undefined {
  const s = name.toLowerCase().replace(/[^a-z0-9_:./-]/g, '_').replace(/^[^a-z0-9]+/, '').slice(0, 100)
  return s === '' ? undefined : s
}

/** For tests: forget the cached answer. */
export function resetAppPackage (): void { cached = undefined }
