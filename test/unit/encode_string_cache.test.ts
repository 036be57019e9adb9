import { test } from 'node:test'
import assert from 'node:assert/strict'
import { EncodedStringCache } from '../../src/encode/string_cache.js'

const WINDOW = 4096

function remember (cache: EncodedStringCache, s: string): void {
  const bytes = Buffer.from(`##${s}`)
  cache.add(s, bytes, 2, bytes.length)
}

test('hits return the remembered bytes, copied out of the caller buffer', () => {
  const cache = new EncodedStringCache()
  const src = Buffer.from('xxabcdef')
  cache.add('k', src, 2, 8)
  src.fill(0)
  assert.equal(Buffer.from(cache.get('k') as Uint8Array).toString(), 'abcdef')
  assert.equal(cache.get('missing'), undefined)
})

test('a window of mostly misses pauses the cache and empties it', () => {
  const cache = new EncodedStringCache()
  remember(cache, 'repeated-value-000')
  for (let i = 0; i < WINDOW; i++) {
    assert.equal(cache.active(), true)
    const s = i % 2 === 0 ? 'repeated-value-000' : `unique-value-${i}`
    if (cache.get(s) === undefined) remember(cache, s)
  }
  assert.equal(cache.active(), false, 'a 50% hit rate is not worth the insertions')
  assert.equal(cache.get('repeated-value-000'), undefined, 'emptied')
})

test('a window of mostly hits keeps the cache on', () => {
  const cache = new EncodedStringCache()
  for (let i = 0; i < 10; i++) remember(cache, `value-number-${i}`)
  for (let i = 0; i < WINDOW * 3; i++) {
    assert.equal(cache.active(), true)
    const s = i % 20 === 0 ? `rare-${i}` : `value-number-${i % 10}`
    if (cache.get(s) === undefined) remember(cache, s)
  }
  assert.ok(cache.get('value-number-3') !== undefined)
})

test('entries are bounded: a full cache starts over instead of growing', () => {
  const cache = new EncodedStringCache()
  for (let i = 0; i < 5000; i++) remember(cache, `k-${i}`)
  assert.equal(cache.get('k-0'), undefined, 'the first entries went when the cache filled')
  assert.equal(Buffer.from(cache.get('k-4999') as Uint8Array).toString(), 'k-4999')
})
