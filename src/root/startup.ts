import type { TracerConfig } from '../config/tracer_config.js'
import type { SamplingRule } from '../sampling/rules.js'
import { TRACER_VERSION } from '../version.js'

/**
 * What `DD_TRACE_DEBUG=true` prints once when a tracer starts: enough to answer "is it
 * configured the way I think" without reading code. Never the API key (the tracer's config has
 * none; LLM Observability logs its mode separately, once it is resolved).
 */
let autoInstrumented: readonly string[] | undefined

/** Called by `llmobs-ts/register` once its hooks are in: the block then names the modules. */
export function noteAutoInstrumentation (modules: readonly string[]): void {
  autoInstrumented = modules
}

export function startupBlock (config: TracerConfig): string {
  const agent = config.agent.kind === 'unix' ? `unix://${config.agent.socketPath}` : config.agent.origin
  const tags = Object.keys(config.tags).map((k) => `${k}:${config.tags[k]}`).join(',')
  const lines = [
    `llmobs-ts ${TRACER_VERSION} starting (node ${process.version}, pid ${process.pid})`,
    `  service: ${config.service}  env: ${config.env ?? '(none)'}  version: ${config.version ?? '(none)'}`,
    config.otlp !== undefined
      ? `  OTLP export: ${config.otlp.url} (${config.otlp.protocol}${config.otlp.compression === 'gzip' ? ', gzip' : ''}; headers: ${Object.keys(config.otlp.headers).join(', ') || '(none)'})  APM export: ${config.enabled ? 'on' : 'off (DD_TRACE_ENABLED=false): LLM spans only'}`
      : `  agent: ${agent}  APM export: ${config.enabled ? `on (${config.apiVersion})` : 'off (DD_TRACE_ENABLED=false)'}`,
    `  tags: ${tags === '' ? '(none)' : tags}`,
    `  sampling: ${config.samplingRules.length === 0 ? 'no rules (the agent\'s rates decide)' : config.samplingRules.map(describeRule).join('; ')}` +
      `; rate limit ${config.rateLimit < 0 ? 'unlimited' : `${config.rateLimit}/s`}`,
    `  integrations: ${autoInstrumented !== undefined ? `automatic (llmobs-ts/register): ${autoInstrumented.join(', ')}` : 'no automatic instrumentation (llmobs-ts/register not loaded); explicitly wrapped clients only'}`,
    '  LLM Observability: export mode logged once it is enabled and resolved',
  ]
  return lines.join('\n')
}

function describeRule (r: SamplingRule): string {
  const match = [r.service !== undefined ? `service=${r.service}` : '', r.name !== undefined ? `name=${r.name}` : '',
    r.resource !== undefined ? `resource=${r.resource}` : '',
    r.tags !== undefined ? Object.keys(r.tags).map((k) => `tags.${k}=${String(r.tags?.[k])}`).join(' ') : '']
    .filter((s) => s !== '').join(' ')
  return `${match === '' ? 'everything' : match} at ${r.sampleRate}`
}
