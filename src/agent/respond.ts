import type { ServerResponse } from 'node:http'

/** Sends a JSON answer; a no-op when the response already went (e.g. the client left). */
export function sendJson (res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return
  const body = JSON.stringify(value)
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...headers })
  res.end(body)
}

/** `{"error": reason}`; `close` for refusals whose body was not (fully) read. */
export function sendError (res: ServerResponse, status: number, reason: string, close = false): void {
  sendJson(res, status, { error: reason }, close ? { Connection: 'close' } : {})
}

/** The media type of a Content-Type header, lowercased, without parameters. */
export function mediaType (header: string | undefined): string {
  if (header === undefined) return ''
  const semi = header.indexOf(';')
  return (semi >= 0 ? header.slice(0, semi) : header).trim().toLowerCase()
}

export function isJsonType (header: string | undefined): boolean {
  const t = mediaType(header)
  return t === 'application/json' || t === 'text/json' || t.endsWith('+json')
}

export function isMsgpackType (header: string | undefined): boolean {
  const t = mediaType(header)
  return t === 'application/msgpack' || t === 'application/x-msgpack' || t === 'application/vnd.msgpack'
}
