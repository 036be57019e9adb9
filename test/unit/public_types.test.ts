import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { inspectPublicSurface } from '../helpers/public_surface.js'

// dist/test/unit → the repository root (the build has run: these check its declarations).
const root = fileURLToPath(new URL('../../../', import.meta.url))
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')

test('test/types compiles against the published declarations: typed annotate, trace, evaluations; every @ts-expect-error is an error', () => {
  const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', 'test/types/tsconfig.json'], { cwd: root, encoding: 'utf8' })
  // An unused @ts-expect-error (a mistake that now compiles) is itself an error, TS2578.
  assert.equal(r.status, 0, `tsc -p test/types failed:\n${r.stdout}${r.stderr}`)
})

for (const entry of ['dist/src/index.d.ts', 'dist/cjs/index.d.cts']) {
  test(`${entry}: every type of ours in a public signature is exported by name, and the declarations check`, () => {
    const report = inspectPublicSurface(root + entry)
    assert.deepEqual(report.diagnostics, [])
    assert.deepEqual(report.unexported, [])
  })
}
