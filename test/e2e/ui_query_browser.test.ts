import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { startAgent, type LocalAgent } from '../../src/agent/start_agent.js'
import { getJson, postEvp, request, spanEvent } from '../helpers/agent_client.js'
import { launchChromium, uiOrigin, type BrowserSession, type UiOrigin } from '../helpers/browser.js'
import { UI_MODULES } from '../../src/agent/ui/serve_ui.js'

// The UI over the query API v2 in a real browser: 1,300+ traces for pagination and sorting,
// full-text search, cost, evaluations, sessions, the summary, URL state, live updates, a phone
// layout and hostile strings in every new field. Seeded by posting span events to the agent.

const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/ui/', import.meta.url))
const IMG = '<img src=x onerror="window.__xss=1">'
const SCRIPT = '<script>window.__xss=2</script>'
const BULK = 1300
const HOUR_NS = 3_600_000_000_000n
// Start times relative to now: the range picker's "last hour" keeps the newer half only.
const NOW_NS = BigInt(Date.now()) * 1_000_000n
const BASE_NS = NOW_NS - 2n * HOUR_NS

let agent: LocalAgent
let origin: UiOrigin
let browser: BrowserSession | undefined
let nextSpan = 1000

interface EventOpts {
  trace: string
  name: string
  parent?: string
  startNs: bigint
  durationNs?: number
  kind?: string
  model?: string
  mlApp?: string
  session?: string
  input?: unknown
  output?: unknown
  metrics?: Record<string, number>
  status?: 'ok' | 'error'
  error?: Record<string, string>
}

function event (o: EventOpts): Record<string, unknown> & { span_id: string } {
  const spanId = String(nextSpan++)
  const meta: Record<string, unknown> = { span: { kind: o.kind ?? 'llm' } }
  if (o.model !== undefined) { meta.model_name = o.model; meta.model_provider = 'openai' }
  if (o.input !== undefined) meta.input = o.input
  if (o.output !== undefined) meta.output = o.output
  if (o.error !== undefined) meta.error = o.error
  return spanEvent(o.trace, spanId, {
    name: o.name,
    parent_id: o.parent ?? 'undefined',
    start_ns: o.startNs.toString(),
    duration: o.durationNs ?? 1_000_000,
    status: o.status ?? 'ok',
    meta,
    metrics: o.metrics ?? {},
    tags: [`ml_app:${o.mlApp ?? 'bulk-app'}`],
    ml_app: o.mlApp ?? 'bulk-app',
    ...(o.session !== undefined ? { session_id: o.session } : {}),
  }) as Record<string, unknown> & { span_id: string }
}

function evaluation (traceId: string, spanId: string, label: string, value: string): Record<string, unknown> {
  return { join_on: { span: { span_id: spanId, trace_id: traceId } }, label, metric_type: 'categorical', categorical_value: value, ml_app: 'bulk-app', timestamp_ms: Date.now() + nextSpan++ }
}

async function postEvaluations (metrics: unknown[]): Promise<void> {
  const r = await request(agent.url, '/evp_proxy/v2/api/intake/llm-obs/v2/eval-metric', {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Datadog-EVP-Subdomain': 'api' },
    body: JSON.stringify({ data: { type: 'evaluation_metric', attributes: { metrics } } }),
  })
  assert.equal(r.status, 202, r.body)
}

async function post (events: unknown[]): Promise<void> {
  const r = await postEvp(agent.url, events)
  assert.equal(r.status, 202, r.body)
}

const bulkId = (i: number): string => `b${i.toString(16).padStart(31, '0')}`
/** Durations that do not follow arrival order, so a sort by duration is visible. */
const bulkDuration = (i: number): number => ((i * 7919) % 1000 + 1) * 1_000_000
const SESSION = 'sess-refund-42'
const SESSION_TRACES = ['turn-a', 'turn-b', 'turn-c']
const QUESTIONS = ['Hi, my blender broke.', 'Can I return it?', 'How long does the refund take?']
const ANSWERS = ['Sorry to hear that! What happened?', 'Yes, you can return it within 30 days.', 'The refund reaches your card in 5 business days.']
const UNKNOWN_MODEL = 'mystery-model-x9'
const XSS_TRACE = 'xss00000000000000000000000000001'
let evalSpan = ''
let openTraceRoot = ''

before(async () => {
  agent = await startAgent({ port: 0, db: ':memory:' })
  origin = await uiOrigin(agent.url)
  // Posted newest-first in batches: the list must order by start time, not by arrival.
  const bulk = Array.from({ length: BULK }, (_, i) => event({
    trace: bulkId(i), name: `bulk-${i}`, startNs: BASE_NS + BigInt(i) * 5_000_000_000n, durationNs: bulkDuration(i), model: 'gpt-4o-mini',
    input: { value: `question number ${i}` }, output: { value: `answer number ${i}` },
    // No total_tokens: the total is input + output.
    metrics: { input_tokens: 10 + (i % 7), output_tokens: 5 },
  })).reverse()
  for (let k = 0; k < bulk.length; k += 200) await post(bulk.slice(k, k + 200))
  const session = SESSION_TRACES.map((t, i) => event({
    trace: t, name: 'support-chat', startNs: NOW_NS - BigInt(30 - i) * 60_000_000_000n, model: 'gpt-4o-mini', mlApp: 'shop-bot', session: SESSION,
    input: { messages: [{ role: 'system', content: 'You are a support agent.' }, ...QUESTIONS.slice(0, i).flatMap((q, j) => [{ role: 'user', content: q }, { role: 'assistant', content: ANSWERS[j] }]), { role: 'user', content: QUESTIONS[i] }] },
    output: { messages: [{ role: 'assistant', content: ANSWERS[i] }] },
    metrics: { input_tokens: 100, output_tokens: 20, total_tokens: 120 },
  }))
  await post(session)
  const unknown = event({ trace: 'unknown-model-trace', name: 'unpriced-call', startNs: NOW_NS - 60_000_000_000n, model: UNKNOWN_MODEL, mlApp: 'shop-bot', metrics: { input_tokens: 5, output_tokens: 5 } })
  await post([unknown])
  // Hostile strings in every new field: session id, model, snippet, evaluation label and value, error.
  const xssRoot = event({
    trace: XSS_TRACE, name: `xss-root ${IMG}`, kind: 'workflow', startNs: NOW_NS - 50_000_000_000n, mlApp: 'shop-bot', session: `s ${IMG}`,
    input: { value: `hostile ${SCRIPT}` }, output: { value: `zebraword ${IMG} ${SCRIPT}` }, status: 'error', error: { type: 'Error', message: `boom ${IMG}` },
  })
  const xssLlm = event({ trace: XSS_TRACE, parent: xssRoot.span_id, name: 'xss-llm', startNs: NOW_NS - 49_000_000_000n, model: `m ${IMG}`, mlApp: 'shop-bot', session: `s ${IMG}`, metrics: { input_tokens: 1, output_tokens: 1 } })
  await post([xssRoot, xssLlm])
  evalSpan = session[2].span_id
  openTraceRoot = session[0].span_id
  await postEvaluations([
    evaluation(SESSION_TRACES[2], session[2].span_id, 'correctness', 'correct'),
    evaluation(SESSION_TRACES[1], session[1].span_id, 'correctness', 'wrong'),
    evaluation(XSS_TRACE, xssLlm.span_id, `lbl ${IMG}`, `val ${SCRIPT}`),
  ])
  mkdirSync(ARTIFACTS, { recursive: true })
  browser = await launchChromium()
})

after(async () => {
  await browser?.close()
  await origin?.close()
  await agent?.close()
})

function session (): BrowserSession {
  assert.ok(browser !== undefined, 'chromium was not launched')
  return browser
}

async function open (hash: string): Promise<void> {
  const { page } = session()
  await page.goto('about:blank')
  await page.goto(`${origin.url}/${hash}`)
}

/** Waits for a condition evaluated in the page (a cap for a hung page, not a speed budget). */
async function until (fn: (arg: any) => unknown, arg?: unknown): Promise<void> {
  await session().page.waitForFunction(fn, arg, { timeout: 10_000 })
}

// Page-side predicates are functions (a string would be eval'd in the page, which its CSP
// forbids), serialized into the page: they can use nothing from this module.
const rowsAre = (n: number): Promise<void> => until((k) => (globalThis as any).document.querySelectorAll('tr.trace-row').length === k, n)
const firstRowIs = (id: string): Promise<void> => until((x) => (globalThis as any).document.querySelector('tr.trace-row')?.dataset.traceId === x, id)
const inPage = <T>(fn: () => T): Promise<T> => session().page.evaluate(fn)

test('every module of the page is served as JavaScript, loaded as an ES module, and uses no HTML sink', async () => {
  const html = await (await fetch(`${origin.url}/`)).text()
  assert.match(html, /<script type="module" src="\/ui\/app\.js"><\/script>/)
  const imported = new Set<string>(['app.js'])
  for (const m of UI_MODULES) {
    const r = await fetch(`${origin.url}/ui/${m}`)
    assert.equal(r.status, 200, m)
    assert.equal(r.headers.get('content-type'), 'text/javascript; charset=utf-8', m)
    assert.ok((r.headers.get('content-security-policy') ?? '').includes("script-src 'self'"), m)
    const js = await r.text()
    assert.doesNotMatch(js, /innerHTML|outerHTML|insertAdjacentHTML|document\.write|eval\(|new Function/, m)
    for (const [, dep] of js.matchAll(/from '\.\/([a-z_]+\.js)'/g)) imported.add(dep)
  }
  // Every module imported is served, and every served module is used.
  assert.deepEqual([...imported].sort(), [...UI_MODULES].sort())
})

interface TraceRow { trace_id: string, duration: number, start_ns: string, cost_usd: number | null, total_tokens: number }

test('the list pages through 1,300+ traces with "More", newest start first, with the total stated', async () => {
  const { page } = session()
  await open('#/traces')
  await rowsAre(100)
  const total = BULK + SESSION_TRACES.length + 2
  assert.equal(await page.locator('.count').textContent(), `100 of ${total} traces`)
  const firstPage = await page.locator('tr.trace-row').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { traceId: string } }).dataset.traceId))
  const api = await getJson<{ traces: TraceRow[] }>(agent.url, '/api/traces?limit=100')
  assert.deepEqual(firstPage, api.traces.map((t) => t.trace_id), 'the rows are the API\'s first page, in its order')
  for (let i = 1; i < api.traces.length; i++) assert.ok(BigInt(api.traces[i - 1].start_ns) >= BigInt(api.traces[i].start_ns), 'newest start first')
  await page.click('button.more')
  await rowsAre(200)
  assert.equal(await page.locator('.count').textContent(), `200 of ${total} traces`)
  const ids = await page.locator('tr.trace-row').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { traceId: string } }).dataset.traceId))
  assert.equal(new Set(ids).size, 200, 'no row twice across pages')
  // Date and time, not the time alone.
  assert.match((await page.locator('tr.trace-row td[data-col="time"]').first().textContent()) ?? '', /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/)
  // The Delivery column explains itself on hover.
  assert.match((await page.locator('thead th:text-is("Delivery")').getAttribute('title')) ?? '', /How the spans reached the agent/)
  assert.match((await page.locator('tr.trace-row td[data-col="delivery"] .path').first().getAttribute('title')) ?? '', /EVP proxy/)
})

test('the time range: a preset goes into the URL, and explicit since/until bounds narrow the list', async () => {
  const { page } = session()
  await open('#/traces')
  await rowsAre(100)
  await page.selectOption('select[name="range"]', '1h')
  await page.waitForURL(/range=1h/)
  await until(() => /^100 of \d+ traces$/.test((globalThis as any).document.querySelector('.count').textContent) &&
    Number((globalThis as any).document.querySelector('.count').textContent.split(' ')[2]) < 1000)
  // Bulk traces start 5 s apart: this window holds exactly bulk-100 ... bulk-199.
  const since = Number((BASE_NS + 100n * 5_000_000_000n) / 1_000_000n)
  const until2 = Number((BASE_NS + 200n * 5_000_000_000n) / 1_000_000n)
  await open(`#/traces?since=${since}&until=${until2}`)
  await until(() => (globalThis as any).document.querySelector('.count')?.textContent === '100 of 100 traces')
  assert.equal(await page.locator('select[name="range"]').inputValue(), 'custom')
  assert.ok((await page.locator('input[name="since"]').inputValue()) !== '', 'the custom bounds are shown')
  const names = await page.locator('tr.trace-row td.name > a').allTextContents()
  assert.equal(names[0], 'bulk-199')
  assert.equal(names[99], 'bulk-100')
})

test('sorting by a column asks the agent and puts the sort in the URL', async () => {
  const { page } = session()
  await open('#/traces')
  await rowsAre(100)
  await page.click('button.sort[data-sort="duration"]')
  await page.waitForURL(/sort=duration/)
  const longest = (await getJson<{ traces: TraceRow[] }>(agent.url, '/api/traces?sort=duration&limit=3')).traces.map((t) => t.trace_id)
  await firstRowIs(longest[0])
  assert.deepEqual((await page.locator('tr.trace-row').evaluateAll((rows) => rows.slice(0, 3).map((r) => (r as unknown as { dataset: { traceId: string } }).dataset.traceId))), longest)
  assert.equal(await page.locator('th[aria-sort="descending"] button').textContent(), 'Duration ▼')
  await page.click('button.sort[data-sort="duration"]')
  await page.waitForURL(/order=asc/)
  const shortest = (await getJson<{ traces: TraceRow[] }>(agent.url, '/api/traces?sort=duration&order=asc&limit=1')).traces[0].trace_id
  await firstRowIs(shortest)
})

test('full-text search finds a word in an output and shows the highlighted snippet', async () => {
  const { page } = session()
  await open('#/traces')
  await until(() => (globalThis as any).document.querySelectorAll('tr.trace-row').length > 0)
  await page.fill('input[name="q"]', 'refund')
  await page.press('input[name="q"]', 'Enter')
  await page.waitForURL(/q=refund/)
  await until(() => { const rows = [...(globalThis as any).document.querySelectorAll('tr.trace-row')]; return rows.length > 0 && rows.every((r: any) => r.querySelector('.snippet mark') !== null) })
  const ids = await page.locator('tr.trace-row').evaluateAll((rows) => rows.map((r) => (r as unknown as { dataset: { traceId: string } }).dataset.traceId))
  assert.ok(ids.includes('turn-c'), `the turn whose output says "refund" is found: ${ids.join(', ')}`)
  assert.ok(ids.every((id) => SESSION_TRACES.includes(id)), 'only traces that contain the word')
  const marks = await page.locator('tr[data-trace-id="turn-c"] .snippet mark').allTextContents()
  assert.ok(marks.length > 0 && marks.every((m) => m.toLowerCase() === 'refund'), marks.join('|'))
})

test('cost is shown per trace, and "no price" for a model the price table does not know', async () => {
  const { page } = session()
  await open('#/traces?ml_app=shop-bot')
  await page.locator('tr[data-trace-id="unknown-model-trace"]').waitFor()
  assert.equal(await page.locator('tr[data-trace-id="unknown-model-trace"] td[data-col="cost"]').textContent(), 'no price')
  const row = (await getJson<{ traces: TraceRow[] }>(agent.url, '/api/traces?session_id=' + SESSION)).traces.find((t) => t.trace_id === 'turn-a')
  assert.ok(row !== undefined && typeof row.cost_usd === 'number' && row.cost_usd > 0, `gpt-4o-mini has a price: ${JSON.stringify(row)}`)
  assert.match((await page.locator('tr[data-trace-id="turn-a"] td[data-col="cost"]').textContent()) ?? '', /^\$[0-9.e-]+$/)
  // Input + output when the event had no total.
  await open(`#/traces?q=${encodeURIComponent('"question number 9"')}`)
  await page.locator(`tr[data-trace-id="${bulkId(9)}"]`).waitFor()
  assert.equal(await page.locator(`tr[data-trace-id="${bulkId(9)}"] td[data-col="tokens"] .tokens`).textContent(), String(10 + (9 % 7) + 5))
})

test('evaluations show as badges in the list and on the tree node, and filter the list', async () => {
  const { page } = session()
  await open('#/traces?ml_app=shop-bot')
  await page.locator('tr[data-trace-id="turn-c"] .eval').waitFor()
  assert.equal(await page.locator('tr[data-trace-id="turn-c"] .eval').innerText(), 'correctness\ncorrect')
  await page.fill('input[name="eval_label"]', 'correctness')
  await page.press('input[name="eval_label"]', 'Enter')
  await page.waitForURL(/eval_label=correctness/)
  await rowsAre(2)
  assert.deepEqual((await page.locator('tr.trace-row td.name > a').allTextContents()), ['support-chat', 'support-chat'])
  await page.fill('input[name="eval_value"]', 'wrong')
  await page.press('input[name="eval_value"]', 'Enter')
  await rowsAre(1)
  await firstRowIs('turn-b')
  await open(`#/trace/turn-c?span=${evalSpan}`)
  await page.locator(`.span-row[data-span-id="${evalSpan}"] .eval`).waitFor()
  assert.equal(await page.locator('section.detail .evaluations .eval-label').textContent(), 'correctness')
})

test('filters, the trace and the span are in the URL; back and forward walk them; a shared link opens the same view', async () => {
  const { page } = session()
  await open('#/traces')
  await rowsAre(100)
  await page.selectOption('select[name="ml_app"]', 'shop-bot')
  await page.waitForURL(/ml_app=shop-bot/)
  await rowsAre(SESSION_TRACES.length + 2)
  await page.selectOption('select[name="status"]', 'error')
  await page.waitForURL(/status=error/)
  await rowsAre(1)
  await page.goBack()
  await rowsAre(SESSION_TRACES.length + 2)
  assert.equal(await page.locator('select[name="status"]').inputValue(), '', 'the control follows the URL back')
  assert.equal(await page.locator('select[name="ml_app"]').inputValue(), 'shop-bot')
  await page.locator('tr[data-trace-id="turn-a"] td.name > a').click()
  await page.waitForURL(/#\/trace\/turn-a$/)
  await page.locator('.span-row').first().waitFor()
  await page.locator('.span-row').first().click()
  await page.waitForURL(new RegExp(`#/trace/turn-a\\?span=${openTraceRoot}$`))
  const shared = page.url()
  await page.goBack()
  await page.waitForURL(/#\/trace\/turn-a$/)
  await page.goBack()
  await page.waitForURL(/ml_app=shop-bot$/)
  await rowsAre(SESSION_TRACES.length + 2)
  await page.goForward()
  await page.locator('.span-row').first().waitFor()
  // The shared link in a fresh page: the same trace with the same span selected.
  const other = await session().context.newPage()
  try {
    await other.goto(shared)
    await other.locator(`.span-row.selected[data-span-id="${openTraceRoot}"]`).waitFor()
    assert.equal(await other.locator('section.detail h2').innerText(), 'llm support-chat ok')
    // A root span says so, never "undefined".
    assert.equal(await other.locator('section.detail .fact:has(dt:text-is("parent id")) dd').textContent(), 'none (root span)')
    assert.doesNotMatch(await other.locator('section.detail').innerText(), /undefined/)
  } finally {
    await other.close()
  }
})

test('live: a new trace appears in the open list and an open trace grows as its spans arrive, without a reload', async () => {
  const { page } = session()
  await open('#/traces')
  await rowsAre(100)
  await inPage(() => { (globalThis as any).__sameDocument = true })
  const root = event({ trace: 'live-trace', name: 'live-root', kind: 'workflow', startNs: BigInt(Date.now()) * 1_000_000n + HOUR_NS, mlApp: 'live-app' })
  await post([root])
  await page.locator('tr[data-trace-id="live-trace"]').waitFor()
  assert.equal(await page.locator('tr.trace-row').first().getAttribute('data-trace-id'), 'live-trace', 'newest first')
  await page.locator('tr[data-trace-id="live-trace"] td.name > a').click()
  await page.locator('.span-row').first().waitFor()
  assert.equal(await page.locator('.span-row').count(), 1)
  await post([event({ trace: 'live-trace', parent: root.span_id, name: 'live-child', startNs: BigInt(root.start_ns as string) + 1000n, mlApp: 'live-app' })])
  await page.locator('.span-row .span-name:text-is("live-child")').waitFor()
  assert.equal(await inPage(() => (globalThis as any).__sameDocument), true, 'no reload happened')
})

test('sessions list the conversation and the session page reads as its turns in order', async () => {
  const { page } = session()
  await open('#/sessions')
  const row = page.locator(`tr[data-session-id="${SESSION}"]`)
  await row.waitFor()
  assert.equal(await row.locator('td[data-label="Traces"]').textContent(), '3')
  await row.locator('a').click()
  await page.waitForURL(new RegExp(`#/session/${SESSION}$`))
  await page.locator('li.turn').first().waitFor()
  assert.deepEqual(await page.locator('li.turn').evaluateAll((els) => els.map((e) => (e as unknown as { dataset: { traceId: string } }).dataset.traceId)), SESSION_TRACES)
  // Each turn shows the new question and its answer, not the whole history again.
  for (let i = 0; i < 3; i++) {
    const turn = page.locator('li.turn').nth(i)
    assert.deepEqual(await turn.locator('.msg.role-user .content').allTextContents(), [QUESTIONS[i]])
    assert.deepEqual(await turn.locator('.msg.role-assistant .content').allTextContents(), [ANSWERS[i]])
  }
  await page.screenshot({ path: `${ARTIFACTS}session.png`, fullPage: true })
})

test('the summary shows requests, error rate, latency percentiles, charts, models and errors for the range', async () => {
  const { page } = session()
  await open('#/summary?ml_app=shop-bot&range=24h')
  await page.locator('.card[data-metric="requests"]').waitFor()
  const s = await getJson<{ requests: number, errors: number }>(agent.url, `/api/summary?ml_app=shop-bot&since=${Date.now() - 86_400_000}`)
  assert.equal(await page.locator('.card[data-metric="requests"] .card-value').textContent(), String(s.requests))
  assert.ok(s.requests >= SESSION_TRACES.length + 2)
  assert.equal(await page.locator('figure.chart svg').count(), 4)
  assert.ok(await page.locator('figure.chart .chart-bar').count() > 0, 'bars were drawn')
  assert.ok((await page.locator('table.by-model td').allTextContents()).includes(UNKNOWN_MODEL))
  assert.match(await page.locator('table.top-errors').innerText(), /boom/)
  await page.screenshot({ path: `${ARTIFACTS}summary.png`, fullPage: true })
})

test('hostile strings in snippets, sessions, models, evaluations and errors render as text', async () => {
  const { page } = session()
  const pages = [
    '#/traces?q=zebraword', '#/traces?ml_app=shop-bot', `#/trace/${XSS_TRACE}`, '#/sessions',
    `#/session/${encodeURIComponent(`s ${IMG}`)}`, '#/summary?ml_app=shop-bot&range=24h',
  ]
  for (const hash of pages) {
    await open(hash)
    await until((text) => (globalThis as any).document.querySelector('main').innerText.includes(text), IMG)
    const dom = await inPage(() => ({ xss: (globalThis as any).__xss, imgs: (globalThis as any).document.querySelectorAll('img').length, scripts: (globalThis as any).document.querySelectorAll('script').length }))
    assert.deepEqual(dom, { xss: undefined, imgs: 0, scripts: 1 }, hash)
  }
  // The snippet's own <mark> is the only markup let through.
  await open('#/traces?q=zebraword')
  await page.locator(`tr[data-trace-id="${XSS_TRACE}"] .snippet mark`).waitFor()
  const snippet = page.locator(`tr[data-trace-id="${XSS_TRACE}"] .snippet`)
  assert.deepEqual(await snippet.locator('mark').allTextContents(), ['zebraword'])
  const text = (await snippet.textContent()) ?? ''
  assert.ok(text.includes(IMG) && text.includes(SCRIPT), `the escaped markup reads back as the text it was: ${text}`)
  assert.equal(await snippet.locator('*').count(), 1, 'the <mark> is the only element in the snippet')
  await open(`#/trace/${XSS_TRACE}`)
  await page.locator('.span-row .eval').first().waitFor()
  assert.equal(await page.locator('.span-row .eval .eval-label').textContent(), `lbl ${IMG}`)
  assert.equal(await page.locator('.span-row .eval .eval-value').textContent(), `val ${SCRIPT}`)
})

test('at 390 px the list is cards, nothing overflows, and screenshots are saved', async () => {
  const { page } = session()
  await page.setViewportSize({ width: 390, height: 844 })
  try {
    const shots: Array<[string, string, string]> = [
      ['#/traces', 'tr.trace-row', 'mobile-traces.png'],
      [`#/trace/turn-c?span=${evalSpan}`, '.span-row', 'mobile-trace.png'],
      ['#/sessions', 'tr.session-row', 'mobile-sessions.png'],
      [`#/session/${SESSION}`, 'li.turn', 'mobile-session.png'],
      ['#/summary?range=24h', '.card', 'mobile-summary.png'],
    ]
    for (const [hash, ready, file] of shots) {
      await open(hash)
      await page.locator(ready).first().waitFor()
      const width = await inPage(() => (globalThis as any).document.documentElement.scrollWidth)
      assert.ok(Number(width) <= 390, `${hash} fits 390 px (scrollWidth ${width})`)
      await page.screenshot({ path: `${ARTIFACTS}${file}`, fullPage: file !== 'mobile-traces.png' })
    }
    await open('#/traces')
    await page.locator('tr.trace-row').first().waitFor()
    const display = await inPage(() => (globalThis as any).getComputedStyle((globalThis as any).document.querySelector('tr.trace-row td[data-col="cost"]')).display)
    assert.equal(display, 'flex', 'cells stack as card lines')
    assert.equal(await page.locator('thead th:has-text("Spans")').first().isVisible(), false, 'no table header row on a phone')
  } finally {
    await page.setViewportSize({ width: 1440, height: 900 })
  }
})

test('the pages above logged no errors and no CSP violations', () => {
  assert.deepEqual(session().problems, [])
})

test('an agent that goes away shows a retry control, and the page recovers when it is back', async () => {
  const { page } = session()
  const gone = await startAgent({ port: 0, db: ':memory:' })
  const port = Number(new URL(gone.url).port)
  assert.equal((await postEvp(gone.url, [event({ trace: 'comeback', name: 'comeback-root', startNs: NOW_NS })])).status, 202)
  const front = await uiOrigin(gone.url)
  try {
    await page.goto(`${front.url}/#/traces`)
    await page.locator('tr[data-trace-id="comeback"]').waitFor()
    await gone.close()
    // Within the loaded page (the agent that served it is gone): the next view cannot load.
    await inPage(() => { (globalThis as any).location.hash = '#/sessions' })
    await page.locator('main .failure button.retry').waitFor()
    assert.match(await page.locator('main').innerText(), /The agent is not answering/)
    await page.locator('#status button.retry').waitFor()
    const back = await startAgent({ port, db: ':memory:' })
    try {
      assert.equal((await postEvp(back.url, [event({ trace: 'again', name: 'again-root', startNs: NOW_NS, session: 'sess-again' })])).status, 202)
      // Retry, or the live poll noticing the agent first: either way the view comes back.
      await page.locator('main .failure button.retry').click({ timeout: 2000 }).catch(() => {})
      await page.locator('tr[data-session-id="sess-again"]').waitFor()
      await until(() => (globalThis as any).document.querySelector('#status button') === null)
    } finally {
      await back.close()
    }
  } finally {
    await front.close()
  }
})
