import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'

/**
 * The layout is the architecture: each folder of src/ imports only folders below it in this
 * order (the data model on the ground floor, the process-wide composition near the top, the
 * public entry points above everything). A new upward import fails here.
 */
const ORDER = [
  'version.ts', 'model', 'diag', 'genai', 'sampling', 'config', 'trace', 'pipeline', 'encode', 'transport', 'export',
  'spool', 'root', 'llmobs', 'otel', 'integrations', 'agent', 'cli', 'register.ts', 'index.ts',
]

const SRC = new URL('../../../src/', import.meta.url).pathname

function files (dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    if (statSync(p).isDirectory()) out.push(...files(p))
    else if (name.endsWith('.ts')) out.push(p)
  }
  return out
}

function layerOf (path: string): string {
  return relative(SRC, path).split('/')[0]
}

test('every folder imports only folders below it', () => {
  const upward: string[] = []
  let edges = 0
  for (const file of files(SRC)) {
    const from = layerOf(file)
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.[^'"]+)['"]/g)) {
      const target = normalize(join(dirname(file), m[1])).replace(/\.js$/, '.ts')
      const to = layerOf(target)
      if (to === from) continue
      edges++
      const a = ORDER.indexOf(from)
      const b = ORDER.indexOf(to)
      assert.ok(a >= 0 && b >= 0, `${relative(SRC, file)}: folder ${from} or ${to} is missing from the layer order`)
      if (b > a) upward.push(`${relative(SRC, file)} → ${m[1]}`)
    }
  }
  assert.ok(edges > 100, `the import scan saw ${edges} cross-folder imports`)
  assert.deepEqual(upward, [], 'imports that run up the layers')
})
