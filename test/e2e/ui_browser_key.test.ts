import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser } from 'playwright-core'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { counters, postEvp, spanEvent } from '../helpers/agent_client.js'
import { CHROMIUM_FLAGS, CHROMIUM_PATH, launchChromium, type BrowserSession } from '../helpers/browser.js'

// The local agent's HTTP defences, seen from a real browser: the UI with an API key, a page of
// another origin trying to change state, and a DNS-rebinding origin trying to read.

const KEY = 'ui-key-5c1e9'

let keyed: LocalAgent
let open: LocalAgent
let browser: BrowserSession | undefined

before(async () => {
  keyed = await startAgent({ port: 0, db: ':memory:', apiKey: KEY })
  open = await startAgent({ port: 0, db: ':memory:' })
  for (const agent of [keyed, open]) {
    assert.equal((await postEvp(agent.url, [spanEvent('a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6', '1', { name: 'keyed-root', tags: ['ml_app:ui-key'] })])).status, 202)
  }
  browser = await launchChromium()
})

after(async () => {
  await browser?.close()
  await keyed?.close()
  await open?.close()
})

function session (): BrowserSession {
  assert.ok(browser !== undefined, 'chromium was not launched')
  return browser
}

test('UI with an API key: /#key= is taken, wiped from the address bar, kept in the tab, sent as DD-API-KEY; never in a URL', async () => {
  const page = await session().context.newPage()
  const urls: string[] = []
  const apiKeys: Array<string | undefined> = []
  page.on('request', (r) => {
    urls.push(r.url())
    if (new URL(r.url()).pathname.startsWith('/api/')) apiKeys.push(r.headers()['dd-api-key'])
  })
  try {
    await page.goto(`${keyed.url}/#key=${encodeURIComponent(KEY)}`)
    await page.locator('tr.trace-row').filter({ hasText: 'keyed-root' }).waitFor()
    assert.equal(new URL(page.url()).hash, '#/traces', 'the key left the address bar')
    await page.goto(`${keyed.url}/#/delivery`)
    await page.locator('tr[data-counter="payloads_received"]').waitFor()
    assert.ok(apiKeys.length >= 2)
    assert.ok(apiKeys.every((k) => k === KEY), 'every API call carried the key')
    // Only the first navigation had the key, in its fragment, which is never sent.
    assert.deepEqual(urls.filter((u) => u.includes(KEY)), [])
    assert.equal(await page.locator('.key-prompt').count(), 0)
  } finally {
    await page.close()
  }
})

test('UI with an API key and none given: it asks, says when the key is wrong, and shows the data with the right one', async () => {
  const page = await session().context.newPage() // a new tab: its own sessionStorage, no key
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`) })
  try {
    await page.goto(`${keyed.url}/#/traces`)
    const prompt = page.locator('.key-prompt')
    await prompt.waitFor()
    assert.match(await prompt.textContent() ?? '', /protected by an API key/)
    await page.fill('input[name="api-key"]', 'not-the-key')
    await page.click('.key-prompt button')
    await page.locator('.key-prompt', { hasText: 'refused this API key' }).waitFor()
    await page.fill('input[name="api-key"]', KEY)
    await page.keyboard.press('Enter')
    await page.locator('tr.trace-row').filter({ hasText: 'keyed-root' }).waitFor()
    // The refused fetches log their 401s as failed loads; nothing else may go wrong (CSP included).
    assert.deepEqual(problems.filter((p) => !/status of 401/.test(p)), [])
    assert.ok(problems.length > 0, 'the 401s were seen, so the filter means something')
  } finally {
    await page.close()
  }
})

test('a page of another origin cannot reset the agent or set faults: its CORS-simple POSTs are refused, the rest die in preflight', async () => {
  const attacker = http.createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' })
    res.end('<!doctype html><title>elsewhere</title>')
  })
  await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve))
  const page = await session().context.newPage()
  try {
    const was = await counters(open.url)
    // localhost vs 127.0.0.1 and another port: a different origin, the same machine.
    await page.goto(`http://localhost:${(attacker.address() as AddressInfo).port}/`)
    const outcome = await page.evaluate(async (target) => {
      const sent: string[] = []
      const attempts: Array<[string, RequestInit]> = [
        ['/api/reset', { method: 'POST', mode: 'no-cors', body: '{}' }],
        ['/api/reset', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: '{}' }],
        ['/api/faults', { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify({ path: '/info', status: 500 }) }],
        ['/api/reset', { method: 'POST', mode: 'cors', headers: { 'Content-Type': 'application/json' }, body: '{}' }],
        ['/api/faults', { method: 'DELETE', mode: 'cors' }],
      ]
      for (const [path, init] of attempts) {
        try { await fetch(target + path, init); sent.push('sent') } catch { sent.push('blocked') }
      }
      return sent
    }, open.url)
    // The simple ones reach the agent (the browser only hides the answer); the others die in preflight.
    assert.deepEqual(outcome, ['sent', 'sent', 'sent', 'blocked', 'blocked'])
    const now = await counters(open.url)
    // The three that arrived were refused; so were the two preflights (OPTIONS: 405, no CORS headers).
    assert.equal(now.requests_rejected, was.requests_rejected + 5)
    assert.equal(open.store.queries.countSpans(), 1, 'not reset')
    assert.equal((await fetch(`${open.url}/info`)).status, 200, 'no fault set')
  } finally {
    await page.close()
    // Chromium keeps (and preconnects) sockets; close them or close() waits for their timeouts.
    await new Promise<void>((resolve) => { attacker.close(() => resolve()); attacker.closeAllConnections() })
  }
})

test('a DNS-rebinding origin (evil.example resolving to 127.0.0.1) reads nothing: the agent refuses its Host', async () => {
  // A browser of its own, whose resolver maps evil.example to loopback as a rebinding attack would.
  let rebinding: Browser | undefined
  try {
    rebinding = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: [...CHROMIUM_FLAGS, '--host-resolver-rules=MAP evil.example 127.0.0.1'] })
    const page = await rebinding.newPage()
    const home = await page.goto(`http://evil.example:${open.port}/`)
    assert.equal(home?.status(), 403)
    const read = await page.evaluate(async () => {
      const r = await fetch('/api/spans')
      return { status: r.status, body: await r.text() }
    })
    assert.equal(read.status, 403)
    assert.match(read.body, /DNS rebinding/)
    assert.doesNotMatch(read.body, /keyed-root/)
    // The same browser, the same agent, by its real name: served.
    assert.equal((await page.goto(`${open.url}/`))?.status(), 200)
  } finally {
    await rebinding?.close()
  }
})
