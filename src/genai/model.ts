import { asString, isRecord, type Reader } from './attrs.js'
import type { GenAiKind, GenAiSpanEvent } from './types.js'

export const NAME_KEYS = ['gen_ai.response.model', 'gen_ai.request.model', 'llm.model_name', 'embedding.model_name', 'langfuse.observation.model.name', 'ai.response.model', 'ai.model.id']
export const PROVIDER_KEYS = ['gen_ai.provider.name', 'gen_ai.system', 'llm.provider', 'llm.system', 'langfuse.observation.metadata.ls_provider', 'ai.model.provider']

/**
 * OTEL-FACTS §2.5, then the AI SDK's keys. The provider is lower-cased (as the event defaults do,
 * §4.5); the AI SDK names providers `openai.chat` / `openai.responses`, so when the value is the
 * AI SDK's own the API suffix is cut. Defaults apply only to llm and embedding spans: `unknown`
 * on OpenInference spans, `custom` otherwise. The two missing-model warnings are raised for those
 * kinds only (on a workflow span there is no model to miss).
 */
export function mapModel (r: Reader, kind: GenAiKind, kindSource: string | undefined): { modelName?: string, modelProvider?: string } {
  const out: { modelName?: string, modelProvider?: string } = {}
  const model = kind === 'llm' || kind === 'embedding'
  // Every key is read (not just the winner) so none of them is left over to become a tag.
  for (const k of NAME_KEYS) {
    const v = r.str(k)
    if (v !== undefined) out.modelName ??= v
  }
  for (const k of PROVIDER_KEYS) {
    const v = r.str(k)
    if (v === undefined || out.modelProvider !== undefined) continue
    const aiSdk = r.attrs['ai.model.provider']
    out.modelProvider = (v === aiSdk && v.includes('.') ? v.slice(0, v.indexOf('.')) : v).toLowerCase()
  }
  if (model) {
    const fallback = kindSource === 'openinference.span.kind' ? 'unknown' : 'custom'
    out.modelName ??= fallback
    out.modelProvider ??= fallback
    if (!r.has('gen_ai.response.model')) r.warn('otel_warning_missing_model_name')
    if (!r.has('gen_ai.provider.name')) r.warn('otel_warning_missing_model_provider')
  }
  return out
}

/**
 * `status.code` 2 (ERROR) is an error. The doc says "> 0", which would make OK (1) an error too
 * (OTEL-FACTS §5): we do not follow that literal reading. Message from the status, then the
 * first `exception` event; type from `error.type`, then the event; stack from the event.
 */
export function mapError (r: Reader, status: { code: number, message?: string } | undefined, events: GenAiSpanEvent[] | undefined): { message: string, type: string, stack?: string } | undefined {
  if (status === undefined || status.code !== 2) return undefined
  let ex: Record<string, unknown> | undefined
  if (Array.isArray(events)) {
    for (const e of events) if (isRecord(e) && e.name === 'exception' && isRecord(e.attributes)) { ex = e.attributes; break }
  }
  const message = (typeof status.message === 'string' && status.message !== '' ? status.message : undefined) ?? asString(ex?.['exception.message']) ?? ''
  const type = r.str('error.type') ?? asString(ex?.['exception.type']) ?? ''
  const err: { message: string, type: string, stack?: string } = { message, type }
  const stack = asString(ex?.['exception.stacktrace'])
  if (stack !== undefined) err.stack = stack
  return err
}
