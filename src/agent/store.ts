import { mkdirSync } from 'node:fs'
import { dirname } from 'node:path'
import { COUNTER_NAMES, type CounterName, type Counters, zeroCounters } from './counters.js'
import { openDatabase, type SqliteDatabase, type SqliteStatement } from './sqlite.js'
import { PriceTable, shippedPrices } from './prices.js'
import { type Derived, deriveColumns } from './span_derive.js'
import { Rollups, type SpanCols } from './store_rollups.js'
import { SCHEMA, migrate } from './store_schema.js'
import { StoreQueries } from './store_queries.js'

/** How an LLMObs span event arrived: riding an APM trace, through the EVP proxy, agentless, or mapped from OTLP. */
export type ArrivalPath = 'trace' | 'evp' | 'agentless' | 'otlp'

export interface NewSpan {
  traceId: string
  spanId: string
  parentId: string | null
  name: string
  kind: string | null
  mlApp: string | null
  status: string
  /** Decimal nanoseconds since the epoch (exact). */
  startNs: string
  duration: number
  path: ArrivalPath
  /** The span event as the intake sees it, as JSON text. */
  event: string
  /**
   * The same event as an object, when its producer has one: what `JSON.parse(event)` gives
   * (no undefined, bigint or non-finite values), so the store need not parse it again.
   */
  doc?: unknown
}

/** Summary of one APM chunk as the agent saw it (kept or dropped by sampling). */
export interface NewChunk {
  /** APM trace id, 32 lowercase hex. */
  traceId: string
  rootName: string
  service: string
  /** undefined when no span carried `_sampling_priority_v1`. */
  priority: number | undefined
  kept: boolean
  spanCount: number
  error: boolean
  /** Spans carrying `meta_struct._llmobs`. */
  llmobsSpans: number
  /** '/v0.4/traces', '/v0.5/traces' or '/v1/input'. */
  endpoint: string
}

export interface NewEvaluation {
  traceId: string | null
  spanId: string | null
  label: string
  metricType: string
  /** JSON text of the metric's value. */
  value: string
  mlApp: string | null
  timestampMs: number | null
  path: ArrivalPath
  event: string
}

/** Everything one accepted request stores, written in one transaction. */
export interface Batch {
  spans: NewSpan[]
  chunks: NewChunk[]
  evaluations: NewEvaluation[]
  counts: Partial<Counters>
}

const DERIVED_COLUMNS = 'start_int, is_root, session_id, model_name, model_provider, input_tokens, output_tokens, ' +
  'total_tokens, usage_source, cost_usd, priced, error_message, error_type'

/** A root span: no parent, or the placeholders tracers send for none. */
function isRoot (parentId: string | null): number {
  return parentId === null || parentId === 'undefined' || parentId === '' || parentId === '0' ? 1 : 0
}

/**
 * A stored span's rollup columns as SQLite gives them back (numbers as bound, start_int as
 * decimal text); undefined when a text is not well-formed UTF-16: better-sqlite3 stores a lone
 * surrogate as bytes that read back as other characters, so that trace is read back instead.
 */
function spanCols (s: NewSpan, d: Derived, isRoot: number, id: number | bigint): SpanCols | undefined {
  if (!wellFormed(s.spanId) || !wellFormed(s.name) || !wellFormed(s.status) || !wellFormed(s.mlApp) || !wellFormed(s.kind) ||
    !wellFormed(d.sessionId) || !wellFormed(d.modelName) || !wellFormed(d.usageSource)) return undefined
  return {
    id: Number(id),
    span_id: s.spanId,
    name: s.name,
    status: s.status,
    duration: s.duration,
    ml_app: s.mlApp,
    session_id: d.sessionId,
    is_root: isRoot,
    start: d.startInt.toString(),
    kind: s.kind,
    model_name: d.modelName,
    input_tokens: d.inputTokens,
    output_tokens: d.outputTokens,
    total_tokens: d.totalTokens,
    cost_usd: d.costUsd,
    priced: d.priced,
    path: s.path,
    usage_source: d.usageSource,
  }
}

interface WellFormed { isWellFormed: () => boolean }

function wellFormed (v: string | null): boolean {
  return v === null || (v as unknown as WellFormed).isWellFormed()
}

export function newBatch (): Batch {
  return { spans: [], chunks: [], evaluations: [], counts: {} }
}

export function count (batch: Batch, name: CounterName, n = 1): void {
  batch.counts[name] = (batch.counts[name] ?? 0) + n
}

/**
 * APM chunk summaries are kept for the UI, not as the product: past this many the oldest are
 * pruned, so a long-running agent's database (or memory, with ':memory:') stays bounded.
 * (LLMObs span events are bounded by retention.ts.)
 */
const MAX_CHUNK_SUMMARIES = 100_000
const PRUNE_EVERY = 10_000

/**
 * The local agent's storage (better-sqlite3): LLMObs span events, APM chunk summaries,
 * evaluations and counters. All writes of a request go through `commit` in one transaction, so a
 * request is stored entirely or not at all. Reads are for the query API and in-process tests.
 */
export interface StoreOptions {
  /** Prices for span costs (default: the table shipped in the package). */
  prices?: PriceTable
}

export class Store {
  readonly queries: StoreQueries
  /** @internal The price table costs are computed from. */
  readonly prices: PriceTable
  /** @internal For the query modules and retention: the database itself (writes belong to `commit`). */
  readonly db: SqliteDatabase
  private readonly rollups: Rollups
  private readonly insertFts: SqliteStatement
  private readonly insertEvent: SqliteStatement
  private readonly setSeq: SqliteStatement
  private seq = 0
  private spanRows = 0
  private readonly memory: Counters
  private readonly insertSpan: SqliteStatement
  private readonly insertChunk: SqliteStatement
  private readonly insertEvaluation: SqliteStatement
  private readonly addCounter: SqliteStatement
  private readonly commitTx: (batch: Batch, now: number) => { spans: number, evaluations: number }
  private chunksSincePrune = 0
  private closed = false

  /** @internal `filename` is ':memory:' or a file path (its directory is created on demand). */
  constructor (filename: string, options: StoreOptions = {}) {
    this.prices = options.prices ?? new PriceTable(shippedPrices())
    if (filename !== ':memory:' && filename !== '') mkdirSync(dirname(filename), { recursive: true })
    const db = openDatabase(filename)
    this.db = db
    try {
      if (filename !== ':memory:' && filename !== '') {
        // WAL: readers (the UI) never block the writer; NORMAL sync is durable enough for a dev store.
        db.pragma('journal_mode = WAL')
        db.pragma('synchronous = NORMAL')
      }
      // 64 MiB of page cache: inserts touch a dozen B-trees (indexes, full-text, rollups) whose
      // pages would otherwise be evicted and re-read for every batch (5x slower at 1M spans).
      db.pragma('cache_size = -65536')
      db.pragma('temp_store = MEMORY')
      db.exec(SCHEMA)
      const seed = db.prepare('INSERT OR IGNORE INTO counters (name, value) VALUES (?, 0)')
      for (const name of COUNTER_NAMES) seed.run(name)
      const removed = migrate(db, () => this.backfill())
      this.rollups = new Rollups(db)
      if (removed > 0) db.prepare('UPDATE counters SET value = value + ? WHERE name = ?').run(removed, 'evaluation_duplicates_suppressed')
      this.memory = zeroCounters()
      for (const row of db.prepare('SELECT name, value FROM counters').all() as Array<{ name: string, value: number }>) {
        if ((COUNTER_NAMES as readonly string[]).includes(row.name)) this.memory[row.name as CounterName] = row.value
      }
      this.insertSpan = db.prepare(`INSERT OR IGNORE INTO llmobs_spans
        (trace_id, span_id, parent_id, name, kind, ml_app, status, start_ns, duration, path, received_at,
        ${DERIVED_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ${DERIVED_COLUMNS.split(',').map(() => '?').join(', ')})`)
      this.insertEvent = db.prepare('INSERT INTO llmobs_events (id, event) VALUES (?, ?)')
      this.insertFts = db.prepare('INSERT INTO llmobs_fts (rowid, body) VALUES (?, ?)')
      db.prepare("INSERT OR IGNORE INTO counters (name, value) VALUES ('write_seq', 0)").run()
      this.setSeq = db.prepare("UPDATE counters SET value = ? WHERE name = 'write_seq'")
      this.seq = (db.prepare("SELECT value FROM counters WHERE name = 'write_seq'").get() as { value: number }).value
      this.spanRows = (db.prepare('SELECT COUNT(*) AS n FROM llmobs_spans').get() as { n: number }).n
      this.insertChunk = db.prepare(`INSERT INTO apm_chunks
        (trace_id, root_name, service, priority, kept, span_count, error, llmobs_spans, endpoint, received_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      this.insertEvaluation = db.prepare(`INSERT OR IGNORE INTO evaluations
        (trace_id, span_id, label, metric_type, value, ml_app, timestamp_ms, path, event, received_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
      this.addCounter = db.prepare('UPDATE counters SET value = value + ? WHERE name = ?')
      this.commitTx = db.transaction((batch: Batch, now: number) => this.write(batch, now))
      this.queries = new StoreQueries(db)
    } catch (err) {
      db.close()
      throw err
    }
  }

  /**
   * @internal Writes belong to the agent's HTTP endpoints.
   * Stores a request's batch in one transaction; events whose (trace_id, span_id) is already
   * stored are counted in `duplicates_suppressed` instead, evaluations whose identity is
   * (store_schema.ts) in `evaluation_duplicates_suppressed`. Returns the span event duplicates.
   */
  commit (batch: Batch, now: number = Date.now()): number {
    const duplicates = this.commitTx(batch, now)
    for (const name of Object.keys(batch.counts) as CounterName[]) this.memory[name] += batch.counts[name] ?? 0
    this.memory.duplicates_suppressed += duplicates.spans
    this.memory.evaluation_duplicates_suppressed += duplicates.evaluations
    this.chunksSincePrune += batch.chunks.length
    if (this.chunksSincePrune >= PRUNE_EVERY) this.prune()
    return duplicates.spans
  }

  /** @internal Counts that store nothing else (rejected requests, faults). */
  bump (name: CounterName, n = 1): void {
    if (this.closed) return
    this.addCounter.run(n, name)
    this.memory[name] += n
  }

  counters (): Counters {
    return { ...this.memory }
  }

  /** @internal Deletes everything stored and zeroes the counters (the write sequence goes on, for pollers). */
  reset (): void {
    this.db.transaction(() => {
      this.db.exec(`DELETE FROM llmobs_spans; DELETE FROM llmobs_events; DELETE FROM apm_chunks; DELETE FROM evaluations; DELETE FROM llm_traces;
        DELETE FROM llm_sessions; DELETE FROM llmobs_fts; UPDATE counters SET value = 0 WHERE name != 'write_seq';`)
    })()
    for (const name of COUNTER_NAMES) this.memory[name] = 0
    this.chunksSincePrune = 0
    this.spanRows = 0
  }

  /** The latest write sequence number (/api/changes). */
  get writeSeq (): number { return this.seq }

  /** LLMObs span rows stored (kept in memory: retention checks it on every tick). */
  get spanCount (): number { return this.spanRows }

  /**
   * Deletes the given span rows, their full-text entries, and the evaluations of traces left
   * with no span; refreshes the trace and session rows. For retention (one small batch per call).
   */
  removeSpans (rows: ReadonlyArray<{ id: number, trace_id: string }>): { spans: number, evaluations: number } {
    if (rows.length === 0 || this.closed) return { spans: 0, evaluations: 0 }
    const out = this.db.transaction(() => {
      const del = this.db.prepare('DELETE FROM llmobs_spans WHERE id = ?')
      const delEvent = this.db.prepare('DELETE FROM llmobs_events WHERE id = ?')
      const delFts = this.db.prepare('DELETE FROM llmobs_fts WHERE rowid = ?')
      let spans = 0
      for (const r of rows) {
        spans += del.run(r.id).changes
        delEvent.run(r.id)
        delFts.run(r.id)
      }
      const traces = new Set(rows.map((r) => r.trace_id))
      this.seq++
      this.setSeq.run(this.seq)
      this.rollups.refresh(traces, this.seq)
      let evaluations = 0
      const gone = this.db.prepare('SELECT 1 FROM llm_traces WHERE trace_id = ?')
      const delEvals = this.db.prepare('DELETE FROM evaluations WHERE trace_id = ?')
      for (const t of traces) if (gone.get(t) === undefined) evaluations += delEvals.run(t).changes
      return { spans, evaluations }
    })()
    this.spanRows -= out.spans
    return out
  }

  get isOpen (): boolean { return !this.closed }

  /** @internal Idempotent; `agent.close()` calls it. */
  close (): void {
    if (this.closed) return
    this.closed = true
    this.db.close()
  }

  private write (batch: Batch, now: number): { spans: number, evaluations: number } {
    let duplicates = 0
    let evaluationDuplicates = 0
    const touched = new Set<string>()
    // The rollup columns of the spans stored here, by trace: a new trace's row is made from them.
    const fresh = new Map<string, SpanCols[] | null>()
    for (const s of batch.spans) {
      const d = deriveColumns(s.doc ?? s.event, s.kind, s.startNs, this.prices)
      const root = isRoot(s.parentId)
      const r = this.insertSpan.run(s.traceId, s.spanId, s.parentId, s.name, s.kind, s.mlApp, s.status, s.startNs,
        s.duration, s.path, now, d.startInt, root, d.sessionId, d.modelName, d.modelProvider,
        d.inputTokens, d.outputTokens, d.totalTokens, d.usageSource, d.costUsd, d.priced, d.errorMessage, d.errorType)
      if (r.changes === 0) { duplicates++; continue }
      this.insertEvent.run(r.lastInsertRowid, s.event)
      this.insertFts.run(r.lastInsertRowid, d.text)
      this.spanRows++
      touched.add(s.traceId)
      const cols = spanCols(s, d, root, r.lastInsertRowid)
      const list = fresh.get(s.traceId)
      // null: a span of the trace could not be given as stored; its spans are read back.
      if (cols === undefined) fresh.set(s.traceId, null)
      else if (list === undefined) fresh.set(s.traceId, [cols])
      else list?.push(cols)
    }
    for (const c of batch.chunks) {
      this.insertChunk.run(c.traceId, c.rootName, c.service, c.priority ?? null, c.kept ? 1 : 0, c.spanCount,
        c.error ? 1 : 0, c.llmobsSpans, c.endpoint, now)
    }
    for (const e of batch.evaluations) {
      const r = this.insertEvaluation.run(e.traceId, e.spanId, e.label, e.metricType, e.value, e.mlApp, e.timestampMs, e.path, e.event, now)
      if (r.changes === 0) evaluationDuplicates++
      else if (e.traceId !== null) touched.add(e.traceId)
    }
    if (touched.size > 0) {
      this.seq++
      this.setSeq.run(this.seq)
      this.rollups.refresh(touched, this.seq, fresh)
    }
    for (const name of Object.keys(batch.counts) as CounterName[]) {
      const n = batch.counts[name] ?? 0
      if (n !== 0) this.addCounter.run(n, name)
    }
    if (duplicates > 0) this.addCounter.run(duplicates, 'duplicates_suppressed')
    if (evaluationDuplicates > 0) this.addCounter.run(evaluationDuplicates, 'evaluation_duplicates_suppressed')
    return { spans: duplicates, evaluations: evaluationDuplicates }
  }

  /** Schema version 2 on a store written by an older agent: derives what it did not store. */
  private backfill (): void {
    const db = this.db
    const update = db.prepare(`UPDATE llmobs_spans SET ${DERIVED_COLUMNS.split(',').map((c) => `${c.trim()} = ?`).join(', ')} WHERE id = ?`)
    const fts = db.prepare('INSERT INTO llmobs_fts (rowid, body) VALUES (?, ?)')
    const rows = db.prepare('SELECT s.id, s.parent_id, s.kind, s.start_ns, e.event FROM llmobs_spans s JOIN llmobs_events e ON e.id = s.id').all() as Array<{ id: number, parent_id: string | null, kind: string | null, start_ns: string, event: string }>
    for (const r of rows) {
      const d = deriveColumns(r.event, r.kind, r.start_ns, this.prices)
      update.run(d.startInt, isRoot(r.parent_id), d.sessionId, d.modelName, d.modelProvider, d.inputTokens, d.outputTokens,
        d.totalTokens, d.usageSource, d.costUsd, d.priced, d.errorMessage, d.errorType, r.id)
      fts.run(r.id, d.text)
    }
    const traces = (db.prepare('SELECT DISTINCT trace_id FROM llmobs_spans').all() as Array<{ trace_id: string }>).map((t) => t.trace_id)
    new Rollups(db).refresh(traces, 0)
  }

  private prune (): void {
    this.chunksSincePrune = 0
    this.db.prepare('DELETE FROM apm_chunks WHERE id <= (SELECT MAX(id) FROM apm_chunks) - ?').run(MAX_CHUNK_SUMMARIES)
  }
}
