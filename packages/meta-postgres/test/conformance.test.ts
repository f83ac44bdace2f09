import { afterAll, describe, it } from 'vitest';
import type { MetadataStore } from '@modelreg/core';
import { describeMetadataStoreConformance } from '@modelreg/core/testing';
import type { StoredFile } from '@modelreg/core/testing';
import { createPostgresMetadataStore } from '../src/index.js';
import { listenNotifyTests } from './listen-notify.js';
import { adminPool, dropSchema, pgReachable, pgUrl, randomSchema } from './pg-env.js';

/** Every table, children before parents, so a reset can empty them with plain DELETEs. */
const tables = [
  'webhook_deliveries',
  'webhooks',
  'event_cursors',
  'jobs',
  'aliases',
  'model_versions',
  'models',
  'run_artifacts',
  'metrics',
  'runs',
  'experiments',
  'history',
  'datasets',
  'dataset_names',
  'events',
  'registry_info',
  'api_tokens',
  'deployments',
  'deployment_history',
];

if (pgReachable) {
  const admin = adminPool();
  // Stores share one pool so a test opens no new connections.
  const pool = adminPool(10);
  const schemas = new WeakMap<MetadataStore, string>();
  const created: string[] = [];
  // Migrated schemas emptied by a finished test. Creating and dropping a schema costs a few hundred
  // ms of catalog writes; emptying one with DELETEs and restarting its sequences costs a few ms and
  // leaves it exactly as fresh (seq and history ids start at 1 again).
  const free: string[] = [];
  const schemaOf = (store: MetadataStore): string => {
    const schema = schemas.get(store);
    if (!schema) throw new Error('not a store of this test file');
    return schema;
  };

  const reset = async (schema: string): Promise<void> => {
    const s = `"${schema}"`;
    await admin.query(tables.map((t) => `DELETE FROM ${s}.${t};`).join(' '));
    await admin.query(
      `SELECT setval(c.oid, 1, false) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind = 'S' AND n.nspname = $1`,
      [schema],
    );
  };

  afterAll(async () => {
    await pool.end();
    for (const schema of created) await dropSchema(admin, schema);
    await admin.end();
  });

  describeMetadataStoreConformance({
    name: 'meta-postgres',
    create: () => {
      let schema = free.pop();
      if (!schema) {
        schema = randomSchema();
        created.push(schema);
      }
      const store = createPostgresMetadataStore({ pool, schema });
      schemas.set(store, schema);
      return store;
    },
    destroy: async (store) => {
      const schema = schemaOf(store);
      await reset(schema);
      free.push(schema);
    },
    inspect: (store) => {
      const s = `"${schemaOf(store)}"`;
      const count = async (table: string): Promise<number> =>
        Number((await admin.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.${table}`)).rows[0]?.n);
      return {
        countEvents: () => count('events'),
        countHistory: () => count('history'),
        rawVersion: async (name, version) => {
          const [row] = (
            await admin.query<{
              stage: string;
              deleted_at: string | null;
              tags: Record<string, string>;
              files: StoredFile[];
            }>(
              `SELECT stage, deleted_at, tags, files FROM ${s}.model_versions WHERE model_name = $1 AND version = $2`,
              [name, version],
            )
          ).rows;
          if (!row) return null;
          const deletedAt = row.deleted_at === null ? null : Number(row.deleted_at);
          return { stage: row.stage, deletedAt, tags: row.tags, files: row.files };
        },
        rawModel: async (name) => {
          const [row] = (
            await admin.query<{
              deleted_at: string | null;
              last_version: string;
              tags: Record<string, string>;
            }>(`SELECT deleted_at, last_version, tags FROM ${s}.models WHERE name = $1`, [name])
          ).rows;
          if (!row) return null;
          const deletedAt = row.deleted_at === null ? null : Number(row.deleted_at);
          return { deletedAt, lastVersion: Number(row.last_version), tags: row.tags };
        },
        rawAlias: async (name, alias) => {
          const [row] = (
            await admin.query<{ version: string }>(
              `SELECT version FROM ${s}.aliases WHERE model_name = $1 AND alias = $2`,
              [name, alias],
            )
          ).rows;
          return row ? Number(row.version) : null;
        },
        rawRunArtifacts: async (runId) =>
          (
            await admin.query<{ path: string; key: string; sha256: string; size: string }>(
              `SELECT path, key, sha256, size FROM ${s}.run_artifacts WHERE run_id = $1 ORDER BY path COLLATE "C"`,
              [runId],
            )
          ).rows.map((r) => ({ ...r, size: Number(r.size) })),
      };
    },
    additionalTests: ({ create }) =>
      listenNotifyTests({
        create,
        admin,
        schemaOf,
        sibling: async (store) => {
          const sibling = createPostgresMetadataStore({ connectionString: pgUrl, schema: schemaOf(store) });
          await sibling.init();
          return sibling;
        },
      }),
  });
} else {
  describe.skip(`meta-postgres conformance (PostgreSQL unreachable at ${pgUrl})`, () => {
    it('needs PostgreSQL', () => undefined);
  });
}
