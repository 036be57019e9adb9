/**
 * Method replacement with a marker, so patching twice (a second `register`, a second wrap of
 * the same client) is a no-op, and the original stays reachable.
 */
const ORIGINAL = Symbol.for('llmobs-ts.original')

type Fn = (...args: unknown[]) => unknown

/** The function a wrapper replaced, or undefined for a function we did not wrap. */
export function originalOf (fn: unknown): Fn | undefined {
  return typeof fn === 'function' ? (fn as { [ORIGINAL]?: Fn })[ORIGINAL] : undefined
}

/**
 * Replaces `target[name]` with `make(original)`. With `own`, only an own property counts as
 * already wrapped (an instance over a patched prototype still gets its own layer). Returns
 * whether the method is now wrapped.
 */
export function wrapMethod (target: object, name: string, make: (orig: Fn) => Fn, own = false): boolean {
  const t = target as Record<string, unknown>
  const current = t[name]
  if (typeof current !== 'function') return false
  const ownProp = Object.prototype.hasOwnProperty.call(t, name)
  if (originalOf(current) !== undefined && (!own || ownProp)) return true
  const orig = current as Fn
  const wrapped = make(orig)
  Object.defineProperty(wrapped, ORIGINAL, { value: orig })
  Object.defineProperty(wrapped, 'name', { value: orig.name, configurable: true })
  Object.defineProperty(wrapped, 'length', { value: orig.length, configurable: true })
  const desc = Object.getOwnPropertyDescriptor(t, name)
  Object.defineProperty(t, name, { value: wrapped, writable: true, configurable: true, enumerable: desc?.enumerable ?? false })
  return true
}
