#!/usr/bin/env node
import { AGENT_USAGE, runAgentCommand } from './agent.js'
import { DEMO_USAGE, runDemo } from './demo/demo.js'
import { TRACER_VERSION } from '../version.js'

/** `llmobs-ts <command>`: `demo` (what `npm start` runs) and `agent` (the embedded local agent). */
const USAGE = `usage: llmobs-ts <command> [options]
       llmobs-ts --version | --help
       llmobs-ts <command> --help

commands:
  agent   run the embedded local agent + intake + UI (default 127.0.0.1:8126)
  demo    run the sample LLM app on the local agent, print the delivery ledger

${indent(AGENT_USAGE)}
${indent(DEMO_USAGE)}`

function indent (text: string): string {
  return text.trimEnd().split('\n').map((l) => l === '' ? '' : `  ${l}`).join('\n') + '\n'
}

async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'demo': return runDemo(rest)
    case 'agent': return runAgentCommand(rest)
    case '-v':
    case '--version':
      process.stdout.write(`llmobs-ts ${TRACER_VERSION}\n`)
      return 0
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE)
      return command === undefined ? 1 : 0
    default:
      process.stderr.write(`llmobs-ts: unknown command "${command}" (commands: agent, demo; see llmobs-ts --help)\n`)
      return 2
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err: unknown) => {
  // A missing optional dependency is the user's next step, not a bug: its message, no stack.
  const expected = (err as { code?: unknown } | null)?.code === 'ERR_LLMOBS_SQLITE_MISSING'
  process.stderr.write(`llmobs-ts: ${err instanceof Error ? (expected ? err.message : err.stack ?? err.message) : String(err)}\n`)
  process.exitCode = 1
})
