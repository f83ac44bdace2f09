import { describe, expect, it } from 'vitest';
import { hasMethods, sqlRowMappers } from '../../src/index.js';

// The two drivers modelreg ships adapters for: SQLite hands back numbers and JSON text, pg hands back
// `bigint` as strings and `jsonb` already parsed.
const sqlite = sqlRowMappers<number, string>({ int: (v) => v, json: (text) => JSON.parse(text) });
const pg = sqlRowMappers<string | number, unknown>({ int: Number, json: (v) => v });

const file = { path: 'model/MODEL.json', key: 'runs/r1/artifacts/model/MODEL.json', sha256: 'ab', size: 12 };

describe('sqlRowMappers: one row-to-domain mapping for the SQL stores', () => {
  it('maps a version row the same from SQLite text columns and from pg bigint strings and jsonb', () => {
    const expected = {
      name: 'iris',
      version: 3,
      stage: 'production',
      source: 'runs:/r1/model',
      runId: 'r1',
      files: [file],
      description: 'd',
      tags: { team: 'ml' },
      aliases: ['Champion', 'b', 'champion'],
      createdAt: 1000,
      updatedAt: 2000,
      deletedAt: null,
    };
    const common = {
      name: 'iris',
      stage: 'production',
      source: 'runs:/r1/model',
      run_id: 'r1',
      description: 'd',
    };
    expect(
      sqlite.version(
        {
          ...common,
          version: 3,
          files: JSON.stringify([file]),
          tags: '{"team":"ml"}',
          created_at: 1000,
          updated_at: 2000,
          deleted_at: null,
        },
        ['champion', 'b', 'Champion'],
      ),
    ).toEqual(expected);
    expect(
      pg.version(
        {
          ...common,
          version: '3',
          files: [file],
          tags: { team: 'ml' },
          created_at: '1000',
          updated_at: '2000',
          deleted_at: null,
        },
        ['Champion', 'b', 'champion'],
      ),
    ).toEqual(expected);
  });

  it('orders a model’s aliases by code unit, as SQL COLLATE "C" does, and keeps prototype-named ones', () => {
    const model = sqlite.model(
      { name: 'm', description: '', tags: '{}', last_version: 4, created_at: 1, updated_at: 2 },
      { z: 1, __proto__x: 2, B: 3 },
    );
    expect(Object.keys(model.aliases)).toEqual(['B', '__proto__x', 'z']);
    expect(model.lastVersion).toBe(4);
    const proto = pg.model(
      { name: 'm', description: '', tags: {}, last_version: '1', created_at: '1', updated_at: '1' },
      JSON.parse('{"__proto__": 1}') as Record<string, number>,
    );
    expect(Object.hasOwn(proto.aliases, '__proto__')).toBe(true);
  });

  it('maps runs, metrics, history, datasets and events, keeping null integers null', () => {
    const run = pg.run(
      {
        id: 'r',
        experiment_id: 'e',
        name: 'n',
        status: 'running',
        parent_run_id: null,
        start_time: '5',
        end_time: null,
        deleted_at: '7',
      },
      { params: { a: '1' }, tags: {}, latestMetrics: { acc: 0.9 } },
    );
    expect(run).toEqual({
      id: 'r',
      experimentId: 'e',
      name: 'n',
      status: 'running',
      parentRunId: null,
      startTime: 5,
      endTime: null,
      params: { a: '1' },
      tags: {},
      latestMetrics: { acc: 0.9 },
      deletedAt: 7,
    });
    expect(pg.metric({ key: 'acc', value: 0.5, step: '2', timestamp: '9' })).toEqual({
      key: 'acc',
      value: 0.5,
      step: 2,
      timestamp: 9,
    });
    expect(
      sqlite.history({
        id: 7,
        name: 'm',
        kind: 'alias_set',
        version: 2,
        from_stage: null,
        to_stage: null,
        alias: 'champion',
        from_version: 1,
        actor: 'ana',
        comment: '',
        time: 3,
      }),
    ).toMatchObject({ id: 7, kind: 'alias_set', alias: 'champion', fromVersion: 1, fromStage: null });
    const columns = [{ name: 'x', type: 'number', missing: 0 }];
    expect(
      sqlite.dataset({
        name: 'd',
        version: 1,
        sha256: 's',
        size: 10,
        rows: 2,
        columns: JSON.stringify(columns),
        key: 'datasets/d/s.csv',
        original_name: 'D.csv',
        created_at: 1,
        deleted_at: 5,
      }),
    ).toEqual({
      name: 'd',
      version: 1,
      sha256: 's',
      size: 10,
      rows: 2,
      columns,
      key: 'datasets/d/s.csv',
      originalName: 'D.csv',
      createdAt: 1,
      deletedAt: 5,
    });
    expect(pg.event({ seq: '12', type: 'model.created', time: '3', payload: { name: 'm' } })).toEqual({
      seq: 12,
      type: 'model.created',
      time: 3,
      payload: { name: 'm' },
    });
    expect(
      sqlite.experiment({ id: 'e', name: 'x', tags: '{"k":"v"}', created_at: 4, deleted_at: null }),
    ).toEqual({ id: 'e', name: 'x', tags: { k: 'v' }, createdAt: 4, deletedAt: null });
    expect(pg.file({ ...file, size: '12' })).toEqual(file);
  });
});

describe('hasMethods: the duck-type check of a client given in options', () => {
  it('is true only for an object whose named members are all functions', () => {
    const pool = { connect: () => undefined, query: () => undefined, end: () => undefined };
    expect(hasMethods(pool, ['connect', 'query', 'end'])).toBe(true);
    expect(hasMethods(pool, ['connect', 'on'])).toBe(false);
    expect(hasMethods({ ...pool, query: 'SELECT 1' }, ['query'])).toBe(false);
    expect(hasMethods(null, ['query'])).toBe(false);
    expect(hasMethods('pool', ['toString'])).toBe(false);
    expect(
      hasMethods(
        new (class {
          query(): void {}
        })(),
        ['query'],
      ),
    ).toBe(true);
  });
});
