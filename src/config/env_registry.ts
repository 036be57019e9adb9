/**
 * Every environment variable the package reads, with its type and default. The README's
 * configuration table lists exactly these (a test checks it).
 */
export interface EnvVar {
  name: string
  type: 'string' | 'boolean' | 'integer' | 'number' | 'url' | 'json' | 'enum'
  default: string
  option: string
  description: string
}

export const ENV_VARS: readonly EnvVar[] = [
  { name: 'DD_SERVICE', type: 'string', default: 'DD_TAGS `service`, else the app\'s package.json name, else `node`', option: 'service', description: 'Service name on every span.' },
  { name: 'DD_ENV', type: 'string', default: 'DD_TAGS `env`, else none', option: 'env', description: 'Environment tag; also selects the agent sampling rate.' },
  { name: 'DD_VERSION', type: 'string', default: 'DD_TAGS `version`, else the app\'s package.json version', option: 'version', description: 'Application version tag on every span and event.' },
  { name: 'DD_TAGS', type: 'string', default: '(none)', option: 'tags', description: '`key:value` pairs, comma- or space-separated, on every APM span and LLM Observability event.' },
  { name: 'DD_TRACE_ENABLED', type: 'boolean', default: 'true', option: 'enabled', description: 'When false, spans are created but no APM payload is sent.' },
  { name: 'DD_TRACE_DEBUG', type: 'boolean', default: 'false', option: 'debug', description: 'Diagnostics logging to stderr.' },
  { name: 'DD_TRACE_API_VERSION', type: 'enum', default: 'v0.4', option: 'apiVersion', description: '`v0.4` or `v0.5` trace payloads (LLM Observability forces v0.4).' },
  { name: 'DD_TRACE_AGENT_URL', type: 'url', default: 'http://127.0.0.1:8126', option: 'url', description: 'Agent URL, `http://host:port` or `unix:///path.sock`.' },
  { name: 'DD_AGENT_HOST', type: 'string', default: '127.0.0.1', option: '—', description: 'Agent host when DD_TRACE_AGENT_URL is unset.' },
  { name: 'DD_TRACE_AGENT_PORT', type: 'integer', default: '8126', option: '—', description: 'Agent port when DD_TRACE_AGENT_URL is unset.' },
  { name: 'DD_TRACE_SAMPLING_RULES', type: 'json', default: '[]', option: 'samplingRules', description: 'JSON array of `{sample_rate, service?, name?, resource?, tags?}`; globs `*` and `?`.' },
  { name: 'DD_TRACE_SAMPLE_RATE', type: 'number', default: '(none: agent rates)', option: 'sampleRate', description: 'Catch-all sampling rule after DD_TRACE_SAMPLING_RULES, clamped to 0..1, under the rate limit.' },
  { name: 'DD_TRACE_RATE_LIMIT', type: 'number', default: '100', option: 'rateLimit', description: 'Rule-kept traces per second; negative means unlimited.' },
  { name: 'DD_TRACE_PARTIAL_FLUSH_MIN_SPANS', type: 'integer', default: '300', option: 'partialFlushMinSpans', description: 'Finished spans of an open trace that trigger a partial flush.' },
  { name: 'DD_TRACE_OTEL_ENABLED', type: 'boolean', default: 'false', option: 'otel', description: 'Implement the OpenTelemetry API: OTel spans (and OTel instrumentations) feed our traces.' },
  { name: 'DD_TRACE_FLUSH_INTERVAL', type: 'integer', default: '1000', option: 'flushIntervalMs', description: 'Milliseconds between trace payloads.' },
  { name: 'OTEL_SERVICE_NAME', type: 'string', default: '(none)', option: 'service', description: 'Service name when DD_SERVICE is unset (DD_SERVICE wins, as in dd-trace).' },
  { name: 'OTEL_RESOURCE_ATTRIBUTES', type: 'string', default: '(none)', option: '—', description: '`k=v` pairs, comma-separated, percent-decoded: tags under DD_TAGS (`service.name`, `deployment.environment[.name]`, `service.version` fill service, env, version) and, in OTLP mode, resource attributes as given.' },
  { name: 'OTEL_TRACES_EXPORTER', type: 'enum', default: '(none: the Datadog agent)', option: 'exporter', description: '`otlp`: every span goes out as OTLP/HTTP instead of to the agent (no Agent or EVP traffic).' },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', type: 'url', default: 'http://localhost:4318/v1/traces', option: 'otlp.endpoint', description: 'The URL spans are POSTed to, used as given.' },
  { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', type: 'url', default: 'http://localhost:4318', option: '—', description: 'Base URL when the traces endpoint is unset; `/v1/traces` is appended.' },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_HEADERS', type: 'string', default: '(none)', option: 'otlp.headers', description: '`k=v` pairs, comma-separated, percent-decoded; merged over OTEL_EXPORTER_OTLP_HEADERS key by key.' },
  { name: 'OTEL_EXPORTER_OTLP_HEADERS', type: 'string', default: '(none)', option: '—', description: 'Headers of every OTLP request (e.g. `dd-api-key=...,dd-otlp-source=llmobs`); never logged.' },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', type: 'enum', default: 'http/protobuf', option: 'otlp.protocol', description: '`http/protobuf` or `http/json`; `grpc` warns once and uses the default. Wins over OTEL_EXPORTER_OTLP_PROTOCOL.' },
  { name: 'OTEL_EXPORTER_OTLP_PROTOCOL', type: 'enum', default: 'http/protobuf', option: '—', description: 'As the traces-specific variable, when that is unset.' },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', type: 'integer', default: '10000', option: 'otlp.timeoutMs', description: 'Milliseconds one export may take, every retry and wait included. Wins over OTEL_EXPORTER_OTLP_TIMEOUT.' },
  { name: 'OTEL_EXPORTER_OTLP_TIMEOUT', type: 'integer', default: '10000', option: '—', description: 'As the traces-specific variable, when that is unset.' },
  { name: 'OTEL_EXPORTER_OTLP_TRACES_COMPRESSION', type: 'enum', default: 'none', option: 'otlp.compression', description: '`gzip` or `none`. Wins over OTEL_EXPORTER_OTLP_COMPRESSION.' },
  { name: 'OTEL_EXPORTER_OTLP_COMPRESSION', type: 'enum', default: 'none', option: '—', description: 'As the traces-specific variable, when that is unset.' },
  { name: 'DD_LLMOBS_ENABLED', type: 'boolean', default: 'false', option: '`llmobs.enable()`', description: 'Turns LLM Observability on at the first `llmobs.trace()` without calling `enable()`.' },
  { name: 'DD_LLMOBS_ML_APP', type: 'string', default: '`DD_SERVICE`, else `unnamed-ml-app`', option: 'mlApp', description: 'ml_app of LLM spans unless a parent or the span names one.' },
  { name: 'DD_LLMOBS_AGENTLESS_ENABLED', type: 'boolean', default: 'false', option: 'agentlessEnabled', description: 'Send LLM Observability straight to Datadog (needs DD_API_KEY).' },
  { name: 'DD_APM_TRACING_ENABLED', type: 'boolean', default: 'true', option: 'apmTracingEnabled', description: 'When false, LLM events ship directly and never ride APM traces.' },
  { name: 'DD_LLMOBS_SPOOL_DIR', type: 'string', default: '(none: spool off)', option: 'spool.dir', description: 'Directory of the durable spool: events survive a crash or kill and are replayed by the next process.' },
  { name: 'DD_LLMOBS_SPOOL_MAX_BYTES', type: 'integer', default: '268435456', option: 'spool.maxBytes', description: 'Disk the spool may use; past it events travel in memory only (counted spool_full).' },
  { name: 'DD_LLMOBS_SPOOL_FSYNC', type: 'enum', default: 'interval', option: 'spool.fsync', description: '`interval` (every 100 ms), `always` (every write batch) or `never` (the OS decides).' },
  { name: 'DD_API_KEY', type: 'string', default: '(none)', option: 'apiKey', description: 'Agentless only; sent as DD-API-KEY over HTTPS, never logged.' },
  { name: 'DD_SITE', type: 'string', default: 'datadoghq.com', option: 'site', description: 'Datadog site for agentless intake URLs.' },
]
