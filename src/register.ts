/**
 * `node --import llmobs-ts/register app.mjs` (ESM) or `node -r llmobs-ts/register app.cjs`
 * (CommonJS; Node >= 20.19 loads this ES module through require(esm), so it must never use
 * top-level await): traces the OpenAI, Anthropic and Vercel AI SDK clients the application
 * loads afterwards. Tracing and LLM Observability are configured from the environment
 * (`DD_LLMOBS_ENABLED`, `DD_LLMOBS_ML_APP`, `DD_TRACE_AGENT_URL`, ...).
 */
import { installAutoInstrumentation } from './integrations/auto.js'

installAutoInstrumentation()
