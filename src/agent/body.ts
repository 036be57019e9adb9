import type { IncomingMessage } from 'node:http'
import { gunzipSync, inflateSync } from 'node:zlib'

export type BodyResult = { ok: true, body: Buffer } | { ok: false, status: 400 | 413 | 415, reason: string }

/**
 * Reads a request body with a hard byte cap. A declared Content-Length over the cap is refused
 * before a byte is read; a chunked body is counted as it arrives and abandoned as soon as it
 * passes the cap, so memory never exceeds the cap whatever the client claims or sends. The caller
 * answers a refusal with `Connection: close` (the rest of the body is never read).
 * gzip/deflate bodies are inflated under the same cap.
 * Always settles: a client that went away before or while the body is read (say, during a
 * fault delay, before any listener was here to see 'aborted') is a 400, never a pending read.
 */
export function readBody (req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = req.headers['content-length']
  if (declared !== undefined) {
    const n = Number(declared)
    if (n > maxBytes) return Promise.resolve(tooLarge(maxBytes, `declared Content-Length ${declared}`))
  }
  const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase()
  if (encoding !== 'identity' && encoding !== 'gzip' && encoding !== 'deflate') {
    return Promise.resolve({ ok: false, status: 415, reason: `unsupported Content-Encoding "${encoding}" (identity, gzip or deflate)` })
  }
  if (req.destroyed || req.readableAborted) return Promise.resolve(aborted())
  return new Promise((resolve) => {
    const parts: Buffer[] = []
    let size = 0
    let done = false
    const finish = (result: BodyResult): void => {
      if (done) return
      done = true
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      req.off('aborted', onAborted)
      if (!result.ok) req.pause()
      resolve(result)
    }
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size > maxBytes) {
        parts.length = 0
        finish(tooLarge(maxBytes, 'body'))
        return
      }
      parts.push(chunk)
    }
    const onEnd = (): void => {
      const raw = parts.length === 1 ? parts[0] : Buffer.concat(parts, size)
      parts.length = 0
      finish(encoding === 'identity' ? { ok: true, body: raw } : inflate(raw, encoding, maxBytes))
    }
    const onError = (err: Error): void => finish({ ok: false, status: 400, reason: `request body could not be read: ${err.message}` })
    const onAborted = (): void => finish(aborted())
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
    req.on('aborted', onAborted)
  })
}

function inflate (raw: Buffer, encoding: string, maxBytes: number): BodyResult {
  try {
    const opts = { maxOutputLength: maxBytes }
    return { ok: true, body: encoding === 'gzip' ? gunzipSync(raw, opts) : inflateSync(raw, opts) }
  } catch (err) {
    if (err instanceof RangeError) return tooLarge(maxBytes, `${encoding}-decoded body`)
    return { ok: false, status: 400, reason: `invalid ${encoding} body: ${err instanceof Error ? err.message : String(err)}` }
  }
}

function aborted (): BodyResult {
  return { ok: false, status: 400, reason: 'request aborted by the client' }
}

function tooLarge (maxBytes: number, what: string): BodyResult {
  return { ok: false, status: 413, reason: `${what} exceeds the limit of ${maxBytes} bytes` }
}
