import { admissionKey, ARTIFICIAL_GEN_AI_TAGS_KEY, ARTIFICIAL_GEN_AI_TAGS_VALUE, mapGenAiSpan, type GenAiIO, type GenAiResult } from '../genai/index.js'
import { rootLlmobsLink, type LLMObs, type LlmobsLink } from '../llmobs/sdk.js'
import { getState, type LlmobsSpanState } from '../llmobs/span_state.js'
import { hexToDecimal } from '../model/ids.js'
import type { Span } from '../trace/span.js'
import type { OtelBridge, SpanLifecycle } from './bridge.js'
import type { BridgeSpan } from './bridge_span.js'

type LlmobsParent = { bridge: BridgeSpan } | { native: Span }

/** What the GenAI lifecycle keeps per bridge span. */
interface GenAiInfo {
  /** Admitted by its start attributes: children may take it as their LLMObs parent. */
  candidate: boolean
  /** A candidate predicted to be an llm/embedding span (the "one call, one span" rule). */
  modelCall: boolean
  parent: LlmobsParent | undefined
  /** Its LLMObs trace and parent, fixed the first time a child or its own end asks. */
  link: LlmobsLink | undefined
  /** Nearest model-call candidate at or above this span. */
  modelCallAbove: BridgeSpan | undefined
  /** Another span (ours) already records this provider call: stay an APM span. */
  superseded: boolean
  /** One of our model spans started under this span (attributes may admit it only at its end). */
  ourModelInside: boolean
  /** The bridge span this one was started under, if any. */
  above: BridgeSpan | undefined
}

const MODEL_KINDS = new Set(['llm', 'embedding'])

/**
 * OTel GenAI spans → LLM Observability spans. At `end()` the shared mapping (src/genai) reads the
 * span's attributes; an admitted span is adopted by LLM Observability just before it finishes, so
 * its event is built, rides or is rescued, and is ledgered like any other. Its APM span keeps
 * its `gen_ai.*` tags with `_dd.llmobs.artificial_gen_ai_tags:"true"`: Datadog's backend converts
 * APM spans carrying `gen_ai.*` tags itself, and must not do it a second time.
 *
 * One call, one span: when our integration (wrapOpenAI, automatic mode, the AI SDK middleware)
 * and an OTel GenAI instrumentation both trace one provider call, our integration's span wins
 * (it carries stream status, usage provenance and our tool-call handling); the OTel span stays an
 * APM span, marked so the backend does not convert it either. The two are the same call when one
 * is an llm/embedding span nested in the other.
 */
export class GenAiLifecycle implements SpanLifecycle {
  private readonly live = new Map<string, BridgeSpan>()
  /** Our model spans per trace (bounded): an OTel model span of the same call may be a sibling. */
  private readonly ours = new WeakMap<object, Array<{ span: Span, state: LlmobsSpanState }>>()

  constructor (private readonly bridge: OtelBridge, private readonly llmobs: LLMObs) {
    llmobs.onSpanStart((span, state) => { this.onLlmobsStart(span, state) })
  }

  onStart (span: BridgeSpan, parent: Span | undefined): void {
    const candidate = hasAny(span.attributes) && admissionKey(span.attributes) !== undefined
    let modelCall = false
    if (candidate) {
      const r = this.map(span)
      modelCall = r.admitted && MODEL_KINDS.has(r.kind)
    }
    const above = parent === undefined ? undefined : this.bridge.bridgeSpanOf(parent)
    const aboveInfo = above?.genai as GenAiInfo | undefined
    let llmobsParent: LlmobsParent | undefined
    if (above !== undefined && aboveInfo?.candidate === true) llmobsParent = { bridge: above }
    else if (parent !== undefined && getState(parent) !== undefined) llmobsParent = { native: parent }
    else if (aboveInfo !== undefined) llmobsParent = aboveInfo.parent
    else {
      const active = this.llmobs.activeLlmobsSpan()
      if (active !== undefined && active.traceId === span.dd.traceId) llmobsParent = { native: active }
    }
    const info: GenAiInfo = {
      candidate,
      modelCall,
      parent: llmobsParent,
      link: undefined,
      modelCallAbove: modelCall ? span : aboveInfo?.modelCallAbove,
      superseded: false,
      ourModelInside: false,
      above,
    }
    // Our integration's model span around this OTel one: the same call, traced already.
    if (modelCall && llmobsParent !== undefined && 'native' in llmobsParent && isModelCall(getState(llmobsParent.native))) info.superseded = true
    span.genai = info
    // Every live bridge span: an instrumentation may set its admitting attributes only at the end.
    this.live.set(span.dd.spanId, span)
  }

  beforeFinish (span: BridgeSpan): void {
    const info = span.genai as GenAiInfo | undefined
    this.live.delete(span.dd.spanId)
    // Most spans are not GenAI spans: the admission probe alone, not the mapping's input and result.
    if (admissionKey(span.attributes) === undefined) return
    const r = this.map(span)
    if (!r.admitted) return
    // Decided again at the end, for spans whose GenAI attributes arrived after their start.
    const insideOurs = info?.parent !== undefined && 'native' in info.parent && isModelCall(getState(info.parent.native))
    if (MODEL_KINDS.has(r.kind) && (info?.superseded === true || info?.ourModelInside === true || insideOurs || this.sameCallTraced(span, r.modelName, r.modelProvider))) {
      span.dd.meta[ARTIFICIAL_GEN_AI_TAGS_KEY] = ARTIFICIAL_GEN_AI_TAGS_VALUE
      return
    }
    const tags: Record<string, string> = { ...r.tags }
    if (r.warnings.length > 0) tags.collection_errors = r.warnings.join(',')
    if (r.error !== undefined) {
      // The event's error comes from these (the Agent's mapping alone writes `error.msg`).
      span.dd.error = 1
      span.dd.meta['error.message'] = r.error.message
      span.dd.meta['error.type'] = r.error.type
      if (r.error.stack !== undefined) span.dd.meta['error.stack'] = r.error.stack
    }
    const adopted = this.llmobs.adoptSpan(span.dd, {
      kind: r.kind,
      name: r.name,
      modelName: r.modelName,
      modelProvider: r.modelProvider,
      sessionId: r.sessionId,
      mlApp: r.mlApp,
    }, {
      inputData: ioData(r.input),
      outputData: ioData(r.output),
      metadata: r.metadata,
      metrics: r.metrics,
      tags,
      toolDefinitions: r.toolDefinitions,
    }, this.linkOf(span))
    if (adopted) span.dd.meta[ARTIFICIAL_GEN_AI_TAGS_KEY] = ARTIFICIAL_GEN_AI_TAGS_VALUE
  }

  /**
   * An LLMObs span of ours started under an OTel model-call span: that OTel span is superseded.
   * Under a live OTel GenAI span, ours nests under it in LLM Observability too: our SDK sees only
   * its own spans as parents, and the OTel one becomes an LLMObs span only when it ends.
   */
  private onLlmobsStart (span: Span, state: LlmobsSpanState): void {
    if (this.bridge.bridgeSpanOf(span)?.owned === true) return // an OTel span being adopted: linked already
    if (isModelCall(state)) {
      const list = this.ours.get(span.trace) ?? []
      if (list.length < 256) list.push({ span, state })
      this.ours.set(span.trace, list)
    }
    const parent = this.live.get(span.parentId)
    const info = parent?.genai as GenAiInfo | undefined
    if (parent === undefined || info === undefined || parent.dd.traceId !== span.traceId) return
    if (isModelCall(state)) {
      for (let b: BridgeSpan | undefined = parent; b !== undefined; b = (b.genai as GenAiInfo | undefined)?.above) {
        const i = b.genai as GenAiInfo | undefined
        if (i === undefined || i.ourModelInside) break
        i.ourModelInside = true
      }
    }
    if (isModelCall(state) && info.modelCallAbove !== undefined) (info.modelCallAbove.genai as GenAiInfo).superseded = true
    // The nearest OTel GenAI span that will be an LLMObs span; a superseded one hands on its own parent.
    const p: LlmobsParent | undefined = info.candidate && !info.superseded ? { bridge: parent } : info.parent
    if (p === undefined || !('bridge' in p)) return // our SDK found the native parent itself
    state.traceId = this.linkOf(p.bridge).traceId
    state.parentId = hexToDecimal(p.bridge.dd.spanId)
  }

  /**
   * An SDK may start its own OTel span beside our integration's rather than inside it (the
   * Anthropic SDK's stream helper does): the same call when one of our model spans in this trace
   * ran at the same time, for the same provider and model.
   */
  private sameCallTraced (span: BridgeSpan, model: string | undefined, provider: string | undefined): boolean {
    const list = this.ours.get(span.dd.trace)
    if (list === undefined || model === undefined) return false
    const start = startNs(span.dd)
    const now = Date.now() * 1e6
    return list.some(({ span: o, state }) => {
      const oStart = startNs(o)
      if (oStart > now || (o.isFinished && oStart + o.duration < start)) return false
      const p = state.modelProvider?.toLowerCase()
      if (p !== undefined && provider !== undefined && p !== provider && p !== 'custom') return false
      const m = state.modelName
      return m !== undefined && (model.startsWith(m) || m.startsWith(model))
    })
  }

  private linkOf (span: BridgeSpan): LlmobsLink {
    const info = span.genai as GenAiInfo | undefined
    if (info?.link !== undefined) return info.link
    const p = info?.parent
    let link: LlmobsLink
    if (p === undefined) link = rootLlmobsLink(span.dd.trace.tags)
    else if ('bridge' in p) link = { traceId: this.linkOf(p.bridge).traceId, parentId: hexToDecimal(p.bridge.dd.spanId), mlApp: undefined }
    else {
      const st = getState(p.native)
      link = st === undefined
        ? rootLlmobsLink(span.dd.trace.tags)
        : { traceId: st.traceId, parentId: st.spanIdDec ??= hexToDecimal(p.native.spanId), mlApp: st.mlApp }
    }
    if (info !== undefined) info.link = link
    return link
  }

  private map (span: BridgeSpan): GenAiResult {
    return mapGenAiSpan({
      name: span.name,
      kind: span.kind,
      attributes: span.attributes,
      resource: this.bridge.resource,
      events: span.events,
      status: span.status,
      scope: span.scope,
    })
  }
}

/** Cheaper than probing every admission key of a span started without attributes (most are). */
function hasAny (o: object): boolean {
  for (const _ in o) return true
  return false
}

function startNs (s: Span): number {
  return s.startSec * 1e9 + s.startNsec
}

function isModelCall (state: LlmobsSpanState | undefined): boolean {
  return state !== undefined && MODEL_KINDS.has(state.kind)
}

function ioData (io: GenAiIO): unknown {
  return io.messages ?? io.documents ?? io.value
}
