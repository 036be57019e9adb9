import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AgentContext } from './agent_context.js'

/**
 * Endpoints Datadog's tracers call besides traces and LLMObs: answered quietly (not stored, not
 * counted as rejected). Remote configuration gets 404, which tracers read as "not available"
 * and stop asking about; the rest get an empty 200.
 */
const QUIET: ReadonlyArray<readonly [prefix: string, status: number]> = [
  ['/v0.7/config', 404],
  ['/telemetry/proxy/', 202],
  ['/v0.6/stats', 200],
  ['/v0.1/pipeline_stats', 200],
  ['/dogstatsd/', 200],
  ['/profiling/', 200],
  ['/debugger/', 200],
  ['/symdb/', 200],
  ['/tracer_flare/', 200],
]

export function quietStatus (pathname: string): number | undefined {
  for (const [prefix, status] of QUIET) if (pathname.startsWith(prefix)) return status
  return undefined
}

export function answerQuietly (ctx: AgentContext, req: IncomingMessage, res: ServerResponse, status: number): void {
  ctx.store.bump('requests_quiet')
  req.resume()
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': 2 })
  res.end('{}')
}

/** `GET /`: the web UI lives elsewhere; this says where the data is. */
