import { execFileSync } from 'node:child_process'
import { startAgent } from './dist/src/agent/start_agent.js'
import { startFakeOpenAI } from './dist/test/helpers/fake_openai.js'
import { startFakeAnthropic } from './dist/test/helpers/fake_anthropic.js'
const agent = await startAgent({ port: 0, db: ':memory:' }); const o = await startFakeOpenAI(); const a = await startFakeAnthropic()
const env = { PATH: process.env.PATH, OPENAI_URL: o.url, ANTHROPIC_URL: a.url, DD_TRACE_AGENT_URL: agent.url, DD_LLMOBS_ENABLED: 'true', DD_LLMOBS_ML_APP: 'x' }
for (const args of [['test/fixtures/auto_esm.mjs'], ['--import', './dist/src/register.js', 'test/fixtures/auto_esm.mjs'], ['-r', './dist/src/register.js', 'test/fixtures/auto_cjs.cjs']]) {
  await fetch(agent.url + '/api/reset', { method: 'POST' })
  try { execFileSync(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'inherit'] }) } catch (e) { console.log('child failed') }
  const r = await (await fetch(agent.url + '/api/spans?limit=100')).json()
  console.log(args.join(' '), r.spans.length, r.spans.map(s => s.event.meta.model_name ?? s.name).sort().join(','))
}
await agent.close(); await o.close(); await a.close()
