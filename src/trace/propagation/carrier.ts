import { describeError, log } from '../../diag/logger.js'

/**
 * Header access over whatever users and integrations hand us as a carrier:
 * - Node's `IncomingHttpHeaders` (lowercase keys, `string | string[] | undefined` values),
 * - plain objects with keys in any case (`{ 'X-Datadog-Trace-Id': '1' }`),
 * - fetch `Headers` and other objects with `get`/`set` (a `Map` works too),
 * - Node's `OutgoingMessage` (`getHeader`/`setHeader`).
 *
 * Carriers are user data: getters and Proxy traps may throw, objects may be frozen. Every access
 * is guarded; a failure warns once and reads as "absent" / writes nothing.
 *
 * Header names passed in here are always lowercase.
 */

interface GetSet {
  get: (name: string) => unknown
  set: (name: string, value: string) => unknown
}

interface OutgoingLike {
  getHeader: (name: string) => unknown
  setHeader: (name: string, value: string) => unknown
}

type Kind = 'getset' | 'outgoing' | 'record'

function kindOf (carrier: object): Kind {
  const c = carrier as Partial<GetSet & OutgoingLike>
  if (typeof c.get === 'function' && typeof c.set === 'function') return 'getset'
  if (typeof c.getHeader === 'function' && typeof c.setHeader === 'function') return 'outgoing'
  return 'record'
}

function isObject (carrier: unknown): carrier is object {
  return (typeof carrier === 'object' && carrier !== null) || typeof carrier === 'function'
}

/** Finds the key matching `name` case-insensitively; exact (lowercase) key first, the common case. */
function findKey (record: Record<string, unknown>, name: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(record, name)) return name
  for (const key of Object.keys(record)) {
    if (key.length === name.length && key.toLowerCase() === name) return key
  }
  return undefined
}

function rawValue (carrier: unknown, name: string): unknown {
  if (!isObject(carrier)) {
    if (carrier !== undefined && carrier !== null) {
      log.warnOnce('propagation:carrier-type', `cannot extract trace context from a carrier of type ${typeof carrier}`)
    }
    return undefined
  }
  try {
    switch (kindOf(carrier)) {
      case 'getset': {
        const v = (carrier as GetSet).get(name)
        return v === null ? undefined : v
      }
      case 'outgoing':
        return (carrier as OutgoingLike).getHeader(name)
      default: {
        const record = carrier as Record<string, unknown>
        const key = findKey(record, name)
        return key === undefined ? undefined : record[key]
      }
    }
  } catch (err) {
    log.warnOnce('propagation:carrier-read', `cannot read header ${name} from the carrier: ${describeError(err)}`)
    return undefined
  }
}

/**
 * Single-valued header. For a repeated header (array), the last string wins, as in dd-trace-js:
 * proxies append, so the last value is the one closest to us.
 */
export function readHeader (carrier: unknown, name: string): string | undefined {
  const v = rawValue(carrier, name)
  if (typeof v === 'string') return v
  if (!Array.isArray(v)) return undefined
  for (let i = v.length - 1; i >= 0; i--) {
    if (typeof v[i] === 'string') return v[i] as string
  }
  return undefined
}

/**
 * List-valued header (`tracestate`, `x-datadog-tags`): repeated fields are combined with `,` as
 * RFC 7230 §3.2.2 prescribes. Non-string members are skipped.
 */
export function readHeaderList (carrier: unknown, name: string): string | undefined {
  const v = rawValue(carrier, name)
  if (typeof v === 'string') return v
  if (!Array.isArray(v)) return undefined
  let out: string | undefined
  for (const item of v) {
    if (typeof item !== 'string') continue
    out = out === undefined ? item : out + ',' + item
  }
  return out
}

/**
 * Header that must appear once (`traceparent`): a repeated field is ambiguous, so it reads as
 * absent (W3C Trace Context: multiple traceparent fields make the request's context invalid).
 */
export function readHeaderUnique (carrier: unknown, name: string): string | undefined {
  const v = rawValue(carrier, name)
  if (typeof v === 'string') return v
  if (Array.isArray(v) && v.length === 1 && typeof v[0] === 'string') return v[0]
  return undefined
}

/**
 * Whether inject can write to this carrier at all. Checked once per inject so a frozen or
 * non-object carrier costs one warning, not one per header.
 */
export function isWritableCarrier (carrier: unknown): carrier is object {
  if (!isObject(carrier)) {
    log.warnOnce('propagation:inject-carrier-type', `cannot inject trace context into a carrier of type ${carrier === null ? 'null' : typeof carrier}`)
    return false
  }
  try {
    if (kindOf(carrier) === 'record' && Object.isFrozen(carrier)) {
      log.warnOnce('propagation:inject-carrier-frozen', 'cannot inject trace context into a frozen carrier')
      return false
    }
  } catch {
    // A Proxy trap threw; let writeHeader try and report.
  }
  return true
}

/**
 * Sets one header; returns whether it was written. For records, an existing key in another case
 * is overwritten in place so the request does not carry the header twice.
 */
export function writeHeader (carrier: unknown, name: string, value: string): boolean {
  if (!isObject(carrier)) return false
  try {
    switch (kindOf(carrier)) {
      case 'getset':
        (carrier as GetSet).set(name, value)
        return true
      case 'outgoing':
        (carrier as OutgoingLike).setHeader(name, value)
        return true
      default: {
        const record = carrier as Record<string, unknown>
        record[findKey(record, name) ?? name] = value
        return true
      }
    }
  } catch (err) {
    log.warnOnce('propagation:carrier-write', `cannot write header ${name} to the carrier: ${describeError(err)}`)
    return false
  }
}
