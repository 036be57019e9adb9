import { llmobs } from 'llmobs-ts'

const exported = llmobs.exportSpan()
llmobs.submitEvaluation(exported, { label: 'sentiment', metricType: 'categorical', value: 'positive' })
llmobs.submitEvaluation(exported, { label: 'quality', metricType: 'score', value: 0.8, tags: { judge: 'gpt' }, mlApp: 'app', timestampMs: Date.now() })
llmobs.submitEvaluation(exported, { label: 'ok', metricType: 'boolean', value: true })
// @ts-expect-error a categorical value is a string
llmobs.submitEvaluation(exported, { label: 'sentiment', metricType: 'categorical', value: 1 })
// @ts-expect-error a score is a number
llmobs.submitEvaluation(exported, { label: 'quality', metricType: 'score', value: '0.8' })
// @ts-expect-error a boolean evaluation takes a boolean
llmobs.submitEvaluation(exported, { label: 'ok', metricType: 'boolean', value: 'yes' })
// @ts-expect-error not a metric type
llmobs.submitEvaluation(exported, { label: 'x', metricType: 'percentage', value: 5 })
