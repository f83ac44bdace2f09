import { describe, expect, it } from 'vitest';
import type { Run } from '@modelreg/core';
import { compileRunFilter, compileRunOrderBy, MlflowError, parseFilter } from '../src/index.js';

const run = (over: Partial<Run>): Run => ({
  id: 'a'.repeat(32),
  experimentId: 'e'.repeat(32),
  name: 'run-1',
  status: 'finished',
  parentRunId: null,
  startTime: 1000,
  endTime: 2000,
  params: {},
  tags: {},
  latestMetrics: {},
  deletedAt: null,
  ...over,
});

describe("MLflow's filter grammar", () => {
  it('parses the examples of the issue into clauses', () => {
    expect(parseFilter("metrics.acc > 0.9 and params.solver = 'lbfgs' and tags.team = 'vision'")).toEqual([
      { entity: 'metric', key: 'acc', comparator: '>', value: 0.9, position: 1 },
      { entity: 'param', key: 'solver', comparator: '=', value: 'lbfgs', position: 23 },
      { entity: 'tag', key: 'team', comparator: '=', value: 'vision', position: 51 },
    ]);
    expect(parseFilter("attributes.status = 'FINISHED'")).toEqual([
      { entity: 'attribute', key: 'status', comparator: '=', value: 'FINISHED', position: 1 },
    ]);
    expect(parseFilter("tags.`my key` LIKE 'a%'")).toEqual([
      { entity: 'tag', key: 'my key', comparator: 'LIKE', value: 'a%', position: 1 },
    ]);
    expect(parseFilter("name = 'x'")).toEqual([
      { entity: 'attribute', key: 'name', comparator: '=', value: 'x', position: 1 },
    ]);
    expect(parseFilter("name LIKE 'iris%'")).toEqual([
      { entity: 'attribute', key: 'name', comparator: 'LIKE', value: 'iris%', position: 1 },
    ]);
    const id = 'f'.repeat(32);
    expect(parseFilter(`run_id IN ('${id}', "${'0'.repeat(32)}")`)).toEqual([
      { entity: 'attribute', key: 'run_id', comparator: 'IN', value: [id, '0'.repeat(32)], position: 1 },
    ]);
    expect(parseFilter('')).toEqual([]);
    expect(parseFilter('  ')).toEqual([]);
    expect(
      parseFilter('metrics."val acc" <= -1e-3 AND params.x != "y" and tags.a ILIKE \'%B_\''),
    ).toHaveLength(3);
  });

  it('maps the examples onto the typed search, and checks the rest per run', () => {
    const vision = compileRunFilter("metrics.acc > 0.9 and params.solver = 'lbfgs' and tags.team = 'vision'");
    expect(vision.where).toEqual({
      metrics: { acc: { gt: 0.9 } },
      params: { solver: 'lbfgs' },
      tags: { team: 'vision' },
    });
    expect(vision.hasResidual).toBe(false);
    expect(compileRunFilter("attributes.status = 'FINISHED'").where).toEqual({ status: 'finished' });

    const like = compileRunFilter("tags.`my key` LIKE 'a%'");
    expect(like.where).toEqual({});
    expect(like.residual(run({ tags: { 'my key': 'abc' } }))).toBe(true);
    expect(like.residual(run({ tags: { 'my key': 'Abc' } }))).toBe(false);
    expect(compileRunFilter("tags.k ILIKE 'a%'").residual(run({ tags: { k: 'Abc' } }))).toBe(true);

    const ids = compileRunFilter(`run_id IN ('${'a'.repeat(32)}')`);
    expect(ids.residual(run({}))).toBe(true);
    expect(ids.residual(run({ id: 'b'.repeat(32) }))).toBe(false);
    const ne = compileRunFilter("params.x != '1' and metrics.m != 2 and attributes.start_time >= 1000");
    expect(ne.residual(run({ params: { x: '2' }, latestMetrics: { m: 3 } }))).toBe(true);
    expect(ne.residual(run({ params: { x: '1' }, latestMetrics: { m: 3 } }))).toBe(false);
    expect(ne.residual(run({ params: { x: '2' } }))).toBe(false);
    expect(compileRunFilter("run_name = 'lr-1'").residual(run({ tags: { 'mlflow.runName': 'lr-1' } }))).toBe(
      true,
    );
  });

  it('maps order_by', () => {
    expect(
      compileRunOrderBy(['metrics.acc DESC', 'params.C', 'attributes.start_time asc', 'run_name']),
    ).toEqual([
      { metric: 'acc', direction: 'desc' },
      { param: 'C', direction: 'asc' },
      { field: 'startTime', direction: 'asc' },
      { field: 'name', direction: 'asc' },
    ]);
    expect(() => compileRunOrderBy(['tags.x'])).toThrow(MlflowError);
    expect(() => compileRunOrderBy(['metrics.acc sideways'])).toThrow(/Invalid order_by/);
  });

  // [filter, the 1-based position the message must name]
  const malformed: [string, number][] = [
    ['metrics.acc >', 14],
    ['metrics.acc 0.9', 13],
    ['params.solver = lbfgs', 17],
    ["params.solver = 'lbfgs", 17],
    ['tags.team', 10],
    ['metrics.acc > 0.9 and', 22],
    ["metrics.acc > 0.9 or params.a = 'b'", 19],
    ["metrics.acc > 0.9 params.a = 'b'", 19],
    ["foo.bar = 'x'", 1],
    ["= 'x'", 1],
    ['metrics. > 1', 10],
    ["run_id IN 'a'", 11],
    ["run_id IN ('a' 'b')", 16],
    ['run_id IN (1, 2)', 12],
    ["run_id IN ('a',", 16],
    ["params.a ! 'b'", 10],
    ["params.a = 'b' AND AND params.c = 'd'", 20],
    ["params.a = 'b' # comment", 16],
    ['metrics.acc > 1x', 15],
    ["tags.`open = 'x'", 6],
    ['params.a LIKE', 14],
    ["(params.a = 'b')", 1],
  ];
  it.each(malformed)('refuses %j with INVALID_PARAMETER_VALUE naming position %i', (filter, position) => {
    let caught: unknown;
    try {
      parseFilter(filter);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(MlflowError);
    expect((caught as MlflowError).code).toBe('INVALID_PARAMETER_VALUE');
    expect((caught as MlflowError).status).toBe(400);
    expect((caught as MlflowError).message).toContain(`at position ${position}`);
  });

  it('refuses clauses that parse but do not apply, naming the position', () => {
    for (const [filter, position] of [
      ["metrics.acc = 'high'", 1],
      ["params.a = 'b' and params.c > 1", 20],
      ["attributes.artifact_uri = 'x'", 1],
      ["attributes.status = 'DONE'", 1],
      ['metrics.acc LIKE 1', 1],
    ] as const) {
      expect(() => compileRunFilter(filter)).toThrow(`at position ${position}`);
    }
  });
});
