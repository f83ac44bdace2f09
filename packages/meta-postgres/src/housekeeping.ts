import type { HousekeepingMethods } from '@modelreg/core';
import type { Db } from './db.js';

const REGISTRY_ID = 'registry_id';

/** The registry id (binding to the artifact store) and run heartbeats. */
export function housekeepingMethods(db: Db): HousekeepingMethods {
  const { s } = db;
  const staleRuns = `status = 'running' AND COALESCE(heartbeat_at, start_time) < $1`;
  return {
    async getRegistryId() {
      const [row] = await db.read<{ value: string }>(`SELECT value FROM ${s}.registry_info WHERE key = $1`, [
        REGISTRY_ID,
      ]);
      return row?.value ?? null;
    },

    claimRegistryId: (id) =>
      db.transaction(async (tx) => {
        await tx.query(
          `INSERT INTO ${s}.registry_info (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`,
          [REGISTRY_ID, id],
        );
        const [row] = await tx.query<{ value: string }>(
          `SELECT value FROM ${s}.registry_info WHERE key = $1`,
          [REGISTRY_ID],
        );
        return row!.value;
      }),

    heartbeatRuns: (runIds, time) =>
      db.transaction(async (tx) => {
        const rows = await tx.query<{ id: string }>(
          `UPDATE ${s}.runs SET heartbeat_at = $2 WHERE id = ANY($1::text[]) AND status = 'running' RETURNING id`,
          [runIds, time],
        );
        const alive = new Set(rows.map((r) => r.id));
        return runIds.filter((id) => alive.has(id));
      }),

    async expireRuns({ heartbeatBefore, endTime, dryRun }) {
      if (dryRun) {
        const rows = await db.read<{ id: string }>(
          `SELECT id FROM ${s}.runs WHERE ${staleRuns} ORDER BY id`,
          [heartbeatBefore],
        );
        return rows.map((r) => r.id);
      }
      return db.transaction(async (tx) => {
        const rows = await tx.query<{ id: string }>(
          `UPDATE ${s}.runs SET status = 'failed', end_time = $2 WHERE ${staleRuns} RETURNING id`,
          [heartbeatBefore, endTime],
        );
        const ids = rows.map((r) => r.id).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
        for (const runId of ids) tx.emit('run.updated', { runId, status: 'failed' });
        return ids;
      });
    },
  };
}
