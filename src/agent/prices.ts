import { readFileSync } from 'node:fs'

/** One row of the price table: USD per 1,000,000 tokens for model names matching `pattern`. */
export interface PriceRow {
  /** A glob (`*`, `?`) or `/regex/`, matched case-insensitively against the model name. */
  pattern: string
  provider?: string
  input: number
  output: number
  /** Price of cache-read input tokens; absent: they cost `input`. */
  cached_input?: number
  /** Price of reasoning output tokens; absent: they cost `output`. */
  reasoning?: number
  /** When the price was valid (YYYY-MM-DD). */
  date: string
  source: string
}

export interface SpanUsage {
  input: number
  output: number
  cacheRead: number
  reasoning: number
}

export interface PriceRef { pattern: string, date: string, source: string }

interface Compiled { row: PriceRow, test: (model: string) => boolean }

/**
 * The model price table: user rows first (they override shipped ones, the first match wins),
 * then the table shipped in the package (prices.json). An unknown model has no price: cost is
 * null, never a guess.
 */
export class PriceTable {
  private readonly rows: Compiled[]
  private readonly cache = new Map<string, Compiled | null>()

  constructor (rows: readonly PriceRow[]) {
    this.rows = rows.map((row) => ({ row, test: compilePattern(row.pattern) }))
  }

  lookup (model: string | null | undefined): PriceRow | undefined {
    if (model === null || model === undefined || model === '') return undefined
    let hit = this.cache.get(model)
    if (hit === undefined) {
      // Provider-qualified names ("openai/gpt-4o", "models/gemini-2.0-flash") match on their last part too.
      const bare = model.slice(model.lastIndexOf('/') + 1)
      hit = this.rows.find((c) => c.test(model) || c.test(bare)) ?? null
      if (this.cache.size > 10_000) this.cache.clear()
      this.cache.set(model, hit)
    }
    return hit?.row
  }

  /** USD for one span's usage, or null when the model has no price. */
  cost (model: string | null | undefined, usage: SpanUsage): number | null {
    const p = this.lookup(model)
    if (p === undefined) return null
    const cached = Math.min(usage.cacheRead, usage.input)
    const reasoning = Math.min(usage.reasoning, usage.output)
    const usd = (usage.input - cached) * p.input + cached * (p.cached_input ?? p.input) +
      (usage.output - reasoning) * p.output + reasoning * (p.reasoning ?? p.output)
    return usd / 1_000_000
  }

  ref (model: string | null | undefined): PriceRef | null {
    const p = this.lookup(model)
    return p === undefined ? null : { pattern: p.pattern, date: p.date, source: p.source }
  }
}

function compilePattern (pattern: string): (model: string) => boolean {
  if (pattern.length > 2 && pattern.startsWith('/') && pattern.endsWith('/')) {
    const re = new RegExp(pattern.slice(1, -1), 'i')
    return (m) => re.test(m)
  }
  const re = new RegExp('^' + pattern.split('').map((c) => c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')).join('') + '$', 'i')
  return (m) => re.test(m)
}

let shipped: PriceRow[] | undefined

/** The table shipped in the package (src/agent/prices.json, copied next to this file). */
export function shippedPrices (): PriceRow[] {
  if (shipped === undefined) {
    const doc = JSON.parse(readFileSync(new URL('./prices.json', import.meta.url), 'utf8')) as { prices: unknown }
    shipped = checkPriceRows(doc.prices, 'prices.json').rows
  }
  return shipped
}

/**
 * Validates user price rows (`[row...]` or `{"prices": [row...]}`): bad rows are left out, each
 * with a reason for the one warning the caller gives.
 */
export function checkPriceRows (doc: unknown, where: string): { rows: PriceRow[], problems: string[] } {
  const list = Array.isArray(doc) ? doc : doc !== null && typeof doc === 'object' && Array.isArray((doc as { prices?: unknown }).prices) ? (doc as { prices: unknown[] }).prices : undefined
  if (list === undefined) return { rows: [], problems: [`${where}: expected a list of price rows or {"prices": [...]}`] }
  const rows: PriceRow[] = []
  const problems: string[] = []
  list.forEach((r: unknown, i) => {
    const why = rowProblem(r)
    if (why !== undefined) { problems.push(`${where} row ${i}: ${why}`); return }
    rows.push(r as PriceRow)
  })
  return { rows, problems }
}

const PRICE_KEYS = ['input', 'output', 'cached_input', 'reasoning'] as const

function rowProblem (r: unknown): string | undefined {
  if (r === null || typeof r !== 'object' || Array.isArray(r)) return 'not an object'
  const row = r as Record<string, unknown>
  if (typeof row.pattern !== 'string' || row.pattern === '') return '"pattern" must be a non-empty string'
  try { compilePattern(row.pattern) } catch { return `"pattern" ${JSON.stringify(row.pattern.slice(0, 64))} is not a valid regex` }
  for (const k of PRICE_KEYS) {
    const v = row[k]
    const optional = k === 'cached_input' || k === 'reasoning'
    if (optional && v === undefined) continue
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return `"${k}" must be a non-negative number (USD per 1M tokens)`
  }
  if (typeof row.date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(row.date)) return '"date" must be YYYY-MM-DD'
  if (typeof row.source !== 'string' || row.source === '') return '"source" must be a non-empty string (where the price comes from)'
  if (row.provider !== undefined && typeof row.provider !== 'string') return '"provider" must be a string'
  return undefined
}

/** Reads a price file for an override; problems are returned for one warning. */
export function readPriceFile (path: string): { rows: PriceRow[], problems: string[] } {
  let doc: unknown
  try {
    doc = JSON.parse(readFileSync(path, 'utf8'))
  } catch (err) {
    return { rows: [], problems: [`price file ${path}: ${err instanceof Error ? err.message : String(err)}`] }
  }
  return checkPriceRows(doc, `price file ${path}`)
}
