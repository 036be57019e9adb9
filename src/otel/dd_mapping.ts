/**
 * How an OpenTelemetry span looks as a Datadog span: the Datadog Agent's OTLP mapping, V2 naming
 * (Agent 7.66+, ../shared/OTEL-FACTS.md §1.4), so a span looks the same whether it reached Datadog
 * through the Agent's OTLP intake or through this bridge. Pure: plain values in, fields out.
 */

export type OtelAttrValue = string | number | boolean | Array<string | number | boolean | null | undefined> | null | undefined
export type OtelAttributes = Record<string, OtelAttrValue>

/** @opentelemetry/api's SpanKind numbering. */
export const KIND_INTERNAL = 0
export const KIND_SERVER = 1
export const KIND_CLIENT = 2
export const KIND_PRODUCER = 3
export const KIND_CONSUMER = 4

const KIND_NAMES = ['internal', 'server', 'client', 'producer', 'consumer']

export interface OtelEventInput { name: string, timeUnixNano: bigint, attributes: OtelAttributes | undefined }
export interface OtelLinkInput { traceId: string, spanId: string, traceFlags: number | undefined, traceState: string | undefined, attributes: OtelAttributes | undefined }

export interface OtelSpanInput {
  name: string
  kind: number
  attributes: OtelAttributes
  /** Resource attributes (the lookup falls back to them after the span's own). */
  resource: OtelAttributes
  status: { code: 0 | 1 | 2, message: string | undefined }
  events: OtelEventInput[]
  links: OtelLinkInput[]
  scope: { name: string, version: string | undefined }
  /** Full trace id, 32 hex. */
  traceId: string
}

export interface DdSpanFields {
  name: string
  resource: string
  type: string
  service: string | undefined
  error: 0 | 1
  meta: Record<string, string>
  metrics: Record<string, number>
}

/** Keys the Agent reads as Datadog conventions and never copies into meta. */
const CONVENTION_KEYS = new Set(['service.name', 'operation.name', 'resource.name', 'span.type'])

/** mapping-go's HTTP remaps: the semantic-convention key is written under the Datadog name and dropped. */
const HTTP_REMAP: Record<string, string> = {
  'http.request.method': 'http.method',
  'http.response.status_code': 'http.status_code',
  'url.full': 'http.url',
  'client.address': 'http.client_ip',
  'server.address': 'http.server_name',
  'user_agent.original': 'http.useragent',
  'network.protocol.version': 'http.version',
  'http.request.body.size': 'http.request.content_length',
  'http.response.body.size': 'http.response.content_length',
  'http.request.header.referrer': 'http.referrer',
}

const SQL_SYSTEMS = new Set(['postgresql', 'mysql', 'mssql', 'oracle', 'db2', 'sqlite', 'mariadb', 'clickhouse',
  'cockroachdb', 'derby', 'h2', 'hsqldb', 'informix', 'interbase', 'firebird', 'sybase', 'teradata', 'vertica',
  'redshift', 'trino', 'spanner', 'hive', 'other_sql', 'pointbase', 'progress', 'cloudscape', 'edb', 'filemaker',
  'ingres', 'instantdb', 'maxdb', 'netezza', 'pervasive', 'adabas', 'cache', 'mssqlcompact', 'tidb'])
const DB_TYPES: Record<string, string> = {
  redis: 'redis', memcached: 'memcached', mongodb: 'mongodb', cassandra: 'cassandra', elasticsearch: 'elasticsearch', opensearch: 'opensearch',
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout',
  409: 'Conflict', 413: 'Payload Too Large', 422: 'Unprocessable Entity', 429: 'Too Many Requests', 500: 'Internal Server Error',
  501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
}

/** Meta keys the mapping reads back (or deletes) after writing them: see `writesInPlace`. */
const READ_BACK = new Set(['db.name', 'error.msg', ...Object.values(HTTP_REMAP)])

/**
 * The Datadog fields of an OTel span. With `into` (the span's own meta and metrics, already
 * holding the tracer's tags) the mapping's tags land there, overriding what they name, as if
 * built apart and then `Object.assign`ed; they are written in place when that is provably the
 * same (it saves two objects and a copy per span), else built apart and copied.
 */
export function mapOtelSpan (s: OtelSpanInput, into?: { meta: Record<string, string>, metrics: Record<string, number> }): DdSpanFields {
  const inPlace = into !== undefined && writesInPlace(s, into.meta, into.metrics)
  const meta: Record<string, string> = inPlace ? into.meta : {}
  const metrics: Record<string, number> = inPlace ? into.metrics : {}

  // Resource attributes first, so the span's own attributes win on the same key.
  // Own keys only (not `for…in`): a polluted Object.prototype must not become tags.
  const resource = s.resource
  const rKeys = Object.keys(resource)
  for (let i = 0; i < rKeys.length; i++) copyAttribute(rKeys[i], resource[rKeys[i]], meta, metrics, true)
  const attributes = s.attributes
  const aKeys = Object.keys(attributes)
  for (let i = 0; i < aKeys.length; i++) copyAttribute(aKeys[i], attributes[aKeys[i]], meta, metrics, false)

  meta['span.kind'] = KIND_NAMES[s.kind] ?? 'unspecified'
  meta['otel.trace_id'] = s.traceId
  meta['otel.scope.name'] = s.scope.name
  meta['otel.library.name'] = s.scope.name
  if (s.scope.version !== undefined) {
    meta['otel.scope.version'] = s.scope.version
    meta['otel.library.version'] = s.scope.version
  }
  meta['otel.status_code'] = s.status.code === 2 ? 'Error' : s.status.code === 1 ? 'Ok' : 'Unset'
  if (s.status.message !== undefined && s.status.message !== '') meta['otel.status_description'] = s.status.message
  const env = str(s, 'deployment.environment.name') ?? str(s, 'deployment.environment')
  if (env !== undefined) meta.env = env
  const version = str(s, 'service.version')
  if (version !== undefined) meta.version = version
  const dbNamespace = str(s, 'db.namespace')
  if (dbNamespace !== undefined && meta['db.name'] === undefined) meta['db.name'] = dbNamespace

  const error: 0 | 1 = s.status.code === 2 ? 1 : 0
  if (error === 1 && meta['error.msg'] === undefined) {
    const status = metrics['http.status_code']
    if (s.status.message !== undefined && s.status.message !== '') meta['error.msg'] = s.status.message
    else if (status !== undefined) meta['error.msg'] = `${status} ${STATUS_TEXT[status] ?? ''}`.trim()
  }

  if (s.events.length > 0) {
    meta.events = JSON.stringify(s.events.map((e) => {
      const out: Record<string, unknown> = { time_unix_nano: e.timeUnixNano, name: e.name }
      if (e.attributes !== undefined && Object.keys(e.attributes).length > 0) out.attributes = e.attributes
      return out
    }), (_k, v: unknown) => typeof v === 'bigint' ? Number(v) : v)
    if (s.events.some((e) => e.name.toLowerCase() === 'exception')) meta['_dd.span_events.has_exception'] = 'true'
  }
  if (s.links.length > 0) {
    meta['_dd.span_links'] = JSON.stringify(s.links.map((l) => {
      const out: Record<string, unknown> = { trace_id: l.traceId, span_id: l.spanId }
      if (l.traceState !== undefined && l.traceState !== '') out.tracestate = l.traceState
      if (l.attributes !== undefined && Object.keys(l.attributes).length > 0) {
        const attrs: Record<string, string> = {}
        for (const [k, v] of Object.entries(l.attributes)) if (v !== undefined && v !== null) attrs[k] = asString(v)
        out.attributes = attrs
      }
      if (l.traceFlags !== undefined) out.flags = l.traceFlags
      return out
    }))
  }
  const analytics = get(s, 'analytics.event')
  if (analytics !== undefined) metrics['_dd1.sr.eausr'] = truthy(analytics) ? 1 : 0
  if (into !== undefined && !inPlace) {
    Object.assign(into.meta, meta)
    Object.assign(into.metrics, metrics)
  }

  return {
    name: operationName(s),
    resource: resourceName(s),
    type: spanType(s),
    service: str(s, 'service.name'),
    error,
    meta,
    metrics,
  }
}

/**
 * Whether writing straight into the span's meta and metrics gives what building apart and
 * `Object.assign`ing would: the mapping only ever reads back or deletes a meta key it may have
 * written itself (`db.name`, `error.msg`, the target of a numeric attribute), so the tags already
 * there must not be among those, nor the `http.status_code` metric it reads. Resource attributes
 * take the copy (they may write a key a numeric span attribute then deletes).
 */
function writesInPlace (s: OtelSpanInput, meta: Record<string, string>, metrics: Record<string, number>): boolean {
  for (const _ in s.resource) return false
  if (metrics['http.status_code'] !== undefined) return false
  for (const k in meta) {
    if (READ_BACK.has(k) || s.attributes[k] !== undefined || k.startsWith('http.request.headers.')) return false
  }
  return true
}

function get (s: OtelSpanInput, key: string): OtelAttrValue {
  return s.attributes[key] ?? s.resource[key]
}

function str (s: OtelSpanInput, key: string): string | undefined {
  const v = s.attributes[key] ?? s.resource[key]
  return v === undefined || v === null || v === '' ? undefined : String(v)
}

function copyAttribute (key: string, v: OtelAttrValue, meta: Record<string, string>, metrics: Record<string, number>, fromResource: boolean): void {
  if (v === undefined || v === null || CONVENTION_KEYS.has(key) || key === 'analytics.event') return
  let k = HTTP_REMAP[key] ?? key
  if (k === key && key.startsWith('http.request.header.')) k = 'http.request.headers.' + key.slice('http.request.header.'.length)
  if (k === 'http.status_code') {
    // The newest Agent writes the status code as a metric only.
    const n = typeof v === 'number' ? v : Number(v)
    if (Number.isFinite(n)) metrics[k] = n
    return
  }
  if (fromResource) {
    // Resource attributes are all strings in meta, and only where the span has nothing.
    meta[k] = asString(v)
    return
  }
  if (typeof v === 'number') {
    if (Number.isFinite(v)) { metrics[k] = v; delete meta[k] }
    return
  }
  meta[k] = asString(v)
}

function asString (v: Exclude<OtelAttrValue, undefined | null>): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return JSON.stringify(v)
}

function truthy (v: OtelAttrValue): boolean {
  return v === true || v === 1 || v === 'true'
}

function norm (v: string): string {
  return v.toLowerCase()
}

function operationName (s: OtelSpanInput): string {
  const explicit = str(s, 'operation.name')
  if (explicit !== undefined) return norm(explicit)
  const kind = s.kind
  const method = str(s, 'http.request.method') ?? str(s, 'http.method')
  if (method !== undefined) {
    if (kind === KIND_SERVER) return 'http.server.request'
    if (kind === KIND_CLIENT) return 'http.client.request'
  }
  const db = str(s, 'db.system.name') ?? str(s, 'db.system')
  if (db !== undefined && kind === KIND_CLIENT) return `${norm(db)}.query`
  const msgSystem = str(s, 'messaging.system')
  const msgOp = str(s, 'messaging.operation.type') ?? str(s, 'messaging.operation')
  if (msgSystem !== undefined && msgOp !== undefined && kind !== KIND_INTERNAL) return `${norm(msgSystem)}.${norm(msgOp)}`
  const rpc = str(s, 'rpc.system')
  if (rpc === 'aws-api' && kind === KIND_CLIENT) {
    const service = str(s, 'rpc.service')
    return service !== undefined ? `aws.${norm(service)}.request` : 'aws.client.request'
  }
  if (rpc !== undefined && kind === KIND_CLIENT) return `${norm(rpc)}.client.request`
  if (rpc !== undefined && kind === KIND_SERVER) return `${norm(rpc)}.server.request`
  const faasProvider = str(s, 'faas.invoked_provider')
  const faasName = str(s, 'faas.invoked_name')
  if (faasProvider !== undefined && faasName !== undefined && kind === KIND_CLIENT) return `${norm(faasProvider)}.${norm(faasName)}.invoke`
  const trigger = str(s, 'faas.trigger')
  if (trigger !== undefined && kind === KIND_SERVER) return `${norm(trigger)}.invoke`
  if (str(s, 'graphql.operation.type') !== undefined) return 'graphql.server.request'
  const protocol = str(s, 'network.protocol.name')
  if (kind === KIND_SERVER) return protocol !== undefined ? `${norm(protocol)}.server.request` : 'server.request'
  if (kind === KIND_CLIENT) return protocol !== undefined ? `${norm(protocol)}.client.request` : 'client.request'
  // The Agent's code returns the pdata kind name ("Internal"); its docs show it lower-cased.
  return KIND_NAMES[kind] ?? 'internal'
}

function resourceName (s: OtelSpanInput): string {
  const explicit = str(s, 'resource.name')
  if (explicit !== undefined) return explicit
  const method = str(s, 'http.request.method') ?? str(s, 'http.method')
  if (method !== undefined) {
    const m = method === '_OTHER' ? 'HTTP' : method
    const route = str(s, 'http.route')
    return s.kind === KIND_SERVER && route !== undefined ? `${m} ${route}` : m
  }
  const msgOp = str(s, 'messaging.operation.type') ?? str(s, 'messaging.operation')
  if (msgOp !== undefined) {
    const dest = str(s, 'messaging.destination') ?? str(s, 'messaging.destination.name')
    return dest !== undefined ? `${msgOp} ${dest}` : msgOp
  }
  const rpcMethod = str(s, 'rpc.method')
  if (rpcMethod !== undefined) {
    const service = str(s, 'rpc.service')
    return service !== undefined ? `${rpcMethod} ${service}` : rpcMethod
  }
  const gql = str(s, 'graphql.operation.type')
  if (gql !== undefined) {
    const op = str(s, 'graphql.operation.name')
    return op !== undefined ? `${gql} ${op}` : gql
  }
  if (str(s, 'db.system.name') !== undefined || str(s, 'db.system') !== undefined) {
    const statement = str(s, 'db.statement') ?? str(s, 'db.query.text')
    if (statement !== undefined) return statement
  }
  return s.name !== '' ? s.name : operationName(s)
}

function spanType (s: OtelSpanInput): string {
  const explicit = str(s, 'span.type')
  if (explicit !== undefined) return explicit
  if (s.kind === KIND_SERVER) return 'web'
  if (s.kind === KIND_CLIENT) {
    const db = str(s, 'db.system.name') ?? str(s, 'db.system')
    if (db === undefined) return 'http'
    const d = db.toLowerCase()
    if (SQL_SYSTEMS.has(d)) return 'sql'
    return DB_TYPES[d] ?? 'db'
  }
  return 'custom'
}
