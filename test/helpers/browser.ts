import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { serveUi } from '../../src/agent/ui/serve_ui.js'

/** Debian's chromium package; CI installs it (`.ci/run`). */
export const CHROMIUM_PATH = '/usr/bin/chromium'

/**
 * DESIGN §8 launch flags. The fresh `--user-data-dir` is the directory handed to
 * launchPersistentContext (Playwright refuses the flag in `args` and passes it itself);
 * Playwright also adds `--headless` and `--no-sandbox` on its own, repeating them is harmless.
 */
export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]

export interface BrowserSession {
  context: BrowserContext
  page: Page
  /** Uncaught page errors and console errors (CSP violations land here), in order. */
  problems: string[]
  close: () => Promise<void>
}

/**
 * Launches chromium with a fresh profile. A missing browser is a failure with instructions,
 * never a skip: a skipped browser suite would let the UI rot unnoticed.
 */
export async function launchChromium (executablePath = CHROMIUM_PATH): Promise<BrowserSession> {
  try {
    accessSync(executablePath, constants.X_OK)
  } catch {
    throw new Error(`browser tests need Chromium at ${executablePath} and it is not there (or not executable). ` +
      'Install Debian\'s package: `sudo apt-get install -y chromium` (.ci/run does this). These tests fail rather than skip.')
  }
  const profile = mkdtempSync(join(tmpdir(), 'llmobs-ui-profile-'))
  let context: BrowserContext
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1440, height: 900 },
      timeout: 30_000,
    })
  } catch (err) {
    rmSync(profile, { recursive: true, force: true })
    throw err
  }
  const page = context.pages()[0] ?? await context.newPage()
  // Fail fast: every wait in these tests is for local, already stored data.
  page.setDefaultTimeout(10_000)
  const problems: string[] = []
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
  page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()} at ${msg.location().url}`) })
  let closed: Promise<void> | undefined
  return {
    context,
    page,
    problems,
    close: () => {
      closed ??= context.close().finally(() => rmSync(profile, { recursive: true, force: true }))
      return closed
    },
  }
}

export interface UiOrigin {
  url: string
  /** True when the agent does not serve the UI itself and a local front server does. */
  fronted: boolean
  close: () => Promise<void>
}

/**
 * Where the browser should go for the UI of the agent at `agentUrl`: the agent itself when its
 * router serves the UI, else a loopback front server that serves the UI with `serveUi` and
 * forwards everything else to the agent unchanged.
 */
export async function uiOrigin (agentUrl: string): Promise<UiOrigin> {
  const home = await fetch(agentUrl + '/').then((r) => r.text(), () => '')
  if (home.includes('/ui/app.js')) return { url: agentUrl, fronted: false, close: async () => {} }
  const target = new URL(agentUrl)
  const server = http.createServer((req, res) => {
    if (serveUi(req, res)) return
    const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers)
      up.pipe(res)
    })
    upstream.on('error', () => { if (!res.headersSent) res.writeHead(502); res.end() })
    req.pipe(upstream)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}`,
    fronted: true,
    close: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections() }),
  }
}
