import type Database from 'better-sqlite3';
import { jobsMigration } from './jobs.js';
import { RegistryError } from '@modelreg/core';
import { STORE_NAME } from './transactions.js';

export interface Migration {
  /** Applied in ascending order; never renumber or edit a released migration, add a new one. */
  version: number;
  name: string;
  sql: string;
}

export const migrations: readonly Migration[] = [
  {
    version: 1,
    name: 'initial schema',
    sql: `
      CREATE TABLE experiments (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        tags TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL
      );

      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        experiment_id TEXT NOT NULL REFERENCES experiments (id),
        name TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'killed')),
        parent_run_id TEXT,
        start_time INTEGER NOT NULL,
        end_time INTEGER
      );
      CREATE INDEX runs_by_experiment ON runs (experiment_id, start_time DESC, id);

      CREATE TABLE params (
        run_id TEXT NOT NULL REFERENCES runs (id),
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;

      CREATE TABLE metrics (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id TEXT NOT NULL REFERENCES runs (id),
        key TEXT NOT NULL,
        value REAL NOT NULL,
        step INTEGER NOT NULL,
        timestamp INTEGER NOT NULL
      );
      CREATE INDEX metrics_latest ON metrics (run_id, key, step, timestamp, seq);

      CREATE TABLE run_tags (
        run_id TEXT NOT NULL REFERENCES runs (id),
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (run_id, key)
      ) WITHOUT ROWID;

      CREATE TABLE run_artifacts (
        run_id TEXT NOT NULL REFERENCES runs (id),
        path TEXT NOT NULL,
        key TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        PRIMARY KEY (run_id, path)
      ) WITHOUT ROWID;

      CREATE TABLE models (
        name TEXT PRIMARY KEY,
        description TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '{}',
        last_version INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        deleted_at INTEGER
      );

      CREATE TABLE model_versions (
        name TEXT NOT NULL REFERENCES models (name),
        version INTEGER NOT NULL CHECK (version >= 1),
        stage TEXT NOT NULL,
        source TEXT NOT NULL,
        run_id TEXT,
        files TEXT NOT NULL DEFAULT '[]',
        description TEXT NOT NULL DEFAULT '',
        tags TEXT NOT NULL DEFAULT '{}',
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        deleted_at INTEGER,
        PRIMARY KEY (name, version)
      );
      CREATE INDEX model_versions_by_stage ON model_versions (name, stage, version);

      CREATE TABLE aliases (
        name TEXT NOT NULL REFERENCES models (name),
        alias TEXT NOT NULL,
        version INTEGER NOT NULL,
        PRIMARY KEY (name, alias),
        FOREIGN KEY (name, version) REFERENCES model_versions (name, version)
      ) WITHOUT ROWID;

      CREATE TABLE history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        name TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('stage', 'alias_set', 'alias_deleted')),
        version INTEGER NOT NULL,
        from_stage TEXT,
        to_stage TEXT,
        alias TEXT,
        from_version INTEGER,
        actor TEXT NOT NULL,
        comment TEXT NOT NULL,
        time INTEGER NOT NULL
      );
      CREATE INDEX history_by_model ON history (name, version, id);

      CREATE TABLE datasets (
        name TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version >= 1),
        sha256 TEXT NOT NULL,
        size INTEGER NOT NULL,
        rows INTEGER NOT NULL,
        columns TEXT NOT NULL,
        key TEXT NOT NULL,
        original_name TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        deleted_at INTEGER,
        PRIMARY KEY (name, version)
      );
      CREATE INDEX datasets_by_sha ON datasets (name, sha256);

      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        type TEXT NOT NULL,
        time INTEGER NOT NULL,
        payload TEXT NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'live version indexes for resolution',
    sql: `
      CREATE INDEX model_versions_live ON model_versions (name, version) WHERE deleted_at IS NULL;
      CREATE INDEX model_versions_live_by_stage ON model_versions (name, stage, version) WHERE deleted_at IS NULL;
    `,
  },
  {
    version: 3,
    name: 'registry id and run heartbeats',
    sql: `
      CREATE TABLE registry_info (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) WITHOUT ROWID;
      ALTER TABLE runs ADD COLUMN heartbeat_at INTEGER;
      CREATE INDEX runs_running ON runs (COALESCE(heartbeat_at, start_time)) WHERE status = 'running';
    `,
  },
  jobsMigration,
  {
    version: 5,
    name: 'api tokens',
    sql: `
      CREATE TABLE api_tokens (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        role TEXT NOT NULL CHECK (role IN ('reader', 'predictor', 'editor', 'admin')),
        models TEXT,
        secret_hash TEXT NOT NULL UNIQUE,
        created_at INTEGER NOT NULL,
        last_used_at INTEGER,
        revoked_at INTEGER
      );
    `,
  },
  {
    version: 6,
    name: 'deployments and their history',
    sql: `
      CREATE TABLE deployments (
        model TEXT PRIMARY KEY,
        current_ref TEXT NOT NULL,
        next_ref TEXT NOT NULL,
        weight REAL NOT NULL CHECK (weight >= 0 AND weight <= 1),
        sticky_key TEXT,
        mode TEXT NOT NULL CHECK (mode IN ('canary', 'shadow')),
        revision INTEGER NOT NULL CHECK (revision >= 1),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        updated_by TEXT NOT NULL,
        deleted_at INTEGER
      ) WITHOUT ROWID;

      CREATE TABLE deployment_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model TEXT NOT NULL,
        action TEXT NOT NULL CHECK (action IN ('set', 'weight', 'promote', 'rollback', 'delete')),
        revision INTEGER NOT NULL,
        current_ref TEXT NOT NULL,
        next_ref TEXT NOT NULL,
        weight REAL NOT NULL,
        sticky_key TEXT,
        mode TEXT NOT NULL,
        actor TEXT NOT NULL,
        comment TEXT NOT NULL,
        time INTEGER NOT NULL
      );
      CREATE INDEX deployment_history_by_model ON deployment_history (model, id);
    `,
  },
  {
    version: 7,
    name: 'event cursors, webhooks and their delivery log',
    sql: `
      CREATE TABLE event_cursors (
        name TEXT PRIMARY KEY,
        seq INTEGER NOT NULL DEFAULT 0,
        lease_owner TEXT,
        lease_until INTEGER
      );
      CREATE TABLE webhooks (
        id TEXT PRIMARY KEY,
        url TEXT NOT NULL,
        events TEXT NOT NULL,
        secret TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('active', 'disabled')),
        description TEXT NOT NULL,
        disabled_reason TEXT,
        failure_count INTEGER NOT NULL,
        next_attempt_at INTEGER,
        start_seq INTEGER NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        created_by TEXT NOT NULL
      );
      CREATE TABLE webhook_deliveries (
        webhook_id TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
        id TEXT NOT NULL,
        seq INTEGER,
        event_type TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
        attempts INTEGER NOT NULL,
        response_status INTEGER,
        last_error TEXT,
        latency_ms REAL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (webhook_id, id)
      );
      CREATE INDEX webhook_deliveries_newest ON webhook_deliveries (webhook_id, created_at DESC, seq DESC);
    `,
  },
  {
    version: 8,
    name: 'deleted experiments and runs (MLflow lifecycle)',
    sql: `
      ALTER TABLE experiments ADD COLUMN deleted_at INTEGER;
      ALTER TABLE runs ADD COLUMN deleted_at INTEGER;
    `,
  },
];

/**
 * Migration numbers must be unique and listed in ascending order; gaps are allowed (numbers are
 * reserved by parallel changes and merged in any order). Each number is applied once, whatever
 * order they arrive in: a database that has 6 still gets 4 and 5 when they appear.
 */
export function checkMigrationList(list: readonly Migration[]): void {
  for (let i = 1; i < list.length; i++) {
    if (list[i]!.version <= list[i - 1]!.version) {
      throw new RegistryError(
        'INVALID_CONFIG',
        `migration ${list[i]!.version} ("${list[i]!.name}") is listed after migration ${list[i - 1]!.version}: numbers must be unique and ascending`,
        { where: STORE_NAME },
      );
    }
  }
}

const createLedger = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at INTEGER NOT NULL
)`;

function appliedVersions(db: Database.Database): Set<number> {
  const exists = db
    .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'")
    .get();
  if (!exists) return new Set();
  const rows = db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[];
  return new Set(rows);
}

/**
 * Applies the migrations this database lacks, each in its own `BEGIN IMMEDIATE` transaction that
 * re-checks the ledger after taking the write lock, so processes opening a fresh file together
 * apply each migration exactly once. Returns the versions this call applied. Busy errors propagate
 * (the caller retries the whole call).
 */
export function applyMigrations(db: Database.Database, list: readonly Migration[] = migrations): number[] {
  checkMigrationList(list);
  const done = appliedVersions(db);
  const pending = list.filter((m) => !done.has(m.version));
  if (pending.length === 0) return [];
  db.transaction(() => db.exec(createLedger)).immediate();
  const applied: number[] = [];
  for (const migration of pending) {
    const ran = db
      .transaction(() => {
        const already = db
          .prepare('SELECT 1 FROM schema_migrations WHERE version = ?')
          .get(migration.version);
        if (already) return false;
        db.exec(migration.sql);
        db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(
          migration.version,
          migration.name,
          Date.now(),
        );
        return true;
      })
      .immediate();
    if (ran) applied.push(migration.version);
  }
  return applied;
}
