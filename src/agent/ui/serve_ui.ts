import { existsSync, readFileSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { fileURLToPath } from 'node:url'
import { log } from '../../diag/logger.js'

interface Asset { file: string, type: string }

/**
 * Everything the web UI serves. A fixed table rather than a directory lookup, so no part of a
 * request path ever reaches the file system.
 */
const HTML = 'text/html; charset=utf-8'
// Module scripts are refused by the browser unless served with a JavaScript MIME type.
const JS = 'text/javascript; charset=utf-8'

/** The ES modules of the page, one view or helper each; app.js imports the others. */
export const UI_MODULES = [
  'app.js', 'dom.js', 'format.js', 'api.js', 'url_state.js', 'live.js', 'charts.js',
  'view_list.js', 'view_trace.js', 'span_detail.js', 'view_sessions.js', 'view_session.js',
  'view_summary.js', 'view_delivery.js', 'filters.js',
] as const

const ASSETS: ReadonlyMap<string, Asset> = new Map([
  ['/', { file: 'index.html', type: HTML }],
  ['/index.html', { file: 'index.html', type: HTML }],
  ['/ui/style.css', { file: 'style.css', type: 'text/css; charset=utf-8' }],
  ...UI_MODULES.map((m): [string, Asset] => [`/ui/${m}`, { file: m, type: JS }]),
])

/**
 * The page shows LLM inputs and outputs, which are untrusted. Only our own files may run or
 * style it, and Trusted Types make every HTML-parsing sink (innerHTML, outerHTML, document.write,
 * ...) throw, so a slip in the client code fails loudly instead of becoming an injection.
 */
export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "require-trusted-types-for 'script'",
  "trusted-types 'none'",
].join('; ')

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': UI_CSP,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  // The assets change with the package, and a stale app.js against a newer API is confusing.
  'Cache-Control': 'no-cache',
}

const cache = new Map<string, Buffer>()
let resolvedDir: string | null | undefined

/**
 * The build copies the assets next to this module (dist/src/agent/ui/static). A checkout built
 * with plain `tsc` has no copy yet, so the sources are used from there; the published package
 * only ships dist/src, where the copy exists.
 */
function staticDir (): string | undefined {
  if (resolvedDir === undefined) {
    const candidates = [new URL('./static/', import.meta.url), new URL('../../../../src/agent/ui/static/', import.meta.url)]
    resolvedDir = null
    for (const c of candidates) {
      const dir = fileURLToPath(c)
      if (existsSync(dir + 'index.html')) { resolvedDir = dir; break }
    }
  }
  return resolvedDir ?? undefined
}

function load (file: string): Buffer | undefined {
  const hit = cache.get(file)
  if (hit !== undefined) return hit
  const dir = staticDir()
  if (dir === undefined) return undefined
  try {
    const body = readFileSync(dir + file)
    cache.set(file, body)
    return body
  } catch {
    return undefined
  }
}

function pathnameOf (req: IncomingMessage): string | undefined {
  try {
    return new URL(req.url ?? '/', 'http://local-agent').pathname
  } catch {
    return undefined
  }
}

/**
 * Serves the web UI (`/`, `/ui/<module>.js`, `/ui/style.css`) for GET and HEAD. Returns false when
 * the request is not for the UI, so the caller routes it on.
 */
export function serveUi (req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false
  const pathname = pathnameOf(req)
  if (pathname === undefined) return false
  if (pathname === '/favicon.ico') {
    // Browsers ask for it on their own; a 404 would only add noise to the console.
    res.writeHead(204, SECURITY_HEADERS)
    res.end()
    return true
  }
  const asset = ASSETS.get(pathname)
  if (asset === undefined) return false
  req.resume()
  const body = load(asset.file)
  if (body === undefined) {
    log.warnOnce('agent.ui.assets', `local agent: the web UI's files are missing (${asset.file}); rebuild the package (npm run build)`)
    const text = 'The web UI files are missing from this installation; rebuild it with `npm run build`. The JSON API is at /api/traces.\n'
    res.writeHead(500, { ...SECURITY_HEADERS, 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) })
    res.end(req.method === 'HEAD' ? undefined : text)
    return true
  }
  res.writeHead(200, { ...SECURITY_HEADERS, 'Content-Type': asset.type, 'Content-Length': body.length })
  res.end(req.method === 'HEAD' ? undefined : body)
  return true
}
