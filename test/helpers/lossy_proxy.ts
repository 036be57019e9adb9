import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * An HTTP hop between the SDK and the local agent that can lose answers: the request is passed
 * on and served by the agent (so it is stored), but the answer never reaches the client, which
 * times out and sends it again. That is the one case where the intake's de-duplication, not the
 * SDK, keeps an event stored once (DESIGN §4). The agent's own delay fault cannot make it: it
 * holds a request before its body is read, so a client that gives up leaves nothing stored.
 */
export interface LossyProxy {
  url: string
  /** Loses the answer to the next request whose path starts with `prefix`. */
  loseNextAnswer (prefix: string): void
  /** Answers the agent gave that the proxy kept from the client. */
  readonly lost: number
  close (): Promise<void>
}

/** Hop-by-hop headers: they describe one connection, not the message. */
const HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'host'])

function endToEnd (headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {}
  for (const [k, v] of Object.entries(headers)) if (!HOP.has(k) && v !== undefined) out[k] = v
  return out
}

export async function startLossyProxy (target: string): Promise<LossyProxy> {
  const armed: string[] = []
  let lost = 0
  const upstream = new http.Agent({ keepAlive: false })
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = []
    req.on('data', (c: Buffer) => parts.push(c))
    req.on('end', () => {
      const path = req.url ?? '/'
      const i = armed.findIndex((p) => path.startsWith(p))
      const lose = i >= 0
      if (lose) armed.splice(i, 1)
      const body = Buffer.concat(parts)
      const out = http.request(target + path, { method: req.method, headers: { ...endToEnd(req.headers), 'content-length': body.length }, agent: upstream }, (answer) => {
        const reply: Buffer[] = []
        answer.on('data', (c: Buffer) => reply.push(c))
        answer.on('end', () => {
          // Served and stored by the agent; the client hears nothing and gives up on its own.
          if (lose) { lost++; return }
          res.writeHead(answer.statusCode ?? 502, endToEnd(answer.headers))
          res.end(Buffer.concat(reply))
        })
      })
      // The agent is unreachable: the client sees a broken connection, as it would without us.
      out.on('error', () => res.destroy())
      out.end(body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    loseNextAnswer: (prefix) => { armed.push(prefix) },
    get lost () { return lost },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      upstream.destroy()
      server.close(() => resolve())
    }),
  }
}
