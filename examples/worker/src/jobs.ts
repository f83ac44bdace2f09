/**
 * The job format (NDJSON, one JSON object per line; blank lines are skipped) is shared with the
 * NATS consumer of `@modelreg/bus-nats`, where each message body is one job: see its `jobs.ts`.
 */
export { parseJobLine } from '@modelreg/bus-nats';
export type { BadLine, BatchRows, Job, JobId } from '@modelreg/bus-nats';
