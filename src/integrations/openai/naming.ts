import type { ApmTags } from '../llm_call.js'
import type { CallNames } from '../provider_call.js'
import { rec, str, type Rec } from '../shape.js'

/**
 * Names of an OpenAI call as dd-trace 5 writes them (OTEL-FACTS §4.1): the LLMObs span is
 * `<Client>.<method>` with the client and the provider read off the base URL, so Azure and
 * DeepSeek endpoints reached through the OpenAI SDK are told apart; the APM span is
 * `openai.request` with the SDK method path as resource.
 */

export type OpenAIMethod = 'createChatCompletion' | 'createCompletion' | 'createEmbedding' | 'createResponse'

/** Unlike dd-trace (`unknown`), any other base URL counts as OpenAI: it is the OpenAI SDK, mostly pointed at a proxy or gateway. */
export function openaiProvider (baseURL: string): { provider: string, client: string } {
  if (baseURL.includes('azure')) return { provider: 'azure_openai', client: 'AzureOpenAI' }
  if (baseURL.includes('deepseek')) return { provider: 'deepseek', client: 'DeepSeek' }
  return { provider: 'openai', client: 'OpenAI' }
}

export function openaiNames (method: OpenAIMethod, sdkPath: string, endpoint: string) {
  return (self: unknown, body: Rec | undefined): CallNames => {
    const baseURL = str(rec(rec(self)?._client)?.baseURL) ?? ''
    const { provider, client } = openaiProvider(baseURL)
    const tags: ApmTags = {
      component: 'openai',
      'span.kind': 'client',
      'openai.request.model': str(body?.model),
      'openai.request.endpoint': basePath(baseURL) + endpoint,
      'openai.request.method': 'POST',
    }
    if (body?.stream === true) tags['openai.request.stream'] = 1
    return { name: `${client}.${method}`, provider, apm: { name: 'openai.request', resource: sdkPath, type: 'openai', tags } }
  }
}

/** `/openai/v1` of `http://host/openai/v1/`: dd-trace's endpoint tag is the request path. */
function basePath (baseURL: string): string {
  try { return new URL(baseURL).pathname.replace(/\/+$/, '') } catch { return '' }
}
