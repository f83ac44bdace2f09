import type { HousekeepingMethods } from '@modelreg/core';
import type { StoreContext } from './context.js';

const REGISTRY_ID = 'registry_id';
const STALE_RUNS = `SELECT id FROM runs
  WHERE status = 'running' AND COALESCE(heartbeat_at, start_time) < ? ORDER BY id`;

/** The registry id (binding to the artifact store) and run heartbeats. */
export function createHousekeepingMethods(ctx: StoreContext): HousekeepingMethods {
  return {
    getRegistryId: (): Promise<string | null> =>
      ctx.read(
        'getRegistryId',
        () =>
          ctx.get<{ value: string }>('SELECT value FROM registry_info WHERE key = ?', REGISTRY_ID)?.value ??
          null,
      ),

    claimRegistryId: (id) =>
      ctx.write('claimRegistryId', () => {
        ctx.run(
          'INSERT INTO registry_info (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING',
          REGISTRY_ID,
          id,
        );
        return ctx.get<{ value: string }>('SELECT value FROM registry_info WHERE key = ?', REGISTRY_ID)!
          .value;
      }),

    heartbeatRuns: (runIds, time) =>
      ctx.write('heartbeatRuns', () => {
        const alive: string[] = [];
        for (const id of runIds) {
          const changed = ctx.run(
            "UPDATE runs SET heartbeat_at = ? WHERE id = ? AND status = 'running'",
            time,
            id,
          ).changes;
          if (changed > 0) alive.push(id);
        }
        return alive;
      }),

    expireRuns: ({ heartbeatBefore, endTime, dryRun }) =>
      dryRun
        ? ctx.read('expireRuns', () => ctx.all<{ id: string }>(STALE_RUNS, heartbeatBefore).map((r) => r.id))
        : ctx.write('expireRuns', () => {
            const ids = ctx.all<{ id: string }>(STALE_RUNS, heartbeatBefore).map((r) => r.id);
            for (const id of ids) {
              ctx.run("UPDATE runs SET status = 'failed', end_time = ? WHERE id = ?", endTime, id);
              ctx.emit('run.updated', { runId: id, status: 'failed' });
            }
            return ids;
          }),
  };
}
