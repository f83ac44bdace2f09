import type pg from 'pg';
import { jobsMigration } from './jobs.js';
import { RegistryError } from '@modelreg/core';
import { WHERE } from './db.js';

export interface Migration {
  version: number;
  name: string;
  /** SQL with `$S` standing for the quoted schema name. */
  sql: string;
}

/**
 * The store's schema, one entry per change, applied in order and never edited once released.
 * Times are milliseconds since the epoch (`bigint`), as in the domain types.
 */
export const migrations: Migration[] = [
  {
    version: 1,
    name: 'initial',
    sql: `
CREATE TABLE $S.experiments (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  tags jsonb NOT NULL DEFAULT '{}',
  created_at bigint NOT NULL,
  position bigserial NOT NULL
);
CREATE TABLE $S.runs (
  id text PRIMARY KEY,
  experiment_id text NOT NULL REFERENCES $S.experiments (id),
  name text NOT NULL,
  status text NOT NULL,
  parent_run_id text,
  start_time bigint NOT NULL,
  end_time bigint,
  params jsonb NOT NULL DEFAULT '{}',
  tags jsonb NOT NULL DEFAULT '{}',
  latest_metrics jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX runs_experiment_idx ON $S.runs (experiment_id, start_time DESC);
CREATE TABLE $S.metrics (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL REFERENCES $S.runs (id),
  key text NOT NULL,
  value double precision NOT NULL,
  step bigint NOT NULL,
  time bigint NOT NULL
);
CREATE INDEX metrics_run_key_idx ON $S.metrics (run_id, key, step, time, id);
CREATE TABLE $S.run_artifacts (
  run_id text NOT NULL REFERENCES $S.runs (id),
  path text NOT NULL,
  key text NOT NULL,
  sha256 text NOT NULL,
  size bigint NOT NULL,
  PRIMARY KEY (run_id, path)
);
CREATE TABLE $S.models (
  name text PRIMARY KEY,
  description text NOT NULL,
  tags jsonb NOT NULL DEFAULT '{}',
  last_version bigint NOT NULL DEFAULT 0,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  deleted_at bigint
);
CREATE TABLE $S.model_versions (
  model_name text NOT NULL REFERENCES $S.models (name),
  version bigint NOT NULL,
  stage text NOT NULL,
  source text NOT NULL,
  run_id text,
  files jsonb NOT NULL,
  description text NOT NULL,
  tags jsonb NOT NULL DEFAULT '{}',
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  deleted_at bigint,
  CONSTRAINT model_versions_unique UNIQUE (model_name, version)
);
CREATE INDEX model_versions_stage_idx ON $S.model_versions (model_name, stage) WHERE deleted_at IS NULL;
CREATE TABLE $S.aliases (
  model_name text NOT NULL,
  alias text NOT NULL,
  version bigint NOT NULL,
  PRIMARY KEY (model_name, alias),
  FOREIGN KEY (model_name, version) REFERENCES $S.model_versions (model_name, version)
);
CREATE TABLE $S.history (
  id bigserial PRIMARY KEY,
  model_name text NOT NULL,
  kind text NOT NULL,
  version bigint NOT NULL,
  from_stage text,
  to_stage text,
  alias text,
  from_version bigint,
  actor text NOT NULL,
  comment text NOT NULL,
  time bigint NOT NULL
);
CREATE INDEX history_model_idx ON $S.history (model_name, id);
CREATE TABLE $S.dataset_names (
  name text PRIMARY KEY,
  last_version bigint NOT NULL DEFAULT 0
);
CREATE TABLE $S.datasets (
  name text NOT NULL REFERENCES $S.dataset_names (name),
  version bigint NOT NULL,
  sha256 text NOT NULL,
  size bigint NOT NULL,
  row_count bigint NOT NULL,
  columns jsonb NOT NULL,
  key text NOT NULL,
  original_name text NOT NULL,
  created_at bigint NOT NULL,
  deleted_at bigint,
  CONSTRAINT datasets_unique UNIQUE (name, version)
);
CREATE TABLE $S.events (
  seq bigserial PRIMARY KEY,
  type text NOT NULL,
  time bigint NOT NULL,
  payload jsonb NOT NULL
);
`,
  },
  {
    version: 2,
    name: 'live version indexes for resolution',
    sql: `
CREATE INDEX model_versions_live_idx ON $S.model_versions (model_name, version) WHERE deleted_at IS NULL;
CREATE INDEX model_versions_live_stage_idx ON $S.model_versions (model_name, stage, version)
  WHERE deleted_at IS NULL;
`,
  },
  {
    version: 3,
    name: 'registry id and run heartbeats',
    sql: `
CREATE TABLE $S.registry_info (
  key text PRIMARY KEY,
  value text NOT NULL
);
ALTER TABLE $S.runs ADD COLUMN heartbeat_at bigint;
CREATE INDEX runs_running_idx ON $S.runs ((COALESCE(heartbeat_at, start_time))) WHERE status = 'running';
`,
  },
  jobsMigration,
  {
    version: 5,
    name: 'api tokens',
    sql: `
CREATE TABLE $S.api_tokens (
  id text PRIMARY KEY,
  name text NOT NULL,
  role text NOT NULL CHECK (role IN ('reader', 'predictor', 'editor', 'admin')),
  models jsonb,
  secret_hash text NOT NULL UNIQUE,
  created_at bigint NOT NULL,
  last_used_at bigint,
  revoked_at bigint
);
`,
  },
  {
    version: 6,
    name: 'deployments and their history',
    sql: `
CREATE TABLE $S.deployments (
  model text PRIMARY KEY,
  current_ref jsonb NOT NULL,
  next_ref jsonb NOT NULL,
  weight double precision NOT NULL CHECK (weight >= 0 AND weight <= 1),
  sticky_key text,
  mode text NOT NULL CHECK (mode IN ('canary', 'shadow')),
  revision bigint NOT NULL CHECK (revision >= 1),
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  updated_by text NOT NULL,
  deleted_at bigint
);
CREATE TABLE $S.deployment_history (
  id bigserial PRIMARY KEY,
  model text NOT NULL,
  action text NOT NULL CHECK (action IN ('set', 'weight', 'promote', 'rollback', 'delete')),
  revision bigint NOT NULL,
  current_ref jsonb NOT NULL,
  next_ref jsonb NOT NULL,
  weight double precision NOT NULL,
  sticky_key text,
  mode text NOT NULL,
  actor text NOT NULL,
  comment text NOT NULL,
  time bigint NOT NULL
);
CREATE INDEX deployment_history_model_idx ON $S.deployment_history (model, id);
`,
  },
  {
    version: 7,
    name: 'event cursors, webhooks and their delivery log',
    sql: `
CREATE TABLE $S.event_cursors (
  name text PRIMARY KEY,
  seq bigint NOT NULL DEFAULT 0,
  lease_owner text,
  lease_until bigint
);
CREATE TABLE $S.webhooks (
  id text PRIMARY KEY,
  url text NOT NULL,
  events jsonb NOT NULL,
  secret text NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'disabled')),
  description text NOT NULL,
  disabled_reason text,
  failure_count integer NOT NULL,
  next_attempt_at bigint,
  start_seq bigint NOT NULL,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  created_by text NOT NULL
);
CREATE TABLE $S.webhook_deliveries (
  webhook_id text NOT NULL REFERENCES $S.webhooks (id) ON DELETE CASCADE,
  id text NOT NULL,
  seq bigint,
  event_type text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
  attempts integer NOT NULL,
  response_status integer,
  last_error text,
  latency_ms double precision,
  created_at bigint NOT NULL,
  updated_at bigint NOT NULL,
  PRIMARY KEY (webhook_id, id)
);
CREATE INDEX webhook_deliveries_newest_idx ON $S.webhook_deliveries (webhook_id, created_at DESC, seq DESC NULLS LAST);
`,
  },
  {
    version: 8,
    name: 'deleted experiments and runs (MLflow lifecycle), model names that can change',
    sql: `
ALTER TABLE $S.experiments ADD COLUMN deleted_at bigint;
ALTER TABLE $S.runs ADD COLUMN deleted_at bigint;
ALTER TABLE $S.model_versions DROP CONSTRAINT model_versions_model_name_fkey,
  ADD CONSTRAINT model_versions_model_name_fkey FOREIGN KEY (model_name)
    REFERENCES $S.models (name) ON UPDATE CASCADE;
ALTER TABLE $S.aliases DROP CONSTRAINT aliases_model_name_version_fkey,
  ADD CONSTRAINT aliases_model_name_version_fkey FOREIGN KEY (model_name, version)
    REFERENCES $S.model_versions (model_name, version) ON UPDATE CASCADE;
`,
  },
];

/**
 * Migration numbers must be unique and listed in ascending order; gaps are allowed (numbers are
 * reserved by parallel changes and merged in any order). Each number is applied once, whatever
 * order they arrive in: a schema that has 6 still gets 4 and 5 when they appear.
 */
export function checkMigrationList(list: readonly Migration[]): void {
  for (let i = 1; i < list.length; i++) {
    if (list[i]!.version <= list[i - 1]!.version) {
      throw new RegistryError(
        'INVALID_CONFIG',
        `migration ${list[i]!.version} ("${list[i]!.name}") is listed after migration ${list[i - 1]!.version}: numbers must be unique and ascending`,
        { where: WHERE },
      );
    }
  }
}

/**
 * Creates the schema when missing and applies the migrations it lacks, in one transaction under a
 * transaction-level advisory lock keyed by the schema name: processes that start together wait for
 * each other, and every later one sees the migrations already recorded.
 */
export async function migrate(
  client: pg.ClientBase,
  schema: string,
  quoted: string,
  list: readonly Migration[] = migrations,
): Promise<number[]> {
  checkMigrationList(list);
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
      `modelreg.migrate.${schema}`,
    ]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${quoted}.schema_migrations (
         version integer PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const { rows } = await client.query<{ version: number }>(
      `SELECT version FROM ${quoted}.schema_migrations`,
    );
    const applied = new Set(rows.map((r) => r.version));
    const done: number[] = [];
    for (const migration of list) {
      if (applied.has(migration.version)) continue;
      await client.query(migration.sql.replaceAll('$S', () => quoted));
      await client.query(`INSERT INTO ${quoted}.schema_migrations (version, name) VALUES ($1, $2)`, [
        migration.version,
        migration.name,
      ]);
      done.push(migration.version);
    }
    await client.query('COMMIT');
    return done;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
