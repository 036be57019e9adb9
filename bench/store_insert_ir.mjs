// Insert cost in instructions (valgrind callgrind), without timing noise: inserts N spans
// (bench/store_gen.mjs traces, commits of 1000 spans) into a copy of a store file, or a new one.
// Run it for two N and take the difference, so start-up and module loading cancel out:
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded \
//     --predictable-gc-schedule bench/store_insert_ir.mjs <file> <N>
import { copyFileSync, rmSync } from 'node:fs'
import { Store } from '../dist/src/agent/store.js'
import { batchOf } from './store_gen.mjs'

const [src, n] = [process.argv[2], Number(process.argv[3])]
const file = `/tmp/llmobs-insert-ir-${process.pid}.db`
for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
if (src !== 'new') copyFileSync(src, file)
const store = new Store(file)
const now = 1_760_000_000_000
for (let i = 0; i < n / 4; i += 250) store.commit(batchOf(20_000_000 + i, 250, now))
store.close()
for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true })
