import { test } from 'node:test'
import assert from 'node:assert/strict'
import net from 'node:net'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { counters, expected, postEvp, request, spanEvent, waitFor } from '../helpers/agent_client.js'

/** Far longer than any wait below: a handler that only ends when the delay does is a leak. */
const LONG_DELAY_MS = 60_000

async function setDelay (agent: LocalAgent, path: string): Promise<void> {
  const r = await request(agent.url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path, delayMs: LONG_DELAY_MS }) })
  assert.equal(r.status, 200)
}

/** Sends headers and part of a body on a raw socket; the caller decides when the client leaves. */
async function startRequest (agent: LocalAgent, path: string, partialBody: boolean): Promise<net.Socket> {
  const socket = net.connect(agent.port, '127.0.0.1')
  socket.on('error', () => {})
  await new Promise<void>((resolve) => socket.once('connect', resolve))
  const body = JSON.stringify([{ spans: [spanEvent('delayed', '1')] }])
  socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${agent.port}\r\nContent-Type: application/json\r\n` +
    `X-Datadog-EVP-Subdomain: llmobs-intake\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`)
  socket.write(partialBody ? body.slice(0, 10) : body)
  return socket
}

function collectUnhandled (): { seen: unknown[], stop: () => void } {
  const seen: unknown[] = []
  const on = (reason: unknown): void => { seen.push(reason) }
  process.on('unhandledRejection', on)
  return { seen, stop: () => process.off('unhandledRejection', on) }
}

for (const partialBody of [true, false]) {
  test(`delay fault: a client that leaves during the delay (${partialBody ? 'mid-body' : 'whole request sent'}) ends its handler at once; nothing stored`, async () => {
    const unhandled = collectUnhandled()
    const agent = await startAgent({ port: 0, db: ':memory:' })
    try {
      await setDelay(agent, '/evp_proxy/')
      const socket = await startRequest(agent, '/evp_proxy/v2/api/v2/llmobs', partialBody)
      await waitFor(async () => (await counters(agent.url)).faults_injected === 1, 10_000, 'the request to reach the delay')
      assert.equal(agent.inFlight(), 1, 'held by the delay')
      socket.destroy()
      await waitFor(() => agent.inFlight() === 0, 10_000, 'the delayed handler to settle after the client left')
      // The agent goes on serving, and the abandoned request left no trace but its fault.
      assert.equal((await postEvp(agent.url, [spanEvent('after', '1')])).status, 202)
      assert.deepEqual(await counters(agent.url), expected({ faults_injected: 1, payloads_received: 1, llmobs_evp: 1 }))
    } finally {
      await agent.close()
      unhandled.stop()
    }
    assert.deepEqual(unhandled.seen, [])
  })
}

test('delay fault: close() during a 60 s delay resolves with every handler settled, no unhandled rejection', async () => {
  const unhandled = collectUnhandled()
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    await setDelay(agent, '/v0.4/traces')
    await request(agent.url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path: '/evp_proxy/', delayMs: LONG_DELAY_MS, count: 3 }) })
    const held = [
      request(agent.url, '/v0.4/traces', { method: 'PUT', headers: { 'Content-Type': 'application/msgpack' }, body: Buffer.from([0x90]) }),
      ...[1, 2, 3].map((i) => postEvp(agent.url, [spanEvent('held', String(i))])),
    ].map((p) => p.then(() => 'answered', () => 'failed'))
    await waitFor(() => agent.inFlight() === 4, 10_000, 'four requests held by delays')
    // The faults are spent: this one waits in the body read, for bytes that never come.
    const sock = await startRequest(agent, '/evp_proxy/v2/api/v2/llmobs', true)
    await waitFor(() => agent.inFlight() === 5, 10_000, 'a fifth held in its body read')
    await agent.close()
    assert.equal(agent.inFlight(), 0)
    assert.deepEqual(await Promise.all(held), ['failed', 'failed', 'failed', 'failed'], 'connections closed, no answer')
    sock.destroy()
  } finally {
    await agent.close()
    unhandled.stop()
  }
  assert.deepEqual(unhandled.seen, [])
})

test('delay fault with the client staying: the request is served after the delay', async () => {
  const agent = await startAgent({ port: 0, db: ':memory:' })
  try {
    const r = await request(agent.url, '/api/faults', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ path: '/evp_proxy/', delayMs: 50 }) })
    assert.equal(r.status, 200)
    assert.equal((await postEvp(agent.url, [spanEvent('served', '1')])).status, 202)
    assert.equal(agent.inFlight(), 0)
    assert.deepEqual(await counters(agent.url), expected({ faults_injected: 1, payloads_received: 1, llmobs_evp: 1 }))
  } finally {
    await agent.close()
  }
})
