// Child: a training worker of a fleet. Opens the registry on a shared Postgres metadata store, a
// shared artifact folder and the pg-boss queue, runs jobs from the queue one at a time, and prints
// `run <jobId>` on stdout for each delivery (so the test knows who runs what). Stops on "stop" on stdin.
import { ModelRegistry } from '@modelreg/core';
import type { JobQueue } from '@modelreg/core';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { createPgBossJobQueue } from '@modelreg/queue-pgboss';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { fleetTimings } from '../fleet.js';

const [pgUrl, schema, bossSchema, root] = process.argv.slice(2) as [string, string, string, string];
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const pgboss = createPgBossJobQueue({ connectionString: pgUrl, schema: bossSchema, ...fleetTimings.queue });
const queue: JobQueue = {
  ...pgboss,
  start: (runner, options) =>
    pgboss.start(
      {
        runJob: (jobId) => {
          say(`run ${jobId}`);
          return runner.runJob(jobId);
        },
      },
      options,
    ),
};
const registry = await ModelRegistry.open({
  metadata: createPostgresMetadataStore({ connectionString: pgUrl, schema }),
  artifacts: createFsArtifactStore({ root }),
  jobs: { queue, ...fleetTimings.registry },
});
await registry.jobs.start({ concurrency: 1 });
say('ready');
process.stdin.setEncoding('utf8');
process.stdin.on('data', (data: string) => {
  if (!data.includes('stop')) return;
  void registry.close().then(() => {
    say(JSON.stringify({ stopped: true }));
    process.exit(0);
  });
});
