// Copies the web UI's static files (plain HTML/JS/CSS that tsc does not compile) next to the
// compiled serve_ui.js, so the published package (which ships dist/src) serves them offline.
import { cpSync, existsSync, rmSync } from 'node:fs'

const from = new URL('../src/agent/ui/static/', import.meta.url)
const to = new URL('../dist/src/agent/ui/static/', import.meta.url)

if (!existsSync(new URL('index.html', from))) {
  console.error(`copy-ui: ${from.pathname}index.html is missing`)
  process.exit(1)
}
// A clean copy: a file deleted from the sources must not linger in the package.
rmSync(to, { recursive: true, force: true })
cpSync(from, to, { recursive: true })
// The price table (src/agent/prices.json) is data read at run time, shipped next to prices.js.
cpSync(new URL('../src/agent/prices.json', import.meta.url), new URL('../dist/src/agent/prices.json', import.meta.url))
