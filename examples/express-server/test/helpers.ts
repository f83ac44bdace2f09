import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelRegistry } from '@modelreg/core';
import { openRegistryFromEnv } from '@modelreg/example-config';
import type { Application } from 'express';
import { pino } from 'pino';
import request from 'supertest';
import type { AppOptions } from '../src/app.js';
import { createApp } from '../src/app.js';

export const irisCsv = fileURLToPath(
  new URL('../../../packages/core/test/fixtures/datasets/iris.csv', import.meta.url),
);
export const energyCsv = fileURLToPath(new URL('../../script/data/energy_load.csv', import.meta.url));

/** A registry opened the way the server opens it (`openRegistryFromEnv`), and how to throw it away. */
export interface TestBackend {
  registry: ModelRegistry;
  describe: string;
  cleanup(): Promise<void>;
}

/** The embedded default: SQLite + an artifact folder in a fresh temp folder; `env` adds settings (`MODELREG_STAGES`). */
export async function embeddedBackend(env: Record<string, string> = {}): Promise<TestBackend> {
  const dir = await mkdtemp(join(tmpdir(), 'modelreg-express-'));
  const { registry, describe } = await openRegistryFromEnv({ ...env, MODELREG_DIR: dir });
  return {
    registry,
    describe,
    cleanup: async () => {
      await registry.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Postgres (a fresh schema, dropped afterwards) + S3 (s3rver, or MODELREG_TEST_S3_ENDPOINT) under a fresh prefix. */
export async function postgresS3Backend(extraEnv: Record<string, string> = {}): Promise<TestBackend> {
  const { adminPool, dropSchema, pgUrl, randomSchema } = await import('../../../test-utils/pg-env.js');
  const { startTestS3 } = await import('../../../test-utils/test-s3.js');
  const s3 = await startTestS3();
  const schema = randomSchema('mr_express');
  const restore: Array<[string, string | undefined]> = [];
  const setEnv = (key: string, value: string) => {
    restore.push([key, process.env[key]]);
    process.env[key] = value;
  };
  // The S3 client reads credentials from the usual AWS variables.
  if (s3.credentials) {
    setEnv('AWS_ACCESS_KEY_ID', s3.credentials.accessKeyId);
    setEnv('AWS_SECRET_ACCESS_KEY', s3.credentials.secretAccessKey);
  }
  const dir = await mkdtemp(join(tmpdir(), 'modelreg-express-pg-'));
  const env = {
    ...extraEnv,
    MODELREG_DIR: dir,
    MODELREG_METADATA_URL: pgUrl,
    MODELREG_PG_SCHEMA: schema,
    MODELREG_ARTIFACTS_URL: `s3://${s3.bucket}/express-${randomBytes(4).toString('hex')}`,
    MODELREG_S3_ENDPOINT: s3.endpoint,
    AWS_REGION: s3.region,
  };
  const { registry, describe } = await openRegistryFromEnv(env);
  return {
    registry,
    describe,
    cleanup: async () => {
      await registry.close();
      const pool = adminPool(1);
      try {
        await dropSchema(pool, schema);
      } finally {
        await pool.end();
      }
      await s3.stop();
      await rm(dir, { recursive: true, force: true });
      for (const [key, value] of restore.reverse()) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    },
  };
}

/** The app with a silent logger (pass `logger` to see the logs). */
export function testApp(registry: ModelRegistry, options: Omit<AppOptions, 'registry'> = {}): Application {
  return createApp({
    logger: pino({ level: 'silent' }),
    metrics: { defaultMetrics: false },
    ...options,
    registry,
  });
}

/** Every error answer has this shape. */
export interface ErrorAnswer {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

export const IRIS_ROWS = [
  { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 },
  { sepal_length_cm: 6.7, sepal_width_cm: 3.0, petal_length_cm: 5.2, petal_width_cm: 2.3 },
  { sepal_length_cm: 5.9, sepal_width_cm: 3.0, petal_length_cm: 4.2, petal_width_cm: 1.5 },
];

/** Uploads iris and trains `name` (a small decision tree) straight to `stage`; returns its version number. */
export async function seedIrisModel(
  app: Application,
  name = 'iris_clf',
  options: { stage?: string; type?: string; seed?: number } = {},
): Promise<number> {
  await request(app)
    .post('/datasets')
    .attach('file', irisCsv)
    .expect((res) => {
      if (res.status !== 201 && res.status !== 200)
        throw new Error(`upload answered ${res.status}: ${res.text}`);
    });
  const res = await request(app)
    .post('/train?wait=true')
    .send({
      experiment: 'iris',
      dataset: 'iris',
      target: 'species',
      model:
        options.type === 'random-forest'
          ? { type: 'random-forest', params: { nEstimators: 5, maxDepth: 6 } }
          : { type: 'decision-tree', params: { maxDepth: 4 } },
      split: { testSize: 0.2, seed: options.seed ?? 42 },
      register: { name, stage: options.stage ?? 'production' },
    });
  if (res.status !== 201) throw new Error(`train answered ${res.status}: ${res.text}`);
  return (res.body as { version: { version: number } }).version.version;
}
