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
