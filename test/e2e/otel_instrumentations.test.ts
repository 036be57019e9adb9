import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { startAgent } from '../../src/agent/start_agent.js'
import type { SpanRecord } from '../../src/agent/store_queries.js'
import { startFakeOpenAI } from '../helpers/fake_openai.js'
import { getJson } from '../helpers/agent_client.js'

const ROOT = new URL('../../../', import.meta.url).pathname
const FIXTURE = new URL('../../../test/fixtures/otel/service.cjs', import.meta.url).pathname
const REGISTER = new URL('../../src/register.js', import.meta.url).pathname

interface Emitted { name: string, resource: string, type: string, service: string, trace_id: string, span_id: string, parent_id: string, kind?: string, scope?: string, llmobs: boolean, route?: string, status?: number }

interface Service { child: ChildProcess, port: number, spans: Emitted[], stderr: string[] }

async function startService (role: 'a' | 'b', env: Record<string, string>): Promise<Service> {
  const child = spawn(process.execPath, ['-r', REGISTER, FIXTURE, role], {
    cwd: ROOT,
    env: { ...process.env, DD_LLMOBS_ENABLED: '1', DD_LLMOBS_ML_APP: 'otel-e2e', DD_SERVICE: `svc-${role}`, DD_TRACE_FLUSH_INTERVAL: '60000', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const spans: Emitted[] = []
  const stderr: string[] = []
  createInterface({ input: child.stderr! }).on('line', (l) => stderr.push(l))
  const port = await new Promise<number>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { port?: number, span?: Emitted }
      if (msg.port !== undefined) resolve(msg.port)
      if (msg.span !== undefined) spans.push(msg.span)
    })
    child.once('exit', (code) => reject(new Error(`service ${role} exited ${String(code)}: ${stderr.join('\n')}`)))
  })
  return { child, port, spans, stderr }
}

async function post (port: number, path: string, body: unknown): Promise<unknown> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  return r.json()
}

function stop (s: Service): Promise<void> {
  return new Promise((resolve) => { s.child.once('exit', () => resolve()); s.child.kill('SIGTERM') })
}

test('register + OTel instrumentations: server, fetch client and LLM spans in one trace across two services, LLMObs parent carried', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  const provider = await startFakeOpenAI()
  const b = await startService('b', { DD_TRACE_AGENT_URL: agent.url, PROVIDER_URL: provider.url })
  const a = await startService('a', { DD_TRACE_AGENT_URL: agent.url, PROVIDER_URL: provider.url, DOWNSTREAM_URL: `http://127.0.0.1:${b.port}` })
  try {
    const reply = await post(a.port, '/ask', { q: 'hello' }) as { answer: string }
    assert.equal(reply.answer, 'Hello world')
    await post(b.port, '/flush', {})
    await post(a.port, '/flush', {})

    // Service A: one trace — the Express server span at the root, our LLMObs spans under it, the fetch client spans under those.
    const traceA = a.spans.find((s) => s.name === 'a-flow')!.trace_id
    const inA = a.spans.filter((s) => s.trace_id === traceA)
    const server = inA.find((s) => s.name === 'http.server.request')
    assert.ok(server !== undefined, `server span in A: ${inA.map((s) => s.name).join(',')}`)
    assert.equal(server.resource, 'POST /ask', 'resource = method + route, as the Agent maps it')
    assert.equal(server.type, 'web')
    assert.equal(server.parent_id, '0000000000000000', 'the server span is the local root')
    const flow = inA.find((s) => s.name === 'a-flow')!
    const handler = inA.find((s) => s.span_id === flow.parent_id)
    assert.equal(handler?.scope, '@opentelemetry/instrumentation-express', 'the workflow sits under the Express handler span')
    assert.equal(handler.parent_id, server.span_id, 'which sits under the server span')
    assert.equal(handler.name, 'internal', 'an INTERNAL OTel span is named by its kind, as the Agent names it')
    const clients = inA.filter((s) => s.name === 'http.client.request')
    assert.ok(clients.length >= 2, `fetch client spans for the provider and for B: ${inA.map((s) => `${s.name}/${s.scope}`).join(', ')}`)
    assert.ok(clients.every((c) => c.type === 'http' && c.kind === 'client'))
    assert.ok(clients.some((c) => c.parent_id === flow.span_id), 'a fetch client span is a child of the workflow')
    assert.equal(inA.filter((s) => s.kind === 'client' && s.resource.includes('evp_proxy')).length, 0, 'the exporter\'s own requests are not traced')

    // Service B continues A's trace through the propagated headers.
    const serverB = b.spans.find((s) => s.name === 'http.server.request')!
    assert.equal(serverB.trace_id, traceA, 'one trace across services')
    assert.ok(clients.some((c) => c.span_id === serverB.parent_id), 'B\'s server span is a child of A\'s fetch client span')

    // LLM Observability: B's spans nest under A's workflow (the _dd.p.llmobs_* tags travelled with the headers).
    const stored = (await getJson<{ spans: SpanRecord[] }>(agent.url, '/api/spans?limit=1000')).spans
    const ev = (name: string): { span_id: string, parent_id: string, trace_id: string } => stored.find((s) => s.name === name)!.event as { span_id: string, parent_id: string, trace_id: string }
    assert.deepEqual(stored.map((s) => s.name).sort(), ['a-flow', 'a-llm', 'b-flow', 'b-llm'])
    assert.equal(ev('b-flow').parent_id, ev('a-flow').span_id)
    assert.equal(ev('b-flow').trace_id, ev('a-flow').trace_id)
    assert.equal(ev('a-llm').parent_id, ev('a-flow').span_id)
    assert.deepEqual(a.stderr.filter((l) => /error|warn/i.test(l)), [], 'no warnings in A')
  } finally {
    await stop(a)
    await stop(b)
    await provider.close()
    await agent.close()
  }
})
