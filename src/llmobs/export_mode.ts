import type { LlmobsConfig } from '../config/llmobs_config.js'
import type { Transport } from '../transport/result.js'

/** DESIGN §3.6: resolved once at enable. */
export type ExportMode = 'apm_agent' | 'apm_agentless' | 'llmobs_agent_proxy' | 'llmobs_agentless' | 'otlp'

/**
 * The part of the decision that needs no network: agentless only when asked for. The tracer's
 * OTLP exporter wins over everything: there is then no Agent and no EVP proxy to talk to, and
 * LLM events ride their spans as GenAI attributes (those of dropped traces too, see OtlpExporter).
 */
export function chooseMode (config: LlmobsConfig, tracerEnabled: boolean, tracerOtlp = false): ExportMode {
  if (tracerOtlp) return 'otlp'
  const apm = config.apmTracingEnabled && tracerEnabled
  if (config.agentless) return apm ? 'apm_agentless' : 'llmobs_agentless'
  return apm ? 'apm_agent' : 'llmobs_agent_proxy'
}

/** True when events ride APM traces (the rescue applies in apm_agent only). */
export function ridesTraces (mode: ExportMode): boolean {
  return mode === 'apm_agent' || mode === 'apm_agentless' || mode === 'otlp'
}

export type EvpDiscovery = 'available' | 'missing' | 'unreachable'

/**
 * Asks the agent's `/info` whether it has the EVP proxy. Unreachable is not "missing": the agent
 * may come up later, so the caller keeps the proxy as destination.
 */
export async function discoverEvpProxy (transport: Transport, timeoutMs: number): Promise<EvpDiscovery> {
  const r = await transport.send({ method: 'GET', path: '/info', headers: {}, timeoutMs })
  if (r.kind !== 'ok') return r.status === 404 ? 'missing' : 'unreachable'
  try {
    const info = JSON.parse(r.body) as { endpoints?: unknown }
    const endpoints = Array.isArray(info.endpoints) ? info.endpoints : []
    return endpoints.some((e) => typeof e === 'string' && e.startsWith('/evp_proxy/v2')) ? 'available' : 'missing'
  } catch {
    return 'unreachable'
  }
}

/** Agentless sends API keys: only HTTPS, except to loopback (tests, local proxies). */
export function isSafeIntakeUrl (url: string): boolean {
  let u: URL
  try { u = new URL(url) } catch { return false }
  if (u.protocol === 'https:') return true
  if (u.protocol !== 'http:') return false
  const h = u.hostname.replace(/^\[|\]$/g, '')
  // An IPv4 literal only (the URL parser normalises 127.1 and friends): a *name* starting with
  // "127." (127.evil.example, 127.0.0.1.nip.io) resolves wherever its owner wants.
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h)
}
