// Child: repeats one kind of write (train, upload, copy or track) until the parent kills it with SIGKILL.
// Arguments: <sqlite|postgres> <registry folder> <postgres schema or -> <train|upload|copy|track> <source folder>
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ModelRegistry, copyModelVersion } from '@modelreg/core';
import { createPostgresMetadataStore } from '@modelreg/meta-postgres';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { pgUrl } from '../../../../test-utils/pg-env.js';
import { devStores, openDev } from '../registries.js';

const [kind, dir, schema, op, sourceDir] = process.argv.slice(2) as [string, string, string, string, string];

const registry = await ModelRegistry.open(
  kind === 'postgres'
    ? {
        metadata: createPostgresMetadataStore({ connectionString: pgUrl, schema }),
        artifacts: createFsArtifactStore({ root: join(dir, 'artifacts') }),
      }
    : devStores(dir),
);
const source = op === 'copy' ? await openDev(sourceDir) : undefined;

/** A CSV of about 4 MB, new bytes every time, produced in chunks so the kill can land mid-stream. */
async function* bigCsv(): AsyncGenerator<Uint8Array> {
  yield new TextEncoder().encode('a,b,c,label\n');
  for (let chunk = 0; chunk < 64; chunk++) {
    const lines: string[] = [];
    for (let i = 0; i < 1200; i++) {
      lines.push(
        `${Math.random()},${Math.random()},${randomBytes(8).toString('hex')},${i % 3 === 0 ? 'x' : 'y'}`,
      );
    }
    yield new TextEncoder().encode(lines.join('\n') + '\n');
    await new Promise((resolve) => setImmediate(resolve));
  }
}

process.stdout.write('ready\n');
for (let i = 0; ; i++) {
  if (op === 'train') {
    // Alternately registered (one transaction at the end) and not (a run that logs as it goes).
    await registry.train({
      experiment: 'crash',
      dataset: 'iris',
      target: 'species',
      model: { type: 'random-forest', params: { nEstimators: 40, maxDepth: 8 } },
      ...(i % 2 === 0 ? { register: { name: 'crash_train', stage: 'staging' } } : {}),
    });
  } else if (op === 'track') {
    // A tracking script: a run that logs a metric and an artifact per step until it is killed.
    const run = await registry.startRun({ experiment: 'crash', name: `track-${process.pid}-${i}` });
    for (let step = 0; step < 50; step++) {
      await run.logMetric('loss', 1 / (step + 1), { step });
      await run.logArtifact(`steps/${step}.txt`, `step ${step}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await run.end('finished');
  } else if (op === 'upload') {
    await registry.datasets.upload(`crash_${process.pid}_${i}.csv`, bigCsv());
  } else {
    await copyModelVersion(source!, registry, { name: 'iris', version: 1, stage: 'production' });
  }
  process.stdout.write(`done ${op}\n`);
}
