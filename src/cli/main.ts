#!/usr/bin/env node
import { runAgentCommand } from './agent.js'
import { runDemo } from './demo/demo.js'

/**
 * `llmobs-ts <command>`. Commands are added as their pieces land: `demo` (the main job run by
 * `npm start`), `agent` (the embedded local agent).
 */
const USAGE = `usage: llmobs-ts <command> [options]

commands:
  agent [--host h] [--port p] [--db file|:memory:] [--api-key k]
                                    run the embedded local agent + intake + UI (default 127.0.0.1:8126)
  demo [--once] [--sample-rate r]   run the sample LLM app on the local agent, print the delivery ledger
`

async function main (argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  switch (command) {
    case 'demo': return runDemo(rest)
    case 'agent': return runAgentCommand(rest)
    case undefined:
    case '-h':
    case '--help':
      process.stdout.write(USAGE)
      return command === undefined ? 1 : 0
    default:
      process.stderr.write(`llmobs-ts: unknown command "${command}"\n${USAGE}`)
      return 2
  }
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err: unknown) => {
  // A missing optional dependency is the user's next step, not a bug: its message, no stack.
  const expected = (err as { code?: unknown } | null)?.code === 'ERR_LLMOBS_SQLITE_MISSING'
  process.stderr.write(`llmobs-ts: ${err instanceof Error ? (expected ? err.message : err.stack ?? err.message) : String(err)}\n`)
  process.exitCode = 1
})
