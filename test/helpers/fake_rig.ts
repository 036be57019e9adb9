import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import type { SpanRecord } from '../../src/agent/store_queries.js'
import { LLMObs } from '../../src/llmobs/sdk.js'
import { Tracer } from '../../src/root/tracer.js'
import type { FakeServer } from './fake_http.js'

/**
 * The integration tests' bench: the real local agent (in memory), a Tracer + LLMObs of their own
 * pointed at it, and the fake provider servers. Events are read back from the agent's query API.
 */
export interface ProviderRig {
  agent: LocalAgent
  tracer: Tracer
  llmobs: LLMObs
  /** Flushes both writers, returns the LLMObs events the agent stored (oldest first) and clears the store. */
  events: () => Promise<Array<Record<string, any>>>
  close: () => Promise<void>
}

export async function providerRig (mlApp = 'integration-app'): Promise<ProviderRig> {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const tracer = new Tracer({ url: agent.url, service: 'svc', env: 'test', flushIntervalMs: 60_000 })
  const llmobs = new LLMObs(() => tracer)
  llmobs.enable({ mlApp })
  return {
    agent,
    tracer,
    llmobs,
    events: async () => {
      await tracer.flush()
      await llmobs.flush()
      const events = await storedEvents(agent.url)
      await fetch(`${agent.url}/api/reset`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })
      return events
    },
    close: async () => {
      await tracer.shutdown()
      await llmobs.disable()
      await agent.close()
    },
  }
}

export async function storedEvents (agentUrl: string): Promise<Array<Record<string, any>>> {
  const res = await fetch(`${agentUrl}/api/spans?limit=1000`)
  const body = await res.json() as { spans: SpanRecord[] }
  return body.spans.map((s) => s.event as Record<string, any>).sort((a, b) => (BigInt(a.start_ns) < BigInt(b.start_ns) ? -1 : 1))
}

/** Waits until `fn` is true (a stream's span ends a moment after the consumer stops). */
export async function until (fn: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!fn()) {
    if (Date.now() > end) throw new Error('until: timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

export async function closeAll (...things: Array<ProviderRig | FakeServer | undefined>): Promise<void> {
  await Promise.all(things.map((t) => t?.close()))
}
