import { test } from 'node:test'
import assert from 'node:assert/strict'
import { DESCRIBE_ERROR_MAX, DESCRIBE_MAX, describeError, describeValue, log } from '../../src/diag/logger.js'

/** Warnings show user values through describeValue/describeError: never throwing, always short. */
const MB = 1024 * 1024
const trapAll = new Proxy({}, new Proxy({}, { get: () => () => { throw new Error('trap') } }))
const trapAllFn = new Proxy(function target () {}, new Proxy({}, { get: () => () => { throw new Error('trap') } }))
const circular: Record<string, unknown> = { a: 1 }
circular.self = circular
const throwsOnConvert = {
  toString () { throw new Error('toString') },
  valueOf () { throw new Error('valueOf') },
  [Symbol.toPrimitive] () { throw new Error('toPrimitive') },
  toJSON () { throw new Error('toJSON') },
  get boom () { throw new Error('getter') },
}
const wide = Object.fromEntries(Array.from({ length: 1000 }, (_, i) => [`key${i}`, 'v'.repeat(100)]))

const HOSTILE: Array<[string, unknown]> = [
  ['a 3 MB string', 'k'.repeat(3 * MB)],
  ['a Proxy that throws on every trap', trapAll],
  ['a function Proxy that throws on every trap', trapAllFn],
  ['a circular object', circular],
  ['throwing toString / toPrimitive / toJSON / getter', throwsOnConvert],
  ['a huge BigInt', 10n ** 5000n],
  ['a symbol with a 1 MB description', Symbol('s'.repeat(MB))],
  ['a wide object', wide],
  ['an object with a custom inspect that throws', { [Symbol.for('nodejs.util.inspect.custom')]: () => { throw new Error('inspect') } }],
  ['a null-prototype object', Object.create(null)],
  ['a string with a surrogate pair at the cut', 'x'.repeat(DESCRIBE_MAX - 2) + '😀'.repeat(10)],
]

test('describeValue never throws, runs no user code and stays within its bound', () => {
  for (const [name, v] of HOSTILE) {
    let out = ''
    assert.doesNotThrow(() => { out = describeValue(v) }, name)
    assert.ok(out.length > 0 && out.length <= DESCRIBE_MAX + 1, `${name}: ${out.length} characters`)
    assert.doesNotThrow(() => encodeURIComponent(out), `${name}: well-formed UTF-16`)
  }
})

test('describeValue runs no user code: no getters, toString, toJSON, custom inspect or Proxy traps', () => {
  let ran = 0
  const spy = {
    get g () { ran++; return 1 },
    toString () { ran++; return 's' },
    toJSON () { ran++; return 'j' },
    [Symbol.toPrimitive] () { ran++; return 'p' },
    [Symbol.for('nodejs.util.inspect.custom')] () { ran++; return 'c' },
  }
  const proxy = new Proxy({ inner: 1 }, { get: () => { ran++ }, ownKeys: () => { ran++; return [] }, getPrototypeOf: () => { ran++; return null } })
  describeValue(spy)
  describeValue(proxy)
  describeValue([spy, proxy])
  assert.equal(ran, 0)
})

test('describeValue shows small values recognisably', () => {
  assert.equal(describeValue('chatbot'), '"chatbot"')
  assert.equal(describeValue('a\nb'), '"a\\nb"')
  assert.equal(describeValue(5n), '5n')
  assert.equal(describeValue(undefined), 'undefined')
  assert.equal(describeValue(null), 'null')
  assert.equal(describeValue(Symbol('x')), 'Symbol(x)')
  assert.equal(describeValue({ kind: 'llm' }), "{ kind: 'llm' }")
  assert.equal(describeValue('k'.repeat(100)), '"' + 'k'.repeat(DESCRIBE_MAX - 1) + '…')
  assert.equal(describeValue('k'.repeat(100), 10), '"kkkkkkkkk…')
})

test('describeError: bounded, and safe for throwing message getters and thrown Proxies', () => {
  const big = new Error('m'.repeat(3 * MB))
  const getterThrows = new Error('x')
  Object.defineProperty(getterThrows, 'message', { get () { throw new Error('no') } })
  class Weird extends Error { override get name (): string { throw new Error('no name') } }
  for (const err of [big, getterThrows, new Weird('w'), trapAll, trapAllFn, throwsOnConvert, 'plain'.repeat(MB), undefined]) {
    let out = ''
    assert.doesNotThrow(() => { out = describeError(err) })
    assert.ok(out.length <= DESCRIBE_ERROR_MAX + 1, `${out.length} characters`)
  }
  assert.equal(describeError(new TypeError('bad thing')), 'TypeError: bad thing')
  assert.match(describeError(getterThrows), /^Error: \[unreadable message\]$/)
  assert.equal(describeError(big).length, DESCRIBE_ERROR_MAX + 1)
})

test('internal errors with a 3 MB message give a short warning', () => {
  const lines: string[] = []
  log.resetWarnings()
  log.configure({ sink: (_level, m) => lines.push(m) })
  try {
    log.internalError('test.where', new Error('e'.repeat(3 * MB)))
    log.warnOnce('test.lazy', () => { throw new Error('builder bug') })
  } finally {
    log.configure({ sink: () => {} })
    log.resetWarnings()
  }
  assert.equal(lines.length, 2)
  for (const l of lines) assert.ok(l.length < 400, `${l.length} characters`)
})

test('warnOnce builds a lazy message only the first time', () => {
  let built = 0
  log.resetWarnings()
  log.configure({ sink: () => {} })
  for (let i = 0; i < 5; i++) log.warnOnce('test.count', () => { built++; return 'x' })
  log.resetWarnings()
  assert.equal(built, 1)
})
