import { createRequire } from 'node:module'
import type { Root, Type } from 'protobufjs'
import { OTLP_SCHEMA } from './otlp_schema.js'

/** The protobufjs message types the codec needs, built from the committed descriptor. */
export interface OtlpProtoTypes {
  request: Type
  response: Type
  status: Type
}

let types: OtlpProtoTypes | undefined

/**
 * Built on first use: a tracer that never speaks OTLP/protobuf never loads protobufjs nor
 * compiles its encoders. `protobufjs/light` is the runtime without the .proto parser; the
 * descriptor already is the parsed form.
 */
export function otlpProtoTypes (): OtlpProtoTypes {
  if (types === undefined) {
    const require = createRequire(import.meta.url)
    const protobuf = require('protobufjs/light.js') as { Root: { fromJSON (json: unknown): Root } }
    const root = protobuf.Root.fromJSON(OTLP_SCHEMA)
    types = {
      request: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
      response: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
      status: root.lookupType('google.rpc.Status'),
    }
  }
  return types
}
