import type { NumberFilter, RunOrderBy, RunSearchQuery } from '@modelreg/core';

const comparisons: Array<[keyof NumberFilter, string]> = [
  ['eq', '='],
  ['gt', '>'],
  ['gte', '>='],
  ['lt', '<'],
  ['lte', '<='],
];

/**
 * Builds the parameterized SELECT of `searchRuns`. Params, tags and latest metric values live in
 * jsonb columns of the run row, so every filter and sort key is an expression on that row; text
 * compares byte-wise (`COLLATE "C"`), like JavaScript's `<` on the ASCII names we allow.
 */
export function searchRuns(
  s: string,
  columns: string,
  query: RunSearchQuery,
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const p = (value: unknown): string => {
    params.push(value);
    return `$${params.length}`;
  };
  const where = [`experiment_id = ANY(${p(query.experimentIds)}::text[])`];
  const w = query.where ?? {};
  const lifecycle = query.lifecycle ?? 'active';
  if (lifecycle !== 'all') where.push(`deleted_at IS ${lifecycle === 'active' ? '' : 'NOT '}NULL`);
  if (w.status !== undefined) {
    where.push(`status = ANY(${p(Array.isArray(w.status) ? w.status : [w.status])}::text[])`);
  }
  if (w.parentRunId === null) where.push('parent_run_id IS NULL');
  else if (w.parentRunId !== undefined) where.push(`parent_run_id = ${p(w.parentRunId)}`);
  for (const [key, value] of Object.entries(w.params ?? {})) {
    where.push(`params ->> ${p(key)} = ${p(String(value))}`);
  }
  for (const [key, value] of Object.entries(w.tags ?? {})) {
    where.push(`tags ->> ${p(key)} = ${p(value)}`);
  }
  for (const [key, filter] of Object.entries(w.metrics ?? {})) {
    const metric = `(latest_metrics ->> ${p(key)})::float8`;
    where.push(`${metric} IS NOT NULL`);
    for (const [bound, op] of comparisons) {
      const value = filter[bound];
      if (value !== undefined) where.push(`${metric} ${op} ${p(value)}::float8`);
    }
  }

  const order = (query.orderBy ?? []).map((key: RunOrderBy) => {
    const direction = key.direction === 'desc' ? 'DESC' : 'ASC';
    let expression: string;
    if ('metric' in key) expression = `(latest_metrics ->> ${p(key.metric)})::float8`;
    else if ('param' in key) expression = `(params ->> ${p(key.param)}) COLLATE "C"`;
    else if (key.field === 'name') expression = 'name COLLATE "C"';
    else expression = key.field === 'startTime' ? 'start_time' : 'end_time';
    return `${expression} ${direction} NULLS LAST`;
  });
  order.push('start_time DESC', 'id COLLATE "C" ASC');

  const sql = `SELECT ${columns} FROM ${s}.runs WHERE ${where.join(' AND ')}
    ORDER BY ${order.join(', ')} LIMIT ${p(query.limit)} OFFSET ${p(query.offset)}`;
  return { sql, params };
}
