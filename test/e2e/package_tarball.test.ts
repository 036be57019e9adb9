import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

// The package as users get it: `npm pack` of the built tree, unpacked into a project of its own
// outside the repository (so nothing resolves from our node_modules by accident), with only the
// package's runtime dependencies linked in (installing from the registry is not possible offline).
// better-sqlite3, an optional peer, is deliberately absent there.

const root = fileURLToPath(new URL('../../../', import.meta.url))
const require = createRequire(import.meta.url)
const tscBin = require.resolve('typescript/bin/tsc')
const attwBin = join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js')
const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { exports: Record<string, unknown>, dependencies: Record<string, string>, version: string }
const SLOW = { timeout: 5 * 60_000 }

interface Run { code: number | null, stdout: string, stderr: string }

// The project's processes get a clean environment: no NODE_PATH, NODE_OPTIONS or DD_* from the test run.
// LLM Observability explicitly off: loading llmobs-ts/register stays silent (unset, it says once how to turn it on).
const CLEAN_ENV: NodeJS.ProcessEnv = { ...Object.fromEntries(['PATH', 'HOME', 'TMPDIR'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]])), DD_LLMOBS_ENABLED: 'false' }

function run (cmd: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = CLEAN_ENV): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

let work: string
let tgz: string
let files: string[]
let project: string

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'llmobs-pack-'))
  // --ignore-scripts: prepack would rebuild; the test runs on the build it was compiled with.
  const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], root, process.env)
  assert.equal(packed.code, 0, packed.stderr)
  const info = JSON.parse(packed.stdout) as Array<{ filename: string, files: Array<{ path: string }> }>
  tgz = join(work, info[0].filename)
  files = info[0].files.map((f) => f.path).sort()

  project = join(work, 'project')
  const pkgDir = join(project, 'node_modules/llmobs-ts')
  mkdirSync(pkgDir, { recursive: true })
  const untar = await run('tar', ['xzf', tgz, '-C', pkgDir, '--strip-components=1'], work)
  assert.equal(untar.code, 0, untar.stderr)
  for (const dep of Object.keys(rootPkg.dependencies)) symlinkSync(join(root, 'node_modules', dep), join(project, 'node_modules', dep))
  // For the TypeScript consumer only: Node's types, as any TypeScript project on Node has.
  mkdirSync(join(project, 'node_modules/@types'))
  symlinkSync(join(root, 'node_modules/@types/node'), join(project, 'node_modules/@types/node'))
}, SLOW)

after(() => { if (work !== undefined) rmSync(work, { recursive: true, force: true }) })

test('the tarball holds the build, README, LICENSE and package.json only', () => {
  for (const f of files) {
    assert.ok(/^dist\/(src|cjs)\//.test(f) || ['README.md', 'LICENSE', 'package.json'].includes(f), `unexpected file in the package: ${f}`)
    assert.ok(!f.endsWith('.tsbuildinfo') && !f.endsWith('.tgz') && !f.includes('/test/'), `unexpected file in the package: ${f}`)
  }
  for (const f of ['LICENSE', 'README.md', 'package.json', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/register.js',
    'dist/cjs/index.cjs', 'dist/cjs/index.d.cts', 'dist/cjs/register.cjs', 'dist/cjs/register.d.cts', 'dist/src/cli/main.js',
    'dist/src/agent/ui/static/index.html']) {
    assert.ok(files.includes(f), `${f} missing from the package`)
  }
  assert.match(readFileSync(join(project, 'node_modules/llmobs-ts/LICENSE'), 'utf8'), /Apache License\s+Version 2\.0, January 2004[\s\S]*END OF TERMS AND CONDITIONS/)
})

test('package.json: optional peers, no install scripts, where the project lives', () => {
  const pkg = JSON.parse(readFileSync(join(project, 'node_modules/llmobs-ts/package.json'), 'utf8')) as Record<string, Record<string, unknown> | undefined>
  for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) assert.equal(pkg.scripts?.[s], undefined, `${s} runs on users' installs`)
  assert.equal(pkg.dependencies?.['better-sqlite3'], undefined, 'better-sqlite3 (a native addon) is installed for every user')
  for (const peer of ['better-sqlite3', 'openai', '@anthropic-ai/sdk', 'ai', '@opentelemetry/api']) {
    assert.equal(typeof pkg.peerDependencies?.[peer], 'string', `${peer} has no peer range`)
    assert.deepEqual(pkg.peerDependenciesMeta?.[peer], { optional: true }, `${peer} is not an optional peer`)
  }
  assert.equal(typeof pkg.repository, 'object')
  assert.equal(typeof pkg.homepage, 'string')
})

test('every source map in the package carries its sources', () => {
  const maps = files.filter((f) => f.endsWith('.map'))
  assert.ok(maps.length > 0)
  for (const f of maps) {
    const map = JSON.parse(readFileSync(join(project, 'node_modules/llmobs-ts', f), 'utf8')) as { sources: string[], sourcesContent?: Array<string | null> }
    // The sources point at src/*.ts, which is not shipped: a debugger shows the inlined copy.
    assert.equal(map.sourcesContent?.length, map.sources.length, `${f} has no sourcesContent`)
    assert.ok(map.sourcesContent.every((s) => typeof s === 'string' && s.length > 0), `${f} has an empty source`)
  }
})

test('every export resolves through import and require, to one module instance, without better-sqlite3', SLOW, async () => {
  const subpaths = Object.keys(rootPkg.exports)
  assert.deepEqual(subpaths, ['.', './register', './package.json'])
  const specs = subpaths.map((s) => s === '.' ? 'llmobs-ts' : `llmobs-ts/${s.slice(2)}`)
  const esm = `
    import { createRequire } from 'node:module'
    const require = createRequire(process.cwd() + '/')
    const out = {}
    for (const spec of ${JSON.stringify(specs)}) {
      const ns = spec.endsWith('.json') ? await import(spec, { with: { type: 'json' } }) : await import(spec)
      out[spec] = { esm: Object.keys(ns).sort(), cjs: Object.keys(require(spec)).sort() }
    }
    const a = await import('llmobs-ts')
    out.same = a.tracer === require('llmobs-ts').tracer && a.llmobs === require('llmobs-ts').llmobs
    console.log(JSON.stringify(out))`
  const r = await run(process.execPath, ['--input-type=module', '-e', esm], project)
  assert.equal(r.code, 0, r.stderr)
  // No ExperimentalWarning, no missing module: nothing at all on stderr.
  assert.equal(r.stderr, '')
  const out = JSON.parse(r.stdout) as Record<string, { esm: string[], cjs: string[] }> & { same: boolean }
  for (const name of ['tracer', 'Tracer', 'llmobs', 'LLMObs', 'Span', 'SpanContext', 'startAgent', 'wrapOpenAI', 'wrapAnthropic', 'llmobsMiddleware', 'USER_KEEP']) {
    assert.ok(out['llmobs-ts'].esm.includes(name), `import { ${name} } from 'llmobs-ts' is missing`)
  }
  assert.deepEqual(out['llmobs-ts'].cjs, out['llmobs-ts'].esm)
  assert.deepEqual(out['llmobs-ts/register'].esm, [])
  assert.equal(out.same, true, 'import and require see different module instances (a split global tracer)')
  assert.ok(out['llmobs-ts/package.json'].cjs.includes('version'))

  // A plain CommonJS script, as `node -r llmobs-ts/register app.cjs` users have.
  writeFileSync(join(project, 'app.cjs'), "const { tracer } = require('llmobs-ts')\nconsole.log(tracer.trace('x', () => 'traced'))\n")
  const cjs = await run(process.execPath, ['-r', 'llmobs-ts/register', 'app.cjs'], project, { ...CLEAN_ENV, DD_TRACE_ENABLED: 'false' })
  assert.equal(cjs.stderr, '')
  assert.equal(cjs.stdout, 'traced\n')
})

test('without better-sqlite3, startAgent() rejects and the CLI exits saying exactly what to install', SLOW, async () => {
  const script = `require('llmobs-ts').startAgent({ port: 0, db: ':memory:' }).then(
    (a) => { console.log('started'); return a.close() },
    (e) => console.log(JSON.stringify({ code: e.code, message: e.message })))`
  const r = await run(process.execPath, ['-e', script], project)
  assert.equal(r.code, 0, r.stderr)
  const err = JSON.parse(r.stdout) as { code: string, message: string }
  assert.equal(err.code, 'ERR_LLMOBS_SQLITE_MISSING')
  assert.match(err.message, /npm install better-sqlite3@\^12/)

  const cli = await run(process.execPath, ['node_modules/llmobs-ts/dist/src/cli/main.js', 'agent', '--port', '0', '--db', ':memory:'], project)
  assert.equal(cli.code, 1)
  assert.match(cli.stderr, /npm install better-sqlite3@\^12/)
  assert.doesNotMatch(cli.stderr, /\n\s+at /, 'the CLI printed a stack trace')

  const demo = await run(process.execPath, ['node_modules/llmobs-ts/dist/src/cli/main.js', 'demo', '--once'], project)
  assert.equal(demo.code, 1)
  assert.match(demo.stderr, /npm install better-sqlite3@\^12/)
  assert.doesNotMatch(demo.stderr, /\n\s+at /, 'the demo printed a stack trace')
})

test('a CommonJS TypeScript project with "module": "node16" compiles against the package and runs', SLOW, async () => {
  const dir = join(project, 'ts-cjs')
  mkdirSync(dir)
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'ts-cjs', private: true, type: 'commonjs' }))
  writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
    compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, outDir: 'out', types: ['node'], skipLibCheck: true },
    include: ['index.ts'],
  }))
  writeFileSync(join(dir, 'index.ts'), [
    "import { tracer, llmobs, type Span, type EvaluationOptions } from 'llmobs-ts'",
    "import 'llmobs-ts/register'",
    "const out: string = tracer.trace('work', { resource: 'r' }, (span: Span) => span.name)",
    '// Type-checked, not run (LLM Observability is not enabled here).',
    'export function typed (): void {',
    "  llmobs.trace({ kind: 'llm' }, (span) => llmobs.annotate(span, { inputData: [{ role: 'user', content: 'hi' }] }))",
    '  // @ts-expect-error the message field is content',
    "  llmobs.trace({ kind: 'llm' }, (span) => llmobs.annotate(span, { inputData: [{ role: 'user', contnet: 'hi' }] }))",
    '}',
    "const e: EvaluationOptions = { label: 'ok', metricType: 'boolean', value: true }",
    'console.log(out, e.metricType)',
    '',
  ].join('\n'))
  const tsc = await run(process.execPath, [tscBin, '-p', 'tsconfig.json'], dir)
  assert.equal(tsc.code, 0, `tsc failed:\n${tsc.stdout}${tsc.stderr}`)
  assert.match(readFileSync(join(dir, 'out/index.js'), 'utf8'), /require\("llmobs-ts"\)/)
  const ran = await run(process.execPath, ['out/index.js'], dir, { ...CLEAN_ENV, DD_TRACE_ENABLED: 'false' })
  assert.equal(ran.stderr, '')
  assert.equal(ran.stdout, 'work boolean\n')
})

test('@arethetypeswrong/cli finds no problem in the tarball, and CommonJS resolves to the .d.cts types', SLOW, async () => {
  const r = await run(process.execPath, [attwBin, tgz, '--format', 'json'], work)
  const report = JSON.parse(r.stdout) as { analysis: { problems: unknown[], entrypoints: Record<string, { resolutions: Record<string, { resolution?: { fileName: string } }> }> } }
  assert.deepEqual(report.analysis.problems, [])
  assert.equal(r.code, 0, r.stderr)
  for (const [entry, file] of [['.', 'index'], ['./register', 'register']]) {
    const res = report.analysis.entrypoints[entry].resolutions
    assert.equal(res['node16-cjs'].resolution?.fileName, `/node_modules/llmobs-ts/dist/cjs/${file}.d.cts`)
    assert.equal(res['node16-esm'].resolution?.fileName, `/node_modules/llmobs-ts/dist/src/${file}.d.ts`)
  }
})
