import pg from 'pg';
import { parseStoreOptions } from '@modelreg/core';
import type { MetadataStore } from '@modelreg/core';
import { identityMethods } from './auth.js';
import { createDb, translateError, WHERE } from './db.js';
import { datasetMethods } from './datasets.js';
import { deploymentMethods } from './deployments.js';
import { webhookMethods } from './webhooks.js';
import { housekeepingMethods } from './housekeeping.js';
import { jobMethods } from './jobs.js';
import { createListener } from './listener.js';
import { migrate } from './migrations.js';
import { modelMethods } from './models.js';
import { defaultNotifyChannel, postgresMetadataStoreOptionsSchema } from './options.js';
import type { PostgresMetadataStoreOptions } from './options.js';
import { runMethods } from './runs.js';
import { stageMethods } from './stages.js';

/**
 * A {@link MetadataStore} on PostgreSQL, for registries shared by many processes. Every change is
 * one transaction that also appends its events to an outbox table and NOTIFYs subscribers.
 *
 * The store ends on `close()` the pool it created from `connectionString`, never a `pool` it was given.
 */
export function createPostgresMetadataStore(options: PostgresMetadataStoreOptions): MetadataStore {
  const parsed = parseStoreOptions(postgresMetadataStoreOptionsSchema, options, WHERE);
  const owned = parsed.pool === undefined;
  const pool = parsed.pool ?? new pg.Pool({ connectionString: parsed.connectionString, keepAlive: true });
  // An idle pooled connection that the server drops emits 'error' on the pool; the next query
  // simply gets another connection, so the error must not crash the process.
  if (owned) pool.on('error', () => undefined);
  const notifyChannel = parsed.notifyChannel ?? defaultNotifyChannel(parsed.schema);
  const db = createDb({ pool, schema: parsed.schema, maxRetries: parsed.maxRetries, notifyChannel });
  const listener = createListener(pool, notifyChannel);

  return {
    name: WHERE,

    async init() {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw translateError(error);
      }
      let broken: Error | undefined;
      try {
        await migrate(client, parsed.schema, db.s);
      } catch (error) {
        broken = error instanceof Error ? error : undefined;
        throw translateError(error);
      } finally {
        client.release(broken);
      }
    },

    async close() {
      await listener.close();
      if (owned) await pool.end();
    },

    ...runMethods(db),
    ...modelMethods(db),
    ...stageMethods(db),
    ...datasetMethods(db),
    ...housekeepingMethods(db),
    ...jobMethods(db),
    ...identityMethods(db),
    ...deploymentMethods(db),
    ...webhookMethods(db),

    subscribe: (onWake) => listener.subscribe(onWake),
  };
}
