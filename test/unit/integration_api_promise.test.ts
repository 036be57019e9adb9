import { test } from 'node:test'
import assert from 'node:assert/strict'
import { APIPromise } from 'openai'
import type OpenAI from 'openai'
import { observeApiPromise } from '../../src/integrations/api_promise.js'

// The real SDK class, fed a response promise directly: what the caller can do with it must not change.
type Props = { response: Response, options: Record<string, unknown>, controller: AbortController, requestLogID: string, retryOfRequestLogID: undefined, startTime: number }
const props = (body: string): Props => ({ response: new Response(body, { headers: { 'x-request-id': 'req_1' } }), options: {}, controller: new AbortController(), requestLogID: 'log', retryOfRequestLogID: undefined, startTime: Date.now() })
const client = {} as unknown as OpenAI

function make (p: Promise<Props>): APIPromise<{ a: number }> {
  return new APIPromise<{ a: number }>(client, p as any, async (_c, pr) => (await pr.response.json()) as { a: number })
}

function observer (): { data: unknown[], errors: unknown[], raw: number, obs: Parameters<typeof observeApiPromise>[1] } {
  const o = { data: [] as unknown[], errors: [] as unknown[], raw: 0, obs: undefined as unknown as Parameters<typeof observeApiPromise>[1] }
  o.obs = { data: (v) => { o.data.push(v); return v }, error: (e) => { o.errors.push(e) }, rawOnly: () => { o.raw++ } }
  return o
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r))

test('await: the parsed value is seen once and reaches the caller; same object, same class', async () => {
  const o = observer()
  const p = make(Promise.resolve(props('{"a":1}')))
  assert.equal(observeApiPromise(p, o.obs), true)
  assert.ok(p instanceof APIPromise)
  const v = await p
  assert.deepEqual(v, { a: 1 })
  await p
  assert.equal(o.data.length, 1)
  assert.equal(o.data[0], v)
  assert.equal(o.raw, 0)
})

test('withResponse(): data and the Response both work; not mistaken for a raw-only use', async () => {
  const o = observer()
  const p = make(Promise.resolve(props('{"a":2}')))
  observeApiPromise(p, o.obs)
  const { data, response, request_id: id } = await p.withResponse()
  assert.deepEqual(data, { a: 2 })
  assert.equal(response.headers.get('x-request-id'), 'req_1')
  assert.equal(id, 'req_1')
  await tick()
  assert.equal(o.raw, 0)
  assert.equal(o.data.length, 1)
})

test('asResponse() only: the body stays unread for the caller, rawOnly fires once', async () => {
  const o = observer()
  const p = make(Promise.resolve(props('{"a":3}')))
  observeApiPromise(p, o.obs)
  const res = await p.asResponse()
  assert.deepEqual(await res.json(), { a: 3 })
  await tick()
  assert.equal(o.raw, 1)
  assert.equal(o.data.length, 0)
})

test('a failed request: the caller gets the very same error, the observer sees it', async () => {
  const o = observer()
  class RateLimitError extends Error {}
  const boom = new RateLimitError('429')
  const p = make(Promise.reject(boom))
  observeApiPromise(p, o.obs)
  assert.equal(await p.then(() => undefined, (e: unknown) => e), boom)
  assert.ok(o.errors.includes(boom))
})

test('_thenUnwrap derivatives (parse helpers) are observed too', async () => {
  const o = observer()
  const p = make(Promise.resolve(props('{"a":4}')))
  observeApiPromise(p, o.obs)
  const d = p._thenUnwrap((v) => ({ b: v.a * 2 }))
  assert.deepEqual(await d, { b: 8 })
  assert.deepEqual(o.data, [{ a: 4 }])
})

test('anything else is left alone', () => {
  assert.equal(observeApiPromise(Promise.resolve(1), observer().obs), false)
  assert.equal(observeApiPromise(null, observer().obs), false)
})
