export { createPgBossJobQueue, pgBossIdOf } from './pgboss-job-queue.js';
export { pgBossJobQueueOptionsSchema } from './options.js';
export type { PgBossJobQueueOptions } from './options.js';
