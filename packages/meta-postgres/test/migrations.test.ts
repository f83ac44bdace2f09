import { afterAll, describe, expect, it } from 'vitest';
import { isRegistryError } from '@modelreg/core';
import { createPostgresMetadataStore, migrations } from '../src/index.js';
import { migrate } from '../src/migrations.js';
import { adminPool, dropSchema, pgReachable, pgUrl, randomSchema } from './pg-env.js';

describe.skipIf(!pgReachable)('meta-postgres migrations', () => {
  const admin = adminPool();
  const schemas: string[] = [];
  const fresh = (): string => {
    const schema = randomSchema('mr_migrate');
    schemas.push(schema);
    return schema;
  };
  const applied = async (schema: string): Promise<number[]> =>
    (
      await admin.query<{ version: number }>(
        `SELECT version FROM "${schema}".schema_migrations ORDER BY version`,
      )
    ).rows.map((r) => r.version);

  afterAll(async () => {
    for (const schema of schemas) await dropSchema(admin, schema);
    await admin.end();
  });

  it('creates the schema when missing and records every migration once', async () => {
    const schema = fresh();
    const store = createPostgresMetadataStore({ connectionString: pgUrl, schema });
    await store.init();
    await store.close();
    expect(await applied(schema)).toEqual(migrations.map((m) => m.version));
  });

  it('is idempotent: re-running on a migrated schema changes nothing and keeps the data', async () => {
    const schema = fresh();
    const first = createPostgresMetadataStore({ connectionString: pgUrl, schema });
    await first.init();
    await first.createModel({ name: 'kept', description: '', tags: {}, createdAt: 1 });
    await first.close();
    for (let i = 0; i < 2; i++) {
      const again = createPostgresMetadataStore({ connectionString: pgUrl, schema });
      await again.init();
      expect((await again.getModel('kept'))?.name).toBe('kept');
      await again.close();
    }
    expect(await applied(schema)).toEqual(migrations.map((m) => m.version));
  });

  it('two stores migrating the same fresh schema concurrently both succeed', async () => {
    const schema = fresh();
    const stores = Array.from({ length: 4 }, () =>
      createPostgresMetadataStore({ connectionString: pgUrl, schema }),
    );
    await Promise.all(stores.map((s) => s.init()));
    await stores[0]?.createModel({ name: 'm', description: '', tags: {}, createdAt: 1 });
    expect((await stores[1]?.getModel('m'))?.name).toBe('m');
    await Promise.all(stores.map((s) => s.close()));
    expect(await applied(schema)).toEqual(migrations.map((m) => m.version));
  });

  it('migration 8 upgrades a schema with data: experiments and runs are live, a model renames with its aliases', async () => {
    const schema = fresh();
    const client = await admin.connect();
    try {
      await migrate(
        client,
        schema,
        `"${schema}"`,
        migrations.filter((m) => m.version < 8),
      );
      const q = `"${schema}"`;
      await client.query(`INSERT INTO ${q}.experiments (id, name, created_at) VALUES ('e1', 'exp', 1)`);
      await client.query(
        `INSERT INTO ${q}.runs (id, experiment_id, name, status, start_time) VALUES ('r1', 'e1', 'run', 'running', 2)`,
      );
      await client.query(
        `INSERT INTO ${q}.models (name, description, last_version, created_at, updated_at) VALUES ('old', '', 1, 3, 3)`,
      );
      await client.query(
        `INSERT INTO ${q}.model_versions (model_name, version, stage, source, run_id, files, description, created_at, updated_at)
         VALUES ('old', 1, 'none', 'runs:/r1/model', 'r1', '[]', '', 4, 4)`,
      );
      await client.query(
        `INSERT INTO ${q}.aliases (model_name, alias, version) VALUES ('old', 'champion', 1)`,
      );
    } finally {
      client.release();
    }
    const store = createPostgresMetadataStore({ connectionString: pgUrl, schema });
    await store.init();
    try {
      expect(await store.getExperiment('e1')).toMatchObject({ name: 'exp', deletedAt: null });
      expect(await store.getRun('r1')).toMatchObject({ status: 'running', deletedAt: null });
      expect(await store.renameModel('old', 'new', 5)).toMatchObject({
        name: 'new',
        aliases: { champion: 1 },
      });
      expect(await store.getVersion('new', 1)).toMatchObject({ name: 'new', aliases: ['champion'] });
    } finally {
      await store.close();
    }
    expect(await applied(schema)).toEqual(migrations.map((m) => m.version));
  });

  it('an unreachable database fails init with a clear message, not a raw driver error', async () => {
    const store = createPostgresMetadataStore({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      schema: fresh(),
    });
    const error = await store.init().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Error);
    expect(isRegistryError(error, 'STORE_FAILURE')).toBe(true);
    expect((error as Error).message).toMatch(/PostgreSQL connection failed/);
    await store.close();
  });
});
