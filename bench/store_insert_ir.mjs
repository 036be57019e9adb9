// Insert cost in instructions (valgrind callgrind), without timing noise: inserts N spans
// (bench/store_gen.mjs traces, commits of 1000 spans) into a copy of a store file, or a new one.
// Run it for two N and take the difference, so start-up and module loading cancel out:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded \
//     --predictable-gc-schedule bench/store_insert_ir.mjs <file> <N> [gen]
// With `gen`, the same batches are made but not committed: the difference of two such runs is
// the generator's share (JSON.stringify of every event, as an intake does), to subtract.
import { copyFileSync, rmSync } from 'node:fs'
import { batchOf } from './store_gen.mjs'

// STORE_DIST: another build's dist directory (absolute), to count a before/after pair.
const { Store } = await import(`${process.env.STORE_DIST ?? '../dist'}/src/agent/store.js`)

const [src, n, genOnly] = [process.argv[2], Number(process.argv[3]), process.argv[4] === 'gen']
const file = `/tmp/llmobs-insert-ir-${process.pid}.db`
for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
if (src !== 'new') copyFileSync(src, file)
const store = new Store(file)
const now = 1_760_000_000_000
let made = 0
for (let i = 0; i < n / 4; i += 250) {
  const b = batchOf(20_000_000 + i, 250, now)
  if (genOnly) made += b.spans.length
  else store.commit(b)
}
if (genOnly && made !== n) console.error(`made ${made} spans`)
store.close()
for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
