import type pg from 'pg';
import { hasMethods } from '@modelreg/core';
import { z } from 'zod';

const identifier = z
  .string()
  .min(1, 'must not be empty')
  .max(63, 'must be at most 63 characters (a PostgreSQL identifier)')
  .regex(
    /^[A-Za-z_][A-Za-z0-9_]*$/,
    'must start with a letter or "_" and contain only letters, digits and "_"',
  );

const isPool = (value: unknown): value is pg.Pool => hasMethods(value, ['connect', 'query', 'end', 'on']);

/**
 * Options of {@link createPostgresMetadataStore}, parsed once by the factory; a bad option throws
 * `RegistryError('INVALID_CONFIG')` naming it. Give exactly one of `connectionString` and `pool`.
 */
export const postgresMetadataStoreOptionsSchema = z
  .strictObject({
    /** `postgres://user:password@host:port/database`; the store creates a pool and ends it on `close()`. */
    connectionString: z.string().min(1, 'must not be empty').optional(),
    /**
     * A `pg.Pool` the caller owns; the store uses it but never ends it. While anyone is subscribed,
     * one of its connections is held for LISTEN.
     */
    pool: z.custom<pg.Pool>(isPool, 'must be a pg.Pool').optional(),
    /** The schema holding the store's tables; created when missing. Default `modelreg`. */
    schema: identifier.default('modelreg'),
    /**
     * How many times a transaction is retried after a serialization failure, a deadlock or a unique
     * violation caused by a race, with jittered exponential backoff. Default 10.
     */
    maxRetries: z.number().int('must be an integer').min(0).max(100).default(10),
    /** The LISTEN/NOTIFY channel used for `subscribe` wake-ups. Default `modelreg_events_<schema>`. */
    notifyChannel: identifier.optional(),
  })
  .refine((o) => (o.connectionString === undefined) !== (o.pool === undefined), {
    message: 'give exactly one of "connectionString" and "pool"',
    path: ['connectionString'],
  });

export type PostgresMetadataStoreOptions = z.input<typeof postgresMetadataStoreOptionsSchema>;

/** The default channel is per schema so that registries sharing a database do not wake each other. */
export const defaultNotifyChannel = (schema: string): string => `modelreg_events_${schema}`.slice(0, 63);
