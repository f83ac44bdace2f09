import { ownValue } from '../domain/records.js';
import type { RunOrderBy, RunWhere } from '../domain/run-search.js';
import { compareText } from '../stores/rules.js';
import type { LoggedPoint, RunState } from './memory-state.js';

/** Highest step, then latest timestamp, then last logged wins. */
export const comparePoints = (a: LoggedPoint, b: LoggedPoint): number =>
  a.step - b.step || a.timestamp - b.timestamp || a.order - b.order;

function sortValue(state: RunState, key: RunOrderBy): string | number | null {
  if ('metric' in key) return state.latest.get(key.metric)?.value ?? null;
  if ('param' in key) return ownValue(state.run.params, key.param) ?? null;
  return state.run[key.field];
}

export function compareRuns(orderBy: RunOrderBy[]): (a: RunState, b: RunState) => number {
  return (a, b) => {
    for (const key of orderBy) {
      const x = sortValue(a, key);
      const y = sortValue(b, key);
      if (x === null || y === null) {
        if (x !== y) return x === null ? 1 : -1;
        continue;
      }
      const order =
        typeof x === 'number' && typeof y === 'number' ? x - y : compareText(String(x), String(y));
      if (order !== 0) return key.direction === 'desc' ? -order : order;
    }
    return b.run.startTime - a.run.startTime || compareText(a.run.id, b.run.id);
  };
}

export function matchesRun(state: RunState, where: RunWhere): boolean {
  const { run } = state;
  if (where.status !== undefined) {
    const statuses = Array.isArray(where.status) ? where.status : [where.status];
    if (!statuses.includes(run.status)) return false;
  }
  if (where.parentRunId !== undefined && run.parentRunId !== where.parentRunId) return false;
  for (const [key, value] of Object.entries(where.params ?? {})) {
    if (ownValue(run.params, key) !== String(value)) return false;
  }
  for (const [key, value] of Object.entries(where.tags ?? {})) {
    if (ownValue(run.tags, key) !== value) return false;
  }
  for (const [key, filter] of Object.entries(where.metrics ?? {})) {
    const value = state.latest.get(key)?.value;
    if (value === undefined) return false;
    if (filter.eq !== undefined && !(value === filter.eq)) return false;
    if (filter.gt !== undefined && !(value > filter.gt)) return false;
    if (filter.gte !== undefined && !(value >= filter.gte)) return false;
    if (filter.lt !== undefined && !(value < filter.lt)) return false;
    if (filter.lte !== undefined && !(value <= filter.lte)) return false;
  }
  return true;
}
