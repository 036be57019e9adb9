/**
 * Ids and bytes at the wire. Our values hold ids as lowercase hex; protobuf carries raw bytes and
 * OTLP/JSON hex text (any case). protobufjs would read a JSON hex id as base64 (24 wrong bytes
 * for a trace id), so the codec never lets it see one: every id goes through here.
 */

const HEX = /^[0-9a-fA-F]*$/

/** Raw bytes of a hex id, or undefined when `hex` is not `bytes` bytes of hex. */
export function hexToBytes (hex: string, bytes: number): Uint8Array | undefined {
  if (hex.length !== bytes * 2 || !HEX.test(hex)) return undefined
  return Buffer.from(hex, 'hex')
}

export function bytesToHex (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

/** Lowercase hex of an id read from JSON, or undefined when it is not hex of that length. */
export function normaliseHexId (hex: string, bytes: number): string | undefined {
  if (hex.length !== bytes * 2 || !HEX.test(hex)) return undefined
  return hex.toLowerCase()
}

// Standard or URL-safe alphabet, padded or not (the proto3 JSON mapping accepts all four).
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/

/** Bytes of a base64 text, or undefined when it is not base64 (Buffer alone would skip junk). */
export function base64ToBytes (text: string): Uint8Array | undefined {
  if (!BASE64.test(text)) return undefined
  const body = text.replace(/=+$/, '')
  if (body.length % 4 === 1) return undefined
  if (text.length !== body.length && text.length % 4 !== 0) return undefined
  return new Uint8Array(Buffer.from(body, 'base64'))
}

export function bytesToBase64 (b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64')
}
