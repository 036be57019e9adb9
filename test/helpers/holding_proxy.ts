import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * An HTTP hop in front of the local agent that can hold a request until the test releases it:
 * "a payload of another trace is still in flight" without racing a delay against a timer.
 * Everything else is passed on unchanged.
 */
export interface HoldingProxy {
  url: string
  /** Holds the next request whose path starts with `prefix` (not passed on until released). */
  holdNext (prefix: string): Hold
  /** Requests received so far whose path starts with `prefix`. */
  received (prefix: string): number
  close (): Promise<void>
}

export interface Hold {
  /** Resolves when the held request has arrived (its body read). */
  arrived: Promise<void>
  /** Passes it on to the agent; its answer goes back to the client. */
  release (): void
}

const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host'])

function endToEnd (headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {}
  for (const [k, v] of Object.entries(headers)) if (!HOP.has(k) && v !== undefined) out[k] = v
  return out
}

export async function startHoldingProxy (target: string): Promise<HoldingProxy> {
  const armed: Array<{ prefix: string, arrive: () => void, gate: Promise<void> }> = []
  const upstream = new http.Agent({ keepAlive: true })
  const paths: string[] = []
  const server = http.createServer((req, res) => {
    paths.push(req.url ?? '/')
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('end', () => {
      const path = req.url ?? '/'
      const i = armed.findIndex((a) => path.startsWith(a.prefix))
      const hold = i >= 0 ? armed.splice(i, 1)[0] : undefined
      const body = Buffer.concat(parts)
      const pass = (): void => {
        const out = http.request(target + path, { method: req.method, headers: { ...endToEnd(req.headers), 'content-length': body.length }, agent: upstream }, (answer) => {
          const reply: Buffer[] = []
          answer.on('data', (c: Buffer) => reply.push(c))
          answer.on('end', () => {
            res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers))
            res.end(Buffer.concat(reply))
          })
        })
        out.on('error', () => res.destroy())
        out.end(body)
      }
      if (hold === undefined) { pass(); return }
      hold.arrive()
      void hold.gate.then(pass)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    holdNext: (prefix) => {
      let arrive!: () => void
      let release!: () => void
      const arrived = new Promise<void>((resolve) => { arrive = resolve })
      const gate = new Promise<void>((resolve) => { release = resolve })
      armed.push({ prefix, arrive, gate })
      return { arrived, release }
    },
    received: (prefix) => paths.filter((p) => p.startsWith(prefix)).length,
    close: () => new Promise<void>((resolve) => {
      armed.length = 0
      server.closeAllConnections()
      upstream.destroy()
      server.close(() => resolve())
    }),
  }
}
