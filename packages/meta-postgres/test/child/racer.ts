/**
 * A child process of the concurrency tests: opens its own store on the given schema, prints
 * `ready`, waits for `go` on stdin (so all children start together), does its job and prints one
 * JSON line with the outcome.
 *
 * argv: <connectionString> <schema> <job> <model> [n]
 *   job `versions`: create n versions of model; `promote`: move version n to production with
 *   archiveExisting; `create-model`: create the model.
 */
import { createInterface } from 'node:readline';
import { guardMetadataStore, isRegistryError } from '@modelreg/core';
import { createPostgresMetadataStore } from '../../src/index.js';

const [connectionString = '', schema = '', job = '', model = '', n = '0'] = process.argv.slice(2);

const store = guardMetadataStore(createPostgresMetadataStore({ connectionString, schema }));
await store.init();
process.stdout.write('ready\n');
const lines = createInterface({ input: process.stdin });
await new Promise<void>((resolve) => lines.once('line', () => resolve()));
lines.close();

const outcome = async (): Promise<unknown> => {
  if (job === 'versions') {
    const versions: number[] = [];
    const errors: string[] = [];
    for (let i = 0; i < Number(n); i++) {
      try {
        const created = await store.createVersion({
          name: model,
          source: `child-${process.pid}`,
          runId: null,
          files: [],
          description: '',
          tags: {},
          stage: 'none',
          createdAt: Date.now(),
        });
        versions.push(created.version);
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
      }
    }
    return { versions, errors };
  }
  if (job === 'promote') {
    const result = await store.transitionStage({
      name: model,
      version: Number(n),
      toStage: 'production',
      archiveExisting: true,
      archiveStage: 'archived',
      actor: `child-${process.pid}`,
      comment: 'race',
      time: Date.now(),
    });
    return { version: result.version.version, archived: result.archived.map((v) => v.version) };
  }
  if (job === 'create-model') {
    await store.createModel({
      name: model,
      description: `by ${process.pid}`,
      tags: {},
      createdAt: Date.now(),
    });
    return { created: true };
  }
  throw new Error(`unknown job ${job}`);
};

try {
  process.stdout.write(`${JSON.stringify({ ok: true, result: await outcome() })}\n`);
} catch (error) {
  const code = isRegistryError(error) ? error.code : 'UNKNOWN';
  const message = error instanceof Error ? error.message : String(error);
  process.stdout.write(`${JSON.stringify({ ok: false, code, message })}\n`);
} finally {
  await store.close();
}
