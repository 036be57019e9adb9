// Runs `op` in a warm loop and prints one JSON line: nanoseconds per operation and CPU per op.
export async function measure (op, { warmup = 20_000, iterations = 200_000, batch = 1000, between } = {}) {
  for (let i = 0; i < warmup; i++) op(i)
  if (between) await between()
  const cpu0 = process.cpuUsage()
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < iterations; i += batch) {
    for (let j = 0; j < batch; j++) op(i + j)
    // Let timers (flushes) and sockets run, as in a real app.
    if (between) await between()
  }
  const t1 = process.hrtime.bigint()
  const cpu = process.cpuUsage(cpu0)
  return {
    nsPerOp: Number(t1 - t0) / iterations,
    cpuNsPerOp: (cpu.user + cpu.system) * 1000 / iterations,
  }
}

export const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve))

/**
 * The counted mode for callgrind (bench/callgrind.mjs): exactly `iterations` ops, with the same
 * yields as `measure` so the pipeline's timers run, then `flush` so every span's encode and send
 * happens inside the counted process, then exit. No warm-up: two run lengths are subtracted, so
 * start-up, loading and JIT warm-up cancel.
 */
export async function runCounted (op, iterations, flush, { batch = 1000 } = {}) {
  for (let i = 0; i < iterations; i += batch) {
    const n = Math.min(batch, iterations - i)
    for (let j = 0; j < n; j++) op(i + j)
    await yieldToLoop()
  }
  await flush()
  // A flush can return while a payload is still on the wire (dd-trace's answers at once when
  // its buffer was already handed to a request): wait for the loop to drain so the send is
  // counted too, with a safety exit for a tracer that keeps a referenced handle.
  const drained = await new Promise((resolve) => {
    process.once('beforeExit', () => resolve(true))
    setTimeout(() => resolve(false), DRAIN_SAFETY_MS).unref()
  })
  process.stdout.write(JSON.stringify({ iterations, drained }) + '\n')
  process.exit(0)
}

const DRAIN_SAFETY_MS = 15_000
