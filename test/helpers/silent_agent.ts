import http from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * An agent that says it has an EVP proxy, accepts every payload and answers none of them until
 * the test says so: "the destination is up and never answers" without a delay racing a timer.
 */
export interface SilentAgent {
  url: string
  /** Payload requests received so far (their bodies read), answered or not. */
  received: number
  /** Resolves once at least `n` payload requests have been received. */
  receivedAtLeast (n: number): Promise<void>
  /** Answers 202 to every held request, and to every later one at once. */
  answerAll (): number
  /** Requests answered so far. */
  answered: number
  close (): Promise<void>
}

const INFO = JSON.stringify({ endpoints: ['/v0.4/traces', '/evp_proxy/v2/'], span_meta_structs: true })

export async function startSilentAgent (): Promise<SilentAgent> {
  const held: http.ServerResponse[] = []
  const waiters: Array<{ n: number, resolve: () => void }> = []
  let answering = false
  const state = { received: 0, answered: 0 }
  const answer = (res: http.ServerResponse): void => {
    state.answered++
    res.writeHead(202, { 'Content-Type': 'application/json' })
    res.end('{}')
  }
  const server = http.createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      if (req.url === '/info') {
        res.writeHead(200, { 'Content-Type': 'application/json' })
        res.end(INFO)
        return
      }
      state.received++
      for (const w of waiters.filter((x) => state.received >= x.n)) { waiters.splice(waiters.indexOf(w), 1); w.resolve() }
      if (answering) answer(res)
      else held.push(res)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    get received () { return state.received },
    get answered () { return state.answered },
    receivedAtLeast: (n) => state.received >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
    answerAll: () => {
      answering = true
      const n = held.length
      for (const res of held.splice(0)) answer(res)
      return n
    },
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    }),
  }
}
