import { test } from 'node:test'
import assert from 'node:assert/strict'
import { epochNsString, epochNsecOf, epochSecOf, monotonicNs } from '../../src/model/clock.js'

// epochNsString skips BigInt on the LLM event path; BigInt arithmetic is the reference.
const reference = (sec: number, nsec: number): string => (BigInt(sec) * 1000000000n + BigInt(nsec)).toString()

test('epochNsString equals the BigInt product for every nanosecond width', () => {
  const cases: Array<[number, number]> = [[1796167549, 0], [1796167549, 1], [1796167549, 999999999], [1796167549, 1000], [1, 5], [2147483647, 123456789]]
  for (let i = 0; i < 2000; i++) cases.push([1700000000 + Math.floor(Math.random() * 2e8), Math.floor(Math.random() * 10 ** Math.floor(Math.random() * 10))])
  for (const [sec, nsec] of cases) assert.equal(epochNsString(sec, nsec), reference(sec, nsec), `${sec} ${nsec}`)
  const mono = monotonicNs()
  assert.equal(epochNsString(epochSecOf(mono), epochNsecOf(mono)), reference(epochSecOf(mono), epochNsecOf(mono)))
})

test('epochNsString falls back to exact arithmetic outside the fast path', () => {
  assert.equal(epochNsString(0, 5), '5')
  assert.equal(epochNsString(10, 1500000000), reference(10, 1500000000))
})
