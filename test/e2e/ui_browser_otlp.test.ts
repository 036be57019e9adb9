import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { encodeTracesRequest } from '../../src/encode/otlp/index.js'
import { launchChromium, type BrowserSession } from '../helpers/browser.js'
import { CHAT_ATTRS, otlpRequest, otlpSpan } from '../helpers/otlp_values.js'

// The web UI on spans that came through the OTLP intake: the delivery path, the mapping warnings
// beside the span and the APM spans it was called from — all wire data, all shown as text.

const HOSTILE = '<img src=x onerror="window.__xss=1">'
const TRACE = 'c0ffee00c0ffee00c0ffee00c0ffee00'
let agent: LocalAgent
let browser: BrowserSession | undefined

before(async () => {
  agent = await startAgent({ port: 0, otlpPort: 0, db: ':memory:' })
  const server = otlpSpan(TRACE, { name: 'GET', kind: 2, attrs: { 'http.request.method': 'GET', 'http.route': `/chat/${HOSTILE}` } })
  const chat = otlpSpan(TRACE, {
    name: 'chat broken',
    kind: 3,
    parentSpanId: server.spanId,
    attrs: { ...CHAT_ATTRS, 'gen_ai.operation.name': undefined as any, 'gen_ai.input.messages': 'not json' },
  })
  chat.attributes = chat.attributes.filter((a) => a.value !== undefined)
  const res = await fetch(`${agent.otlpUrl as string}/v1/traces`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-protobuf' },
    body: encodeTracesRequest(otlpRequest([server, chat], { 'service.name': 'otlp-ui' }), 'protobuf'),
  })
  assert.equal(res.status, 200)
  browser = await launchChromium()
})

after(async () => {
  await browser?.close()
  await agent?.close()
})

test('an OTLP span shows its delivery path, its mapping warnings and where it was called from, as text', async () => {
  assert.ok(browser !== undefined)
  const { page } = browser
  await page.goto(`${agent.url}/#/trace/${TRACE}`)
  await page.locator('.span-row').first().waitFor()
  const detail = page.locator('section.detail')
  await detail.locator('h2:has-text("chat broken")').waitFor()
  assert.equal(await detail.locator('[data-delivery]').textContent(), 'OTLP')
  const warnings = await detail.locator('.warnings-box li').allTextContents()
  assert.ok(warnings.includes('otel_warning_input_malformed'), warnings.join(', '))
  assert.ok(warnings.includes('otel_warning_operation_missing'), warnings.join(', '))
  const called = await detail.locator('.apm-path li').allTextContents()
  assert.equal(called.length, 1)
  assert.match(called[0], /^http\.server\.request GET \/chat\/<img src=x onerror="window\.__xss=1">/)
  const dom = await page.evaluate(() => {
    const g = globalThis as unknown as { __xss?: unknown, document: { querySelectorAll: (s: string) => { length: number } } }
    return { xss: g.__xss, imgs: g.document.querySelectorAll('img').length }
  })
  assert.deepEqual(dom, { xss: undefined, imgs: 0 })
  assert.deepEqual(browser.problems, [])
})
