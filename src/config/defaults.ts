/**
 * Every default in one table, with units and the reason. The README's configuration table is
 * checked against src/config/env_registry.ts, which points here.
 */
export const DEFAULTS = {
  agentUrl: 'http://127.0.0.1:8126',
  apiVersion: 'v0.4' as 'v0.4' | 'v0.5',
  /** Traces are batched for a second: cheap for the app, fresh enough for the UI. */
  traceFlushIntervalMs: 1000,
  /** Encoded bytes buffered or in flight before new chunks are dropped (and counted). */
  traceBufferCapBytes: 16 * 1024 * 1024,
  /** One payload at most; the Agent accepts 25 MiB, we stay far below so a 413 is rare. */
  tracePayloadMaxBytes: 8 * 1024 * 1024,
  /**
   * Under load, send once this much is waiting rather than filling a whole payload: memory held
   * per payload (buffer + retries) stays small and the agent sees a steady stream.
   */
  traceFlushAtBytes: 1024 * 1024,
  traceRequestTimeoutMs: 10_000,
  /** Finished spans of one open trace that force a partial flush (bounds memory of long traces). */
  partialFlushMinSpans: 300,
  /**
   * Traces holding finished spans while some of their spans are still open. A parent that
   * finishes late or never would otherwise keep its finished children (and their LLM events)
   * for the life of the process; past the bound the oldest is sent as a partial trace.
   */
  maxOpenTraces: 2000,
  /** ...and for at most this long (an agent loop of several minutes still gets one chunk per 2 min). */
  maxOpenTraceAgeMs: 120_000,
  /** `tracer.flush()` / `llmobs.flush()` without a timeout resolve within this (what is left stays pending, owned by the ledger). */
  flushTimeoutMs: 5000,
  /**
   * `llmobs.flushTrace()` / `flush({ trace })` and the serverless helpers: one trace's payloads
   * take one round trip to a healthy agent; past this a request stops waiting (what is left stays
   * pending, owned by the ledger) rather than spend its latency budget on a slow agent.
   */
  traceFlushTimeoutMs: 2000,
  /** Rule-based sampling decisions per second (keeps only; agent rates are not limited). */
  rateLimit: 100,
  /** `tracer.shutdown()` waits at most this long for the agent. */
  shutdownTimeoutMs: 10_000,
  /**
   * On natural exit (`beforeExit`) the flush holds the process at most this long: long enough
   * for a healthy agent, short enough that a dead one does not visibly hang the exit.
   */
  exitFlushTimeoutMs: 5000,
  llmobs: {
    site: 'datadoghq.com',
    flushIntervalMs: 1000,
    /** The intake caps a payload at 5 MiB; the Agent's EVP proxy at 10 MiB. */
    payloadMaxBytes: 5 * 1024 * 1024,
    /** Enough to ride out an outage of many seconds at hundreds of LLM spans per second. */
    bufferMaxEvents: 10_000,
    bufferMaxBytes: 16 * 1024 * 1024,
    requestTimeoutMs: 5000,
    /**
     * An event whose payload failed is put back and retried across payloads for this long after
     * its first attempt (then dropped as retries_exhausted): the buffer rides out an outage.
     */
    itemDeadlineMs: 30_000,
    /** 1 MiB − 1 KiB of JSON: the intake refuses events of 1 MB, the KiB is envelope room. */
    eventSizeLimit: 1_047_552,
    /** Annotation containers nested deeper are sent as their JSON string. */
    maxAnnotationDepth: 12,
  },
  spool: {
    /**
     * Disk the spool may take (segments of this process and those it adopted). Past it new
     * events travel in memory only (counted spool_full): the spool never fills a disk.
     */
    maxBytes: 256 * 1024 * 1024,
    /** `interval` bounds what a power loss can take to this window; a crash of the process loses nothing. */
    fsync: 'interval' as 'interval' | 'always' | 'never',
    fsyncIntervalMs: 100,
    /** A segment rolls over past this: a segment is deleted whole, so smaller ones free disk sooner. */
    segmentMaxBytes: 8 * 1024 * 1024,
    /**
     * Replayed events handed to the LLMObs writer and not settled yet, at most: a large spool
     * must not overflow the writer's buffer and be dropped as buffer_full.
     */
    replayMaxItems: 2000,
    replayMaxBytes: 8 * 1024 * 1024,
  },
  otlp: {
    /** The OTel spec's default for OTLP/HTTP traces: a Collector on this machine. */
    url: 'http://localhost:4318/v1/traces',
    protocol: 'http/protobuf' as 'http/protobuf' | 'http/json',
    /** The spec's default: one export, every retry and wait of it included, ends within this. */
    timeoutMs: 10_000,
    compression: 'none' as 'gzip' | 'none',
    /** Spans buffered before new ones are dropped (counted): the bound on memory during an outage. */
    maxQueueSpans: 20_000,
    /** Spans per request (otel-js's BatchSpanProcessor default is 512; the intakes take far more). */
    maxBatchSpans: 2048,
    /** Requests in flight at once; more waiting spans stay queued (and count against the bound). */
    maxInflight: 4,
  },
  retry: {
    maxAttempts: 5,
    /** Full jitter: each wait is uniform in [0, min(max, base * 2^attempt)]. */
    baseDelayMs: 100,
    maxDelayMs: 5000,
    /** Per payload, all attempts and waits included; a Retry-After past it ends the retries. */
    deadlineMs: 30_000,
  },
} as const
