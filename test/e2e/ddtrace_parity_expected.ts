import type { Expected } from '../helpers/parity_compare.js'

export const EXPECTED_DIFFERENCES: Expected[] = []
