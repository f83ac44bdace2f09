import type Database from 'better-sqlite3';
import { hasMethods } from '@modelreg/core';
import { z } from 'zod';

/** An open better-sqlite3 connection (an interface so declaration files can name it). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface SqliteDatabase extends Database.Database {}

const isDatabase = (value: unknown): value is SqliteDatabase =>
  hasMethods(value, ['prepare', 'transaction', 'pragma']) && (value as { open?: unknown }).open === true;

/**
 * Options of {@link createSqliteMetadataStore}, parsed once by the factory; a bad option throws
 * `RegistryError('INVALID_CONFIG')` naming it.
 */
export const sqliteMetadataStoreOptionsSchema = z
  .strictObject({
    /**
     * Path of the SQLite file (its folder is created when missing), or `':memory:'` for a private
     * in-memory database. Required unless `database` is given.
     */
    filename: z.string().min(1, 'must not be empty').optional(),
    /** How long one statement waits for another connection's lock before retrying (ms). Default 5000. */
    busyTimeoutMs: z.number().int('must be an integer').min(0).max(600_000).default(5000),
    /**
     * An open better-sqlite3 `Database` to use instead of opening `filename`. The store applies its
     * pragmas and migrations to it but does not close it: its owner does.
     */
    database: z.custom<SqliteDatabase>(isDatabase, 'must be an open better-sqlite3 Database').optional(),
  })
  .refine((o) => o.filename !== undefined || o.database !== undefined, {
    message: 'is required (or pass an open better-sqlite3 "database")',
    path: ['filename'],
  });

export type SqliteMetadataStoreOptions = z.input<typeof sqliteMetadataStoreOptionsSchema>;
