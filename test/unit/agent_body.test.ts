import { test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { readBody, type BodyResult } from '../../src/agent/body.js'

/**
 * readBody on a request whose client already left (as after a fault delay): the events that say
 * so were emitted before anyone listened, and the read must still settle.
 */
test('readBody settles (400, aborted) when the client left before the body was read', { timeout: 10_000 }, async () => {
  let result: Promise<BodyResult> | undefined
  let arrived = false
  const server = http.createServer((req) => {
    arrived = true
    req.once('close', () => {
      // Every 'aborted' / 'close' has fired by now, before anyone listened; only then is the body read.
      setImmediate(() => { result = readBody(req, 1024) })
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    const socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1')
    socket.on('error', () => {})
    socket.write('POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"par')
    while (!arrived) await new Promise((resolve) => setTimeout(resolve, 5))
    socket.destroy()
    while (result === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
    assert.deepEqual(await result, { ok: false, status: 400, reason: 'request aborted by the client' })
  } finally {
    await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections() })
  }
})

test('readBody settles when the connection drops mid-body', { timeout: 10_000 }, async () => {
  let result: Promise<BodyResult> | undefined
  let socket: net.Socket | undefined
  const server = http.createServer((req) => {
    result = readBody(req, 1024)
    socket?.destroy()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  try {
    socket = net.connect((server.address() as AddressInfo).port, '127.0.0.1')
    socket.on('error', () => {})
    socket.write('POST /x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"par')
    while (result === undefined) await new Promise((resolve) => setTimeout(resolve, 5))
    assert.deepEqual(await result, { ok: false, status: 400, reason: 'request aborted by the client' })
  } finally {
    await new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections() })
  }
})
