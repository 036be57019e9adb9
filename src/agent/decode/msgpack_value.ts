import { type DecodeResult, describeDecodeFailure } from './decode_error.js'
import { type DecodeLimits, MsgpackReader } from './msgpack_reader.js'

/**
 * Generic msgpack → JS data, for documents whose shape is not fixed (meta_struct values).
 * Maps become plain objects and need str keys (every document our tracers write has them);
 * integers are numbers when safe and bigints beyond; bin stays bytes; ext is rejected.
 */
export type MsgpackValue = null | boolean | number | bigint | string | Uint8Array | MsgpackValue[] | { [key: string]: MsgpackValue }

/** Own data property even for "__proto__", so hostile keys cannot reach a prototype. */
export function setOwn<T> (obj: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true })
  else obj[key] = value
}

/** Reads one value of any type at nesting `depth` (0 for a top-level value). */
export function readValue (r: MsgpackReader, depth = 0): MsgpackValue {
  switch (r.peekKind()) {
    case 'nil': return r.readNil()
    case 'bool': return r.readBool()
    case 'int': return r.readInteger()
    case 'float': return r.readFloat()
    case 'str': return r.readString()
    case 'bin': return r.readBin()
    case 'array': {
      r.enter(depth)
      const n = r.readArrayHeader()
      // Grown by push, never preallocated from a declared length.
      const out: MsgpackValue[] = []
      for (let i = 0; i < n; i++) out.push(readValue(r, depth + 1))
      return out
    }
    case 'map': {
      r.enter(depth)
      const n = r.readMapHeader()
      const out: { [key: string]: MsgpackValue } = {}
      for (let i = 0; i < n; i++) {
        if (r.peekKind() !== 'str') r.fail(`map key must be str, got ${r.describeNext()}`)
        const key = r.readString()
        setOwn(out, key, readValue(r, depth + 1))
      }
      return out
    }
    case 'ext': return r.fail(`${r.describeNext()} is not supported`)
    default: return r.fail('reserved byte 0xc1')
  }
}

/** Decodes one whole msgpack document (nothing may follow it). Never throws. */
export function decodeMsgpack (bytes: Uint8Array, limits?: Partial<DecodeLimits>): DecodeResult<MsgpackValue> {
  try {
    const r = new MsgpackReader(bytes, limits)
    const value = readValue(r)
    r.expectEnd()
    return { ok: true, value }
  } catch (err) {
    return { ok: false, reason: describeDecodeFailure(err) }
  }
}
