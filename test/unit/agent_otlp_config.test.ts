import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { AGENT_ENV_VARS, parseOtlpPort, resolveAgentEnv } from '../../src/config/agent_config.js'
import { AGENT_OPTIONS, parseAgentArgs } from '../../src/cli/agent.js'

function agentTable (): string[][] {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8').split('\n')
  const start = readme.findIndex((l) => l.startsWith('| agent variable |'))
  assert.ok(start >= 0, 'README has the local agent variable table')
  const rows: string[][] = []
  for (let i = start + 2; i < readme.length && readme[i].startsWith('|'); i++) rows.push(readme[i].split('|').slice(1, -1).map((c) => c.trim()))
  return rows
}

test('the README table of the local agent variables is agent_config.ts, row for row', () => {
  const rows = agentTable()
  assert.deepEqual(rows.map((r) => r[0]), AGENT_ENV_VARS.map((v) => `\`${v.name}\``))
  for (const [i, v] of AGENT_ENV_VARS.entries()) {
    assert.equal(rows[i][1], `\`${v.option}\``, v.name)
    assert.equal(rows[i][4], v.description, v.name)
    const flag = rows[i][2].replace(/`/g, '')
    assert.ok((AGENT_OPTIONS as readonly string[]).includes(flag), `${v.name}: ${flag} is an agent flag`)
  }
})

test('LLMOBS_AGENT_OTLP_PORT and --otlp-port: a port, 0, or off; anything else is refused', () => {
  assert.equal(resolveAgentEnv({ LLMOBS_AGENT_OTLP_PORT: '4319' }).otlpPort, 4319)
  assert.equal(resolveAgentEnv({ LLMOBS_AGENT_OTLP_PORT: '0' }).otlpPort, 0)
  assert.equal(resolveAgentEnv({ LLMOBS_AGENT_OTLP_PORT: 'off' }).otlpPort, false)
  assert.equal('otlpPort' in resolveAgentEnv({ LLMOBS_AGENT_OTLP_PORT: '70000' }), false, 'malformed: warned and ignored')
  assert.equal('otlpPort' in resolveAgentEnv({}), false)
  assert.equal(parseOtlpPort('65535'), 65535)
  assert.equal(parseOtlpPort('-1'), undefined)
  const ok = parseAgentArgs(['--otlp-port', '0'])
  assert.ok(ok.ok && ok.options.otlpPort === 0)
  const off = parseAgentArgs(['--otlp-port=off'])
  assert.ok(off.ok && off.options.otlpPort === false)
  const bad = parseAgentArgs(['--otlp-port', 'http'])
  assert.ok(!bad.ok && /--otlp-port must be 0-65535 or off/.test(bad.error))
})
