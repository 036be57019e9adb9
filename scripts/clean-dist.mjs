// Builds start from an empty dist/: a file moved or deleted in src/ must not survive as a stale
// compiled copy (it would be packed, and tests could import it).
import { rmSync } from 'node:fs'
rmSync(new URL('../dist/', import.meta.url), { recursive: true, force: true })
