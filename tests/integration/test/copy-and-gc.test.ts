import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MetadataStore } from '@modelreg/core';
import { ModelRegistry, copyModelVersion } from '@modelreg/core';
import { adminPool, dropSchema, pgReachable } from '../../../test-utils/pg-env.js';
import type { TestS3 } from '../../../test-utils/test-s3.js';
import { startTestS3 } from '../../../test-utils/test-s3.js';
import { irisCsv, openDev, prodStores, tempDir } from './registries.js';

const rows = [
  { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 },
  { sepal_length_cm: 6.0, sepal_width_cm: 2.7, petal_length_cm: 5.1, petal_width_cm: 1.6 },
  { sepal_length_cm: 6.7, sepal_width_cm: 3.0, petal_length_cm: 5.2, petal_width_cm: 2.3 },
];

describe.skipIf(!pgReachable)('dev registry (SQLite + files) to production registry (Postgres + S3)', () => {
  let s3: TestS3;
  const schemas: string[] = [];
  const pool = adminPool();

  beforeAll(async () => {
    s3 = await startTestS3();
  });
  afterAll(async () => {
    for (const schema of schemas) await dropSchema(pool, schema);
    await pool.end();
    await s3?.stop();
  });

  it('copyModelVersion carries the files (same digests), run, metadata and history', async () => {
    const dev = await openDev(tempDir('dev'));
    await dev.datasets.upload('iris.csv', readFileSync(irisCsv));
    const trained = await dev.train({
      experiment: 'iris',
      dataset: 'iris',
      target: 'species',
      model: { type: 'random-forest', params: { nEstimators: 8, maxDepth: 5 } },
      register: { name: 'iris', stage: 'staging' },
    });
    await dev.setAlias('iris', 'candidate', 1, { comment: 'for prod' });
    const stores = prodStores(s3);
    schemas.push(stores.schema);
    const prod = await ModelRegistry.open(stores);
    const { version, files } = await copyModelVersion(dev, prod, {
      name: 'iris',
      version: 1,
      stage: 'production',
    });
    expect(version).toMatchObject({ name: 'iris', version: 1, stage: 'production', runId: trained.run.id });
    expect(version.tags['modelreg.source']).toBe('models:/iris/1');
    expect(version.files.map((f) => [f.path, f.sha256])).toEqual(
      trained.version!.files.map((f) => [f.path, f.sha256]),
    );
    expect(files).toHaveLength(trained.version!.files.length);
    const prodRun = await prod.getRun(trained.run.id);
    expect(prodRun).toMatchObject({
      params: trained.run.params,
      latestMetrics: trained.run.latestMetrics,
      status: 'finished',
    });
    const [historyFile] = await prod.stores.metadata.listRunArtifacts(
      trained.run.id,
      'modelreg/history/iris-v1.json',
    );
    const history = await prod.stores.artifacts.get(historyFile!.key);
    const carried = JSON.parse(new TextDecoder().decode(history!)) as {
      history: { kind: string; toStage: string | null; alias: string | null }[];
    };
    expect(carried.history.map((h) => [h.kind, h.toStage ?? h.alias])).toEqual([
      ['stage', 'staging'],
      ['alias_set', 'candidate'],
    ]);
    expect(await prod.predict('models:/iris/production', rows)).toEqual(
      await dev.predict('models:/iris/1', rows),
    );
    // A second copy of the same version is a new version in prod that reuses the run.
    const again = await copyModelVersion(dev, prod, { name: 'iris', version: 1 });
    expect(again.version.version).toBe(2);
    await prod.close();
    await dev.close();
  });

  it('a registration whose metadata commit fails after the upload leaves no version, and gc removes the files', async () => {
    const stores = prodStores(s3);
    schemas.push(stores.schema);
    let failNext = true;
    const failing: MetadataStore = new Proxy(stores.metadata, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (prop === 'createVersion') {
          return async (...args: Parameters<MetadataStore['createVersion']>) => {
            if (failNext) {
              failNext = false;
              throw new Error('injected: connection lost during commit');
            }
            return target.createVersion(...args);
          };
        }
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const prod = await ModelRegistry.open({ metadata: failing, artifacts: stores.artifacts });
    await prod.datasets.upload('iris.csv', readFileSync(irisCsv));
    await expect(
      prod.train({
        dataset: 'iris',
        target: 'species',
        model: { type: 'decision-tree' },
        register: { name: 'iris' },
      }),
    ).rejects.toMatchObject({ code: 'STORE_FAILURE', message: expect.stringContaining('injected') });
    expect(await prod.getModel('iris')).toBeNull();
    expect(await prod.searchRuns({ experiment: 'Default' })).toMatchObject({ runs: [] });
    const keys = (await prod.stores.artifacts.list('')).map((o) => o.key);
    // No run and no version were committed, so every file train wrote is an orphan.
    const orphans = keys.filter((k) => k.startsWith('runs/'));
    expect(orphans.length).toBeGreaterThan(0);
    const young = await prod.gc({ gracePeriodMs: 60 * 60 * 1000 });
    expect(young.deleted).toEqual([]);
    const result = await prod.gc({ gracePeriodMs: 0 });
    expect(result.deleted.sort()).toEqual(orphans.sort());
    const left = (await prod.stores.artifacts.list('')).map((o) => o.key);
    expect(left).toEqual(keys.filter((k) => !orphans.includes(k)));
    expect(left.some((k) => k.startsWith('datasets/iris/'))).toBe(true);
    // The registry still works after the failure.
    const ok = await prod.train({
      dataset: 'iris',
      target: 'species',
      model: { type: 'decision-tree' },
      register: { name: 'iris' },
    });
    expect(ok.version!.version).toBe(1);
    await prod.close();
  });
});
