import http from 'node:http'
import type { AddressInfo } from 'node:net'

/** Shared plumbing of the fake provider servers: JSON in, JSON or server-sent events out. */
export interface FakeRequest { method: string, path: string, headers: http.IncomingHttpHeaders, body: Record<string, any> }

export interface FakeServer {
  url: string
  /** Every request received, in order. */
  requests: FakeRequest[]
  /** Streams the server is still writing (abort tests wait for the client to go away). */
  openStreams: () => number
  close: () => Promise<void>
}

export type Handler = (req: FakeRequest, res: Responder) => void | Promise<void>

export interface Responder {
  json: (status: number, body: unknown, headers?: Record<string, string>) => void
  /** Writes SSE frames with `delayMs` between them; stops when the client disconnects. */
  sse: (frames: Array<{ event?: string, data: unknown }>, delayMs?: number) => Promise<void>
}

export async function startFakeServer (handler: Handler): Promise<FakeServer> {
  const requests: FakeRequest[] = []
  let open = 0
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      let body: Record<string, any> = {}
      try { body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {} } catch { body = {} }
      const fr: FakeRequest = { method: req.method ?? '', path: (req.url ?? '').split('?')[0], headers: req.headers, body }
      requests.push(fr)
      const responder: Responder = {
        json: (status, payload, headers = {}) => {
          res.writeHead(status, { 'content-type': 'application/json', ...headers })
          res.end(JSON.stringify(payload))
        },
        sse: async (frames, delayMs = 0) => {
          open++
          res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
          try {
            for (const f of frames) {
              if (res.destroyed || res.writableEnded) return
              const data = typeof f.data === 'string' ? f.data : JSON.stringify(f.data)
              res.write((f.event !== undefined ? `event: ${f.event}\n` : '') + `data: ${data}\n\n`)
              if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs))
            }
            res.end()
          } finally {
            open--
          }
        },
      }
      Promise.resolve(handler(fr, responder)).catch((err: unknown) => {
        if (!res.headersSent) responder.json(599, { error: String(err) })
      })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    openStreams: () => open,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
