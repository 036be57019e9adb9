// Builds the CommonJS face of the package in dist/cjs: for each entry point a .cjs file that
// require()s the ES module build (Node >= 20.19 loads ES modules through require(esm)), and
// .d.cts copies of the declarations, so TypeScript projects compiled as CommonJS
// (`"module": "node16"`) type-check against the package instead of failing with TS1479.
//
// Why not a second, compiled CommonJS build: the package holds process-wide state (the global
// tracer, LLM Observability's ledger, auto-instrumentation hooks). Two copies of the code in one
// process (an ESM import and a CJS require) would split it. Through require(esm) both module
// systems get the same module instance; only the declarations are duplicated.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const esm = join(root, 'dist/src')
const cjs = join(root, 'dist/cjs')
const ENTRIES = ['index', 'register']

function declarations (dir) {
  const out = []
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...declarations(p))
    else if (e.name.endsWith('.d.ts')) out.push(p)
  }
  return out
}

// A clean tree: a declaration deleted from the sources must not linger in the package.
rmSync(cjs, { recursive: true, force: true })
for (const file of declarations(esm)) {
  const target = join(cjs, relative(esm, file)).replace(/\.d\.ts$/, '.d.cts')
  // Relative specifiers point at the sibling .d.cts (a CommonJS declaration importing an ES
  // module one would be TS1479 again); bare ones ('node:http') stay.
  const text = readFileSync(file, 'utf8').replace(/(['"])(\.{1,2}\/[^'"\n]*?)\.js\1/g, '$1$2.cjs$1')
  mkdirSync(dirname(target), { recursive: true })
  writeFileSync(target, text)
}
for (const entry of ENTRIES) {
  const js = join(esm, `${entry}.js`)
  const from = relative(cjs, js).split('\\').join('/')
  writeFileSync(join(cjs, `${entry}.cjs`), `'use strict'\n// The ES module build, through require(esm): one module instance for import and require.\nmodule.exports = require('${from}')\n`)
}
