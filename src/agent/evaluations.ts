import type { ArrivalPath, NewEvaluation } from './store.js'
import { invalid, isObject, jsonType, optionalString, optionalStringList } from './json_checks.js'

const VALUE_TYPES: Record<string, 'string' | 'number' | 'boolean'> = {
  categorical: 'string',
  score: 'number',
  boolean: 'boolean',
}

/**
 * An eval-metric body (`/api/intake/llm-obs/v2/eval-metric`, or through the EVP proxy with
 * subdomain `api`): `{"data": {"type": "evaluation_metric", "attributes": {"metrics": [...]}}}`.
 * Each metric joins on a span (`join_on.span {span_id, trace_id}`, or the older top-level
 * `span_id`/`trace_id`) or on a tag (`join_on.tag {key, value}`), has a label, a metric_type of
 * categorical | score | boolean and the matching `<type>_value`. Throws InvalidInput.
 */
export function evaluationsFromBody (doc: unknown, path: ArrivalPath): NewEvaluation[] {
  if (!isObject(doc)) invalid(`body must be an object {"data": ...}, got ${jsonType(doc)}`)
  const data = doc.data
  if (!isObject(data)) invalid(`field "data" must be an object, got ${jsonType(data)}`)
  const type = optionalString(data, 'type', 'data')
  if (type !== undefined && type !== 'evaluation_metric') invalid(`data: field "type" must be "evaluation_metric", got ${JSON.stringify(type.slice(0, 64))}`)
  const attributes = data.attributes
  if (!isObject(attributes)) invalid(`data: field "attributes" must be an object, got ${jsonType(attributes)}`)
  const metrics = attributes.metrics
  if (!Array.isArray(metrics)) invalid(`data.attributes: field "metrics" must be a list, got ${jsonType(metrics)}`)
  return metrics.map((m, i) => checkMetric(m, path, `metric ${i}`))
}

function checkMetric (m: unknown, path: ArrivalPath, where: string): NewEvaluation {
  if (!isObject(m)) invalid(`${where} must be an object, got ${jsonType(m)}`)
  let spanId: string | undefined
  let traceId: string | undefined
  const join = m.join_on
  if (join !== undefined && join !== null) {
    if (!isObject(join)) invalid(`${where}: field "join_on" must be an object, got ${jsonType(join)}`)
    if (isObject(join.span)) {
      spanId = requiredString(join.span, 'span_id', `${where}.join_on.span`)
      traceId = requiredString(join.span, 'trace_id', `${where}.join_on.span`)
    } else if (isObject(join.tag)) {
      requiredString(join.tag, 'key', `${where}.join_on.tag`)
      requiredString(join.tag, 'value', `${where}.join_on.tag`)
    } else {
      invalid(`${where}: field "join_on" needs a "span" or a "tag" object`)
    }
  } else {
    spanId = requiredString(m, 'span_id', where)
    traceId = requiredString(m, 'trace_id', where)
  }
  const label = requiredString(m, 'label', where)
  const metricType = requiredString(m, 'metric_type', where)
  const valueType = VALUE_TYPES[metricType]
  if (valueType === undefined) invalid(`${where}: field "metric_type" must be categorical, score or boolean, got ${JSON.stringify(metricType.slice(0, 64))}`)
  const valueKey = `${metricType}_value`
  const value = m[valueKey]
  if (typeof value !== valueType || (valueType === 'number' && !Number.isFinite(value))) {
    invalid(`${where}: field "${valueKey}" must be a ${valueType}, got ${jsonType(value)}`)
  }
  const ts = m.timestamp_ms
  if (ts !== undefined && ts !== null && (typeof ts !== 'number' || !Number.isFinite(ts))) {
    invalid(`${where}: field "timestamp_ms" must be a number, got ${jsonType(ts)}`)
  }
  optionalStringList(m, 'tags', where)
  return {
    traceId: traceId ?? null,
    spanId: spanId ?? null,
    label,
    metricType,
    value: JSON.stringify(value),
    mlApp: optionalString(m, 'ml_app', where) ?? null,
    timestampMs: typeof ts === 'number' ? Math.round(ts) : null,
    path,
    event: JSON.stringify(m),
  }
}

function requiredString (obj: Record<string, unknown>, key: string, where: string): string {
  const v = obj[key]
  if (typeof v !== 'string' || v === '') invalid(`${where}: field "${key}" must be a non-empty string, got ${jsonType(v)}`)
  return v
}
