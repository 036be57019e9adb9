import { test } from 'node:test'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { createIdSource, decimalToHex, hexToDecimal } from '../../src/model/ids.js'

// hexToDecimal avoids BigInt on the LLM span's start path; BigInt is the reference it must match.
const reference = (hex: string): string => BigInt('0x' + hex).toString(10)

test('hexToDecimal matches BigInt on random 64-bit ids and on every boundary', () => {
  const ids = ['0000000000000001', 'ffffffffffffffff', '0000000100000000', '00000000ffffffff', '8000000000000000',
    '00000000000f4240', '0000000a00000000', '1', 'f', 'ff', 'abcdef', '12345678', '123456789', 'FFFFFFFFFFFFFFFF', 'DeadBeef00C0ffee']
  for (let i = 0; i < 5000; i++) ids.push(randomBytes(8).toString('hex'))
  // Values whose remainder below 10^6 has leading zeros (the padding path).
  for (let hi = 1; hi < 50; hi++) {
    const v = BigInt(hi) * (1n << 32n)
    const lo = Number((1000000n - (v % 1000000n)) % 1000000n) + (hi % 7)
    ids.push((v + BigInt(lo)).toString(16).padStart(16, '0'))
  }
  for (const id of ids) assert.equal(hexToDecimal(id), reference(id), id)
})

test('hexToDecimal round-trips with decimalToHex', () => {
  const next = createIdSource()
  for (let i = 0; i < 1000; i++) {
    const id = next()
    assert.equal(decimalToHex(hexToDecimal(id)), id)
  }
})

test('hexToDecimal of a 128-bit id (longer than 16 digits) still gives its exact value', () => {
  const id = '00000000000000010000000000000000'
  assert.equal(hexToDecimal(id), reference(id))
})
