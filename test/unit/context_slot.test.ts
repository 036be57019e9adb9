import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { context, trace, ROOT_CONTEXT, createContextKey } from '@opentelemetry/api'
import { enableOtel } from '../../src/otel/enable.js'
import { isTraced, runTraced } from '../../src/integrations/guard.js'
import { isExporterContext, runAsExporter } from '../../src/trace/context_storage.js'
import { capture } from '../helpers/parity_compare.js'
import { closeRigs, rig } from '../helpers/llmobs_setup.js'

// One tracer for the file: the OTel globals are registered once per process.
const r = await rig()
enableOtel(r.tracer, { llmobs: r.llmobs })
const otel = trace.getTracer('context-slot-test')
after(closeRigs)

/** An event's tags as `key:value` strings (a list in EVP posts, a map in meta_struct). */
function tagsOf (e: Record<string, any>): string[] {
  return Array.isArray(e.tags) ? e.tags : Object.entries(e.tags ?? {}).map(([k, v]) => `${k}:${String(v)}`)
}

/** AsyncLocalStorage instances whose value Node 20 copied onto this promise (one symbol each). */
function storesOn (p: Promise<unknown>): number {
  return Object.getOwnPropertySymbols(p).filter((s) => s.description === 'kResourceStore').length
}

test('one async-context slot: inside an LLMObs span, an annotation context, an OTel context, an integration call and the exporter, a promise carries one store', async () => {
  await r.tracer.flush() // the exporter has run once: its mark is in use
  let counted = -1
  await r.llmobs.annotationContext({ tags: { team: 'a' } }, () =>
    r.llmobs.trace({ kind: 'workflow', name: 'wf' }, () =>
      context.with(context.active().setValue(createContextKey('k'), 1), () =>
        runTraced('openai', () => runAsExporter(async () => {
          const p = new Promise((resolve) => setImmediate(resolve))
          counted = storesOn(p)
          await p
        })))))
  // Node versions whose AsyncLocalStorage no longer writes onto promises count 0 here.
  assert.ok(counted <= 1, `the application's promises carry ${counted} async-context stores`)
  if (process.versions.node.startsWith('20.')) assert.equal(counted, 1)
})

test('every layer keeps its value through the others: LLMObs span under OTel contexts and APM spans, annotation tags, the integration mark, the exporter mark', async () => {
  const seen: Record<string, unknown> = {}
  await r.llmobs.annotationContext({ tags: { team: 'slot' } }, async () => {
    await r.llmobs.trace({ kind: 'workflow', name: 'outer' }, async (wf) => {
      // An OTel context entered inside the LLMObs span (what OTel instrumentations do)...
      const op = otel.startSpan('otel.op')
      await context.with(trace.setSpan(context.active(), op), async () => {
        // ...and an APM span inside that: the LLMObs span is still the one annotate() finds.
        await r.tracer.trace('apm.inner', async (apm) => {
          await Promise.resolve()
          seen.active = r.tracer.activeSpan() === apm
          seen.llmobs = r.llmobs.exportSpan()?.spanId === r.llmobs.exportSpan(wf)?.spanId
          r.llmobs.annotate({ outputData: 'from inside' })
          await runTraced('openai', async () => {
            await Promise.resolve()
            seen.traced = isTraced('openai')
            seen.otherTraced = isTraced('anthropic')
            await runAsExporter(async () => {
              await Promise.resolve()
              seen.exporter = isExporterContext()
              seen.exporterActive = r.tracer.activeSpan() === apm
            })
            seen.exporterAfter = isExporterContext()
          })
          seen.tracedAfter = isTraced('openai')
        })
      })
      op.end()
      // Entering the root OTel context clears the APM span, not the LLMObs span.
      context.with(ROOT_CONTEXT, () => {
        seen.rootActive = r.tracer.activeSpan()
        seen.rootLlmobs = r.llmobs.exportSpan()?.spanId === r.llmobs.exportSpan(wf)?.spanId
      })
      r.llmobs.trace({ kind: 'task', name: 'child' }, () => { seen.childOk = true })
    })
  })
  assert.deepEqual(seen, {
    active: true,
    llmobs: true,
    traced: true,
    otherTraced: false,
    exporter: true,
    exporterActive: true,
    exporterAfter: false,
    tracedAfter: false,
    rootActive: undefined,
    rootLlmobs: true,
    childOk: true,
  })
  await r.tracer.flush()
  const { events } = capture(r.sink)
  const outer = events.find((e) => e.name === 'outer') as Record<string, any>
  const child = events.find((e) => e.name === 'child') as Record<string, any>
  assert.ok(outer !== undefined && child !== undefined, `events: ${events.map((e) => String(e.name)).join(',')}`)
  assert.equal(outer.meta.output.value, 'from inside', 'annotate() inside the nested spans reached the LLMObs span')
  assert.ok(tagsOf(outer).includes('team:slot'), `the annotation context tagged the span started inside it: ${JSON.stringify(outer.tags)}`)
  assert.equal(child.parent_id, outer.span_id, 'a nested LLMObs span takes the LLMObs parent')
  assert.ok(tagsOf(child).includes('team:slot'))
})
