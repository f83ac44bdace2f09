import { RegistryError } from '@modelreg/core';
import type { NumberFilter, RunOrderBy, RunSearchQuery } from '@modelreg/core';
import { STORE_NAME } from './transactions.js';
import { LIMIT } from './context.js';

type Param = string | number | null;

export interface BuiltQuery {
  sql: string;
  params: Param[];
}

/** A run's latest value of one metric: highest step, then latest timestamp, then last logged. */
const LATEST_METRIC =
  '(SELECT m.value FROM metrics m WHERE m.run_id = r.id AND m.key = ? ORDER BY m.step DESC, m.timestamp DESC, m.seq DESC LIMIT 1)';
const PARAM_VALUE = '(SELECT p.value FROM params p WHERE p.run_id = r.id AND p.key = ?)';

/** The only column expressions a sort may use; never built from input. */
const fieldColumns = { startTime: 'r.start_time', endTime: 'r.end_time', name: 'r.name' } as const;

const comparisons: ReadonlyArray<[keyof NumberFilter, string]> = [
  ['eq', '='],
  ['gt', '>'],
  ['gte', '>='],
  ['lt', '<'],
  ['lte', '<='],
];

const placeholders = (n: number): string => Array.from({ length: n }, () => '?').join(', ');

function orderTerm(order: RunOrderBy): { expr: string; params: Param[]; desc: boolean } {
  const desc = order.direction === 'desc';
  if ('metric' in order) return { expr: LATEST_METRIC, params: [order.metric], desc };
  if ('param' in order) return { expr: PARAM_VALUE, params: [order.param], desc };
  const column = fieldColumns[order.field];
  if (!column) {
    throw new RegistryError('INVALID_ARGUMENT', `unknown sort field ${JSON.stringify(order.field)}`, {
      where: STORE_NAME,
    });
  }
  return { expr: column, params: [], desc };
}

/**
 * Builds the parameterized SELECT of run rows for `searchRuns`: filters, sort (missing values last
 * in either direction, ties by start time desc then id asc), limit and offset. Values are always
 * bound; the only SQL text taken from the query is chosen from fixed lists.
 */
export function buildSearchRuns(query: RunSearchQuery): BuiltQuery {
  const where: string[] = [`r.experiment_id IN (${placeholders(query.experimentIds.length)})`];
  const params: Param[] = [...query.experimentIds];
  const filter = query.where ?? {};
  const lifecycle = query.lifecycle ?? 'active';
  if (lifecycle !== 'all') where.push(`r.deleted_at IS ${lifecycle === 'active' ? '' : 'NOT '}NULL`);

  if (filter.status !== undefined) {
    const statuses = Array.isArray(filter.status) ? filter.status : [filter.status];
    if (statuses.length === 0) where.push('0');
    else {
      where.push(`r.status IN (${placeholders(statuses.length)})`);
      params.push(...statuses);
    }
  }
  for (const [key, value] of Object.entries(filter.params ?? {})) {
    where.push('EXISTS (SELECT 1 FROM params p WHERE p.run_id = r.id AND p.key = ? AND p.value = ?)');
    params.push(key, String(value));
  }
  for (const [key, value] of Object.entries(filter.tags ?? {})) {
    where.push('EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = r.id AND t.key = ? AND t.value = ?)');
    params.push(key, value);
  }
  for (const [key, bounds] of Object.entries(filter.metrics ?? {})) {
    where.push(`${LATEST_METRIC} IS NOT NULL`);
    params.push(key);
    for (const [name, operator] of comparisons) {
      const bound = bounds[name];
      if (bound === undefined) continue;
      where.push(`${LATEST_METRIC} ${operator} ?`);
      params.push(key, bound);
    }
  }
  if (filter.parentRunId === null) where.push('r.parent_run_id IS NULL');
  else if (filter.parentRunId !== undefined) {
    where.push('r.parent_run_id = ?');
    params.push(filter.parentRunId);
  }

  const orderBy = query.orderBy && query.orderBy.length > 0 ? query.orderBy : [];
  const order: string[] = [];
  for (const term of orderBy.map(orderTerm)) {
    order.push(`(${term.expr} IS NULL)`, `${term.expr} ${term.desc ? 'DESC' : 'ASC'}`);
    params.push(...term.params, ...term.params);
  }
  order.push('r.start_time DESC', 'r.id ASC');

  const sql = `SELECT r.* FROM runs r WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')} ${LIMIT} OFFSET ?`;
  params.push(query.limit, query.offset);
  return { sql, params };
}
