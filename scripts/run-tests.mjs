// Runs every compiled test file with node:test and fails when a test fails or when none ran.
// Node 20's `node --test` neither expands globs nor finds .ts files, so we list the files here.
import { run } from 'node:test'
import { spec } from 'node:test/reporters'
import { readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const root = new URL('../dist/test/', import.meta.url).pathname
const only = process.argv.slice(2)

function collect (dir) {
  const out = []
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...collect(p))
    else if (name.endsWith('.test.js')) out.push(p)
  }
  return out
}

let files = collect(root)
if (only.length > 0) files = files.filter((f) => only.some((o) => relative(root, f).includes(o)))
if (files.length === 0) {
  console.error('run-tests: no test files found under dist/test (did the build run?)')
  process.exit(1)
}

let passed = 0
let failed = 0
// Per file, a guard against a hang only: it must stay above every test's own timeout (the fuzz
// and soak suites allow ~3 min) and leave room for a machine shared with other work.
const stream = run({ files, concurrency: 2, timeout: 10 * 60_000 })
stream.on('test:pass', (e) => { if (e.details?.type !== 'suite') passed++ })
stream.on('test:fail', (e) => { if (e.details?.type !== 'suite') failed++ })
stream.compose(spec).pipe(process.stdout)
stream.on('end', () => {
  console.log(`\nrun-tests: ${files.length} files, ${passed} passed, ${failed} failed`)
  if (failed > 0 || passed === 0) process.exitCode = 1
})
