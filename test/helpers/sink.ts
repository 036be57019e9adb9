import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { Unpackr } from 'msgpackr'

/**
 * A scriptable stand-in for the agent on 127.0.0.1:0. Decodes msgpack with msgpackr — an
 * independent decoder, so encoder bugs cannot cancel out in the tests.
 */
export interface Received {
  method: string
  url: string
  headers: http.IncomingHttpHeaders
  body: Buffer
}

export interface Reply {
  status?: number
  body?: string
  headers?: Record<string, string>
  delayMs?: number
  /** Destroy the socket instead of answering. */
  destroy?: boolean
}

export type Script = (req: Received, index: number) => Reply | undefined

export interface Sink {
  url: string
  port: number
  /** Requests answered with 2xx (what the agent "accepted"). */
  requests: Received[]
  /** Every request, whatever the answer. */
  all: Received[]
  /** Requests to a given path prefix. */
  to (prefix: string): Received[]
  waitFor (predicate: () => boolean, timeoutMs?: number): Promise<void>
  close (): Promise<void>
}

export const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'bigint' })

export function decodeMsgpack (buf: Uint8Array): unknown {
  return unpackr.unpack(buf)
}

export async function startSink (script?: Script): Promise<Sink> {
  const requests: Received[] = []
  const all: Received[] = []
  let n = 0
  // Answers still waiting on their delay: cancelled at close, so a sink scripted never to answer
  // in time does not hold the test process open.
  const delayed = new Set<NodeJS.Timeout>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const rec: Received = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) }
      all.push(rec)
      const reply = script?.(rec, n++) ?? {}
      const answer = (): void => {
        if (reply.destroy === true) { req.socket.destroy(); return }
        const status = reply.status ?? 200
        if (status >= 200 && status < 300) requests.push(rec)
        res.writeHead(status, { 'Content-Type': 'application/json', ...reply.headers })
        res.end(reply.body ?? defaultBody(req.url ?? ''))
      }
      if (reply.delayMs !== undefined) {
        const t = setTimeout(() => { delayed.delete(t); answer() }, reply.delayMs)
        delayed.add(t)
      } else answer()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    all,
    to: (prefix) => requests.filter((r) => r.url.startsWith(prefix)),
    // The cap only fails a hung test: a slow machine just polls longer.
    waitFor: async (predicate, timeoutMs = 30_000) => {
      const end = Date.now() + timeoutMs
      while (!predicate()) {
        if (Date.now() > end) throw new Error('sink.waitFor timed out')
        await new Promise((r) => setTimeout(r, 10))
      }
    },
    close: () => new Promise<void>((resolve) => {
      for (const t of delayed) clearTimeout(t)
      delayed.clear()
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}

/** Span maps of every v0.4 payload received, flattened to chunks. */
export function v04Chunks (sink: Sink): Array<Array<Record<string, any>>> {
  const out: Array<Array<Record<string, any>>> = []
  for (const r of sink.to('/v0.4/traces')) out.push(...(decodeMsgpack(r.body) as Array<Array<Record<string, any>>>))
  return out
}

function defaultBody (url: string): string {
  if (url.includes('/traces')) return '{"rate_by_service":{"service:,env:":1}}'
  if (url === '/info') return JSON.stringify({ endpoints: ['/v0.4/traces', '/v0.5/traces', '/evp_proxy/v2/'], span_meta_structs: true })
  return '{}'
}

/** LLMObs span events posted to the EVP proxy (or agentless intake), in arrival order. */
export function evpEvents (sink: Sink, path = '/evp_proxy/v2/api/v2/llmobs'): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  for (const r of sink.to(path)) {
    for (const env of JSON.parse(r.body.toString('utf8')) as Array<{ spans: Array<Record<string, unknown>> }>) out.push(...env.spans)
  }
  return out
}
