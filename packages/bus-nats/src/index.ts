export { relayEvents } from './relay.js';
export type { EventRelay } from './relay.js';
export { createPredictionConsumer, deadLetterHeaders } from './prediction-consumer.js';
export type {
  PredictionConsumer,
  PredictionConsumerStats,
  PredictionResult,
} from './prediction-consumer.js';
export type { EventCursor } from './cursor.js';
export { predictionConsumerOptionsSchema, relayEventsOptionsSchema } from './options.js';
export type { LogEntry, PredictionConsumerOptions, RelayEventsOptions } from './options.js';
export { parseJobLine } from './jobs.js';
export type { BadLine, BatchRows, Job, JobId } from './jobs.js';
export { nothingServes, predictWhenServing } from './serving.js';
export type { PredictWhenServingOptions } from './serving.js';
export { ensureStream, streamNameFor } from './streams.js';
export type { EnsureStreamOptions } from './streams.js';
