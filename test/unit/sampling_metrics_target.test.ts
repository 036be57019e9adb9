import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Tracer } from '../../src/root/tracer.js'
import type { SpanData } from '../../src/model/span_data.js'

// The decision's rate metrics describe the trace: they go on its local root wherever the root
// sits in the chunk (a user processor may reorder spans), and only once.
test('sampling: the decision metrics land on the local root even when it is not the first span of the chunk', async () => {
  const tracer = new Tracer({ enabled: false, service: 'svc' })
  let seen: SpanData[] = []
  tracer.addProcessor((spans) => { seen = spans.slice().reverse(); return seen })
  const root = tracer.startSpan('root')
  const child = tracer.startSpan('child', { childOf: root })
  child.finish()
  root.finish()
  assert.equal(seen.length, 2)
  assert.equal(seen[1], root, 'the processor put the root second')
  assert.equal((root.metrics as Record<string, number>)['_dd.agent_psr'], 1)
  assert.equal((child.metrics as Record<string, number>)['_dd.agent_psr'], undefined)
  // _sampling_priority_v1 goes on the chunk's first span, as the Agent reads it there.
  assert.equal((child.metrics as Record<string, number>)._sampling_priority_v1, 1)
  await tracer.shutdown(100)
})
