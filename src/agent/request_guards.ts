import { createHash, timingSafeEqual } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import { type AgentContext, reject } from './agent_context.js'
import { isJsonType } from './respond.js'

/**
 * Who may talk to the local agent. Three guards run before any route:
 *
 * 1. Host (every request). A DNS-rebinding page (evil.example re-resolved to 127.0.0.1) is
 *    same-origin with the agent as far as the browser knows, so CORS cannot stop it from reading
 *    every stored prompt; only the Host header, which still names evil.example, gives it away.
 *    Tracers are checked too: a rebinding page could otherwise fill the store with forged spans.
 * 2. Cross-site (state-changing query API: POST /api/reset, POST|DELETE /api/faults). Any page
 *    can send a CORS-"simple" POST (text/plain, form types) to 127.0.0.1 and the agent would act
 *    on it without the page ever reading the answer. So a JSON Content-Type (never simple: a
 *    browser must preflight it, and the agent answers no preflight) is required, and a request a
 *    browser marks as coming from another origin (`Origin`, `Sec-Fetch-Site`) is refused.
 *    The data endpoints already need what a browser cannot send unasked (msgpack or JSON types,
 *    PUT, X-Datadog-EVP-Subdomain or DD-API-KEY headers), so every cross-origin attempt is
 *    preflighted and fails.
 * 3. API key (query API, when one is configured): the same DD-API-KEY the agentless intake
 *    requires. The tracer-facing Agent endpoints (/info, /v0.4|5/traces, /evp_proxy/) stay open,
 *    as the real Datadog Agent's are: tracers never send a key to an agent (the Agent adds its
 *    own upstream), so requiring one there would break every tracer, ours and Datadog's.
 * The key is compared in constant time and never logged or echoed.
 */

/** Host names and addresses the agent answers to, besides loopback. */
export interface HostPolicy {
  /** Lowercase host names / addresses (IPv6 without brackets), no trailing dot. */
  readonly names: ReadonlySet<string>
  /**
   * Bound to every interface (0.0.0.0 or ::): clients on the network reach it by whatever
   * address they route to, so any IP literal is accepted. An IP literal cannot be rebound (a
   * page's origin is then the address itself), so this opens nothing to DNS rebinding; names
   * other than loopback ones must still be listed in `allowedHosts`.
   */
  readonly anyAddress: boolean
}

export function hostPolicy (bindHost: string, allowedHosts: readonly string[]): HostPolicy {
  const names = new Set<string>()
  const wildcard = bindHost === '0.0.0.0' || bindHost === '::' || bindHost === '[::]'
  if (!wildcard) names.add(normalizeName(bindHost))
  for (const h of allowedHosts) names.add(normalizeName(h))
  return { names, anyAddress: wildcard }
}

function normalizeName (name: string): string {
  let n = name.trim().toLowerCase()
  if (n.startsWith('[') && n.endsWith(']')) n = n.slice(1, -1)
  if (n.endsWith('.')) n = n.slice(0, -1)
  return isIP(n) === 6 ? canonicalIPv6(n) : n
}

function canonicalIPv6 (address: string): string {
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1)
  } catch {
    return address
  }
}

const BRACKETED = /^\[([0-9a-f:.]+)\](?::[0-9]{1,5})?$/
const PLAIN = /^([a-z0-9._-]+)(?::[0-9]{1,5})?$/
const IPV4_LOOPBACK = /^127\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})\.(?:25[0-5]|2[0-4][0-9]|1?[0-9]{1,2})$/

/**
 * The host part of a Host header (lowercase, IPv6 canonical and without brackets, no trailing
 * dot), or undefined when the header is not a plain `host[:port]` (userinfo, paths, spaces...).
 */
export function hostOf (header: string): string | undefined {
  const h = header.trim().toLowerCase()
  const bracketed = BRACKETED.exec(h)
  if (bracketed !== null) return isIP(bracketed[1]) === 6 ? canonicalIPv6(bracketed[1]) : undefined
  const plain = PLAIN.exec(h)
  if (plain === null) return undefined
  const name = plain[1].endsWith('.') ? plain[1].slice(0, -1) : plain[1]
  return name === '' ? undefined : name
}

export function isLoopbackHost (host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true // RFC 6761: never resolved by DNS
  if (IPV4_LOOPBACK.test(host)) return true
  if (host === '::1') return true
  // IPv4-mapped loopback, as the URL parser writes it (::ffff:7f00:1 for ::ffff:127.0.0.1).
  return /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host)
}

export function hostAllowed (header: string, policy: HostPolicy): boolean {
  const host = hostOf(header)
  if (host === undefined) return false
  if (isLoopbackHost(host) || policy.names.has(host)) return true
  return policy.anyAddress && isIP(host) !== 0
}

/**
 * Refuses (403) a request whose Host the agent does not answer to. A request without Host
 * (HTTP/1.0; Node refuses HTTP/1.1 without one) passes: browsers always send it, so its absence
 * is not a rebinding page.
 */
export function guardHost (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): boolean {
  const header = req.headers.host
  if (header === undefined || hostAllowed(header, ctx.hosts)) return true
  reject(ctx, res, 403, `Host ${JSON.stringify(header.slice(0, 128))} is not allowed: the local agent answers only to ` +
    'loopback names and addresses, the host it is bound to and allowedHosts (--allowed-host); this protects it from DNS rebinding', true)
  return false
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH'])

/** Refuses a state-changing query-API request a browser could have sent from another site. */
export function guardCrossSite (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): boolean {
  const method = req.method ?? ''
  if (!STATE_CHANGING.has(method)) return true
  const site = req.headers['sec-fetch-site']
  // `same-site` includes other ports of localhost (any local dev server), so only same-origin
  // and `none` (typed by the user) pass.
  if (typeof site === 'string' && site !== 'same-origin' && site !== 'none') {
    reject(ctx, res, 403, `cross-site request refused (Sec-Fetch-Site: ${JSON.stringify(site.slice(0, 32))}): state-changing requests must come from the agent's own origin`, true)
    return false
  }
  const origin = req.headers.origin
  if (typeof origin === 'string' && origin.toLowerCase() !== `http://${(req.headers.host ?? '').toLowerCase()}`) {
    reject(ctx, res, 403, `cross-origin request refused (Origin ${JSON.stringify(origin.slice(0, 128))}): state-changing requests must come from the agent's own origin`, true)
    return false
  }
  if (BODY_METHODS.has(method) && !isJsonType(req.headers['content-type'])) {
    reject(ctx, res, 415, `Content-Type must be application/json, got ${JSON.stringify(req.headers['content-type'] ?? '')} ` +
      '(a state-changing request must not be one a browser sends cross-origin unasked)', true)
    return false
  }
  return true
}

/** With a configured key, the query API needs it in DD-API-KEY (401 otherwise). */
export function guardQueryKey (ctx: AgentContext, req: IncomingMessage, res: ServerResponse): boolean {
  if (ctx.apiKey === undefined) return true
  const given = req.headers['dd-api-key']
  if (typeof given !== 'string' || given === '') {
    reject(ctx, res, 401, 'this agent has an API key: send it in the DD-API-KEY header (web UI: open /#key=<key>)', true)
    return false
  }
  if (!sameSecret(given, ctx.apiKey)) {
    reject(ctx, res, 401, 'invalid API key', true)
    return false
  }
  return true
}

/** Constant-time comparison of two secrets of any lengths. */
export function sameSecret (a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest()
  const hb = createHash('sha256').update(b).digest()
  return timingSafeEqual(ha, hb)
}
