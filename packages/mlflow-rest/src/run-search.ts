import type { NumberFilter, Run, RunOrderBy, RunStatus, RunWhere } from '@modelreg/core';
import { invalidParameter } from './errors.js';
import type { Clause } from './filter.js';
import { matchNumber, matchString, parseFilter, unsupportedClause } from './filter.js';
import { runName } from './views.js';

/** A filter split into what modelreg's typed search does (`where`) and what the router checks per run. */
export interface CompiledRunFilter {
  where: RunWhere;
  /** Clauses the typed search cannot express (`!=`, LIKE, IN, run_id, run_name, times). */
  residual: (run: Run) => boolean;
  hasResidual: boolean;
}

const statuses: Record<string, RunStatus> = {
  RUNNING: 'running',
  FINISHED: 'finished',
  FAILED: 'failed',
  KILLED: 'killed',
};

const numberOps: Partial<Record<Clause['comparator'], keyof NumberFilter>> = {
  '=': 'eq',
  '>': 'gt',
  '>=': 'gte',
  '<': 'lt',
  '<=': 'lte',
};

/** The string value of an attribute of a run, as MLflow names them; `undefined` for an unknown one. */
function stringAttribute(run: Run, key: string): string | undefined {
  switch (key) {
    case 'run_id':
    case 'run_uuid':
      return run.id;
    case 'run_name':
      return runName(run);
    case 'status':
      return run.status.toUpperCase();
    case 'user_id':
      return run.tags['mlflow.user'] ?? '';
    default:
      return undefined;
  }
}

const stringAttributes = new Set(['run_id', 'run_uuid', 'run_name', 'status', 'user_id']);
const numberAttributes = new Set(['start_time', 'end_time']);

/** Parses an MLflow runs filter and maps it onto modelreg's typed run search. */
export function compileRunFilter(filter: string): CompiledRunFilter {
  const clauses = parseFilter(filter);
  const where: {
    status?: RunStatus;
    params?: Record<string, string>;
    tags?: Record<string, string>;
    metrics?: Record<string, NumberFilter>;
  } = {};
  const checks: ((run: Run) => boolean)[] = [];
  for (const c of clauses) {
    switch (c.entity) {
      case 'metric': {
        if (typeof c.value !== 'number') {
          throw unsupportedClause(c, filter, `metrics.${c.key} compares with a number`);
        }
        const op = numberOps[c.comparator];
        const current = (where.metrics ??= {})[c.key] ?? {};
        if (op && current[op] === undefined) {
          where.metrics[c.key] = { ...current, [op]: c.value };
        } else if (c.comparator === '!=' || op) {
          checks.push((run) => matchNumber(run.latestMetrics[c.key], c, filter));
        } else {
          throw unsupportedClause(
            c,
            filter,
            `${c.comparator} does not apply to metrics (use =, !=, >, >=, <, <=)`,
          );
        }
        break;
      }
      case 'param':
      case 'tag': {
        const field = c.entity === 'param' ? 'params' : 'tags';
        if (typeof c.value === 'number') {
          throw unsupportedClause(c, filter, `${field}.${c.key} compares with a quoted string, not a number`);
        }
        if (!['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'].includes(c.comparator)) {
          throw unsupportedClause(
            c,
            filter,
            `${c.comparator} does not apply to ${field} (use =, !=, LIKE, ILIKE)`,
          );
        }
        const equal = where[field] ?? {};
        if (c.comparator === '=' && typeof c.value === 'string' && equal[c.key] === undefined) {
          where[field] = { ...equal, [c.key]: c.value };
        } else {
          checks.push((run) => matchString(run[field][c.key], c, filter));
        }
        break;
      }
      case 'attribute': {
        if (numberAttributes.has(c.key)) {
          const field = c.key === 'start_time' ? 'startTime' : 'endTime';
          if (typeof c.value !== 'number')
            throw unsupportedClause(c, filter, `${c.key} compares with a number`);
          matchNumber(0, c, filter); // refuses LIKE / IN on a number now, not per run
          checks.push((run) => matchNumber(run[field], c, filter));
        } else if (stringAttributes.has(c.key)) {
          if (typeof c.value === 'number') {
            throw unsupportedClause(c, filter, `${c.key} compares with a quoted string, not a number`);
          }
          if (c.key === 'status') {
            const values = Array.isArray(c.value) ? c.value : [c.value];
            for (const v of values) {
              if (!statuses[v.toUpperCase()]) {
                throw unsupportedClause(
                  c,
                  filter,
                  `status ${JSON.stringify(v)} is not one of RUNNING, FINISHED, FAILED, KILLED`,
                );
              }
            }
            if (c.comparator === '=' && where.status === undefined) {
              where.status = statuses[(c.value as string).toUpperCase()]!;
              break;
            }
          }
          if (
            (c.key === 'run_id' || c.key === 'run_uuid') &&
            !['=', '!=', 'IN', 'NOT IN'].includes(c.comparator)
          ) {
            throw unsupportedClause(
              c,
              filter,
              `${c.comparator} does not apply to run_id (use =, !=, IN, NOT IN)`,
            );
          }
          if (c.key === 'status' && !['=', '!=', 'IN', 'NOT IN'].includes(c.comparator)) {
            throw unsupportedClause(
              c,
              filter,
              `${c.comparator} does not apply to status (use =, !=, IN, NOT IN)`,
            );
          }
          if (!['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'].includes(c.comparator)) {
            throw unsupportedClause(c, filter, `${c.comparator} does not apply to ${c.key}`);
          }
          const compare: Clause =
            c.key === 'status'
              ? {
                  ...c,
                  value: Array.isArray(c.value)
                    ? c.value.map((v) => v.toUpperCase())
                    : (c.value as string).toUpperCase(),
                }
              : c;
          checks.push((run) => matchString(stringAttribute(run, c.key), compare, filter));
        } else {
          throw unsupportedClause(
            c,
            filter,
            `unknown attribute "${c.key}" (searchable: run_id, run_name, status, user_id, start_time, end_time)`,
          );
        }
        break;
      }
    }
  }
  return {
    where: where as RunWhere,
    residual: (run) => checks.every((check) => check(run)),
    hasResidual: checks.length > 0,
  };
}

/** MLflow's `order_by` (`metrics.acc DESC`, `params.x`, `start_time`, `attributes.run_name ASC`). */
export function compileRunOrderBy(orderBy: string[]): RunOrderBy[] {
  const out: RunOrderBy[] = [];
  for (const raw of orderBy) {
    const m =
      /^\s*(?:(metrics?|params?|tags?|attributes?|attr|run)\.)?(`[^`]+`|"[^"]+"|[A-Za-z0-9_.-]+)(?:\s+(asc|desc))?\s*$/i.exec(
        raw,
      );
    if (!m)
      throw invalidParameter(`Invalid order_by clause ${JSON.stringify(raw)}: expected "<key> [ASC|DESC]"`);
    const entity = (m[1] ?? 'attributes').toLowerCase();
    const key = m[2]!.replace(/^[`"]|[`"]$/g, '');
    const direction = (m[3]?.toLowerCase() ?? 'asc') as 'asc' | 'desc';
    if (entity.startsWith('metric')) out.push({ metric: key, direction });
    else if (entity.startsWith('param')) out.push({ param: key, direction });
    else if (entity.startsWith('tag')) {
      throw invalidParameter(
        `Invalid order_by clause ${JSON.stringify(raw)}: ordering by tags is not supported`,
      );
    } else {
      const field = ({ start_time: 'startTime', end_time: 'endTime', run_name: 'name' } as const)[
        key as 'start_time' | 'end_time' | 'run_name'
      ];
      if (!field) {
        throw invalidParameter(
          `Invalid order_by clause ${JSON.stringify(raw)}: attribute "${key}" cannot be ordered by (use start_time, end_time or run_name)`,
        );
      }
      out.push({ field, direction });
    }
  }
  return out;
}
