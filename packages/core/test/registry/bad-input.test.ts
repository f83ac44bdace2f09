import { beforeEach, describe, expect, it } from 'vitest';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import type { RunHandle } from '../../src/registry/runs.js';
import { openMemoryRegistry, runWithModel, snapshot } from './helpers.js';

/**
 * Every bad input gets a RegistryError with the right code, and the registry is exactly as it was.
 */
describe('bad input leaves the registry unchanged', () => {
  let registry: ModelRegistry;
  let run: RunHandle;

  beforeEach(async () => {
    registry = await openMemoryRegistry();
    const runId = await runWithModel(registry);
    await registry.registerModel('good', { runId });
    await registry.setAlias('good', 'champion', 1);
    run = await registry.startRun({ experiment: 'exp' });
    await run.logParams({ lr: 0.1 });
  });

  const badNames = ['', 'x'.repeat(129), '../x', 'a/b', 'a\u0000b', '.', '..', 'sp ace'];

  const cases: [string, string, () => Promise<unknown>][] = [
    ...badNames.map((name): [string, string, () => Promise<unknown>] => [
      `createModel(${JSON.stringify(name.slice(0, 12))})`,
      'INVALID_ARGUMENT',
      () => registry.createModel(name),
    ]),
    ...badNames.map((name): [string, string, () => Promise<unknown>] => [
      `registerModel into ${JSON.stringify(name.slice(0, 12))}`,
      'INVALID_ARGUMENT',
      () => registry.registerModel(name, { runId: run.id }),
    ]),
    ...badNames.map((name): [string, string, () => Promise<unknown>] => [
      `startRun in experiment ${JSON.stringify(name.slice(0, 12))}`,
      'INVALID_ARGUMENT',
      () => registry.startRun({ experiment: name }),
    ]),
    ['createModel of an existing name', 'ALREADY_EXISTS', () => registry.createModel('good')],
    ['unknown version', 'NOT_FOUND', () => registry.transitionStage('good', 7, 'production')],
    ['unknown model', 'NOT_FOUND', () => registry.transitionStage('nope', 1, 'production')],
    ['version 0', 'INVALID_ARGUMENT', () => registry.transitionStage('good', 0, 'production')],
    ['version 1.5', 'INVALID_ARGUMENT', () => registry.transitionStage('good', 1.5, 'production')],
    ['unknown stage', 'INVALID_ARGUMENT', () => registry.transitionStage('good', 1, 'prod')],
    ['alias to unknown version', 'NOT_FOUND', () => registry.setAlias('good', 'x', 9)],
    [
      'alias compare-and-set lost',
      'CONFLICT',
      () => registry.setAlias('good', 'champion', 1, { ifVersion: 3 }),
    ],
    ['delete of a missing alias', 'NOT_FOUND', () => registry.deleteAlias('good', 'nobody')],
    ['NaN metric', 'INVALID_ARGUMENT', () => run.logMetric('loss', Number.NaN)],
    ['Infinity metric', 'INVALID_ARGUMENT', () => run.logMetric('loss', Number.POSITIVE_INFINITY)],
    ['-Infinity metric', 'INVALID_ARGUMENT', () => run.logMetrics({ ok: 1, loss: Number.NEGATIVE_INFINITY })],
    ['negative step', 'INVALID_ARGUMENT', () => run.logMetric('loss', 1, { step: -1 })],
    ['param logged again with another value', 'CONFLICT', () => run.logParams({ lr: 0.2 })],
    ['param batch where one conflicts', 'CONFLICT', () => run.logParams({ fresh: 1, lr: 0.3 })],
    ['bad tag key', 'INVALID_ARGUMENT', () => run.setTags({ 'a/b': 'x' })],
    ['artifact path escaping the run', 'INVALID_ARGUMENT', () => run.logArtifact('../../x', 'x')],
    ['absolute artifact path', 'INVALID_ARGUMENT', () => run.logArtifact('/etc/passwd', 'x')],
    ['malformed URI: no scheme', 'INVALID_ARGUMENT', () => registry.resolve('iris/1')],
    ['malformed URI: empty name', 'INVALID_ARGUMENT', () => registry.resolve('models://1')],
    ['malformed URI: extra segment', 'INVALID_ARGUMENT', () => registry.resolve('models:/good/1/2')],
    ['malformed URI: version 0', 'INVALID_ARGUMENT', () => registry.resolve('models:/good/0')],
    ['malformed URI: bad alias', 'INVALID_ARGUMENT', () => registry.resolve('models:/good@bad/alias')],
    ['malformed URI: run path escape', 'INVALID_ARGUMENT', () => registry.resolve('runs:/abc/../x')],
    ['malformed URI: run without path', 'INVALID_ARGUMENT', () => registry.resolve('runs:/abc')],
    ['unknown run', 'NOT_FOUND', () => registry.registerModel('good', { runId: 'missing' })],
    [
      'register with both runId and source',
      'INVALID_ARGUMENT',
      () => registry.registerModel('good', { runId: run.id, source: `runs:/${run.id}/model` }),
    ],
    ['ending a run with an unknown status', 'INVALID_ARGUMENT', () => run.end('done' as never)],
  ];

  it.each(cases)('%s -> %s', async (_label, code, call) => {
    const before = await snapshot(registry);
    const error = await call().then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ name: 'RegistryError', code });
    expect((error as Error).message).toMatch(/^\[modelreg\] /);
    expect(await snapshot(registry)).toEqual(before);
  });

  it('ending a run twice is CONFLICT and changes nothing', async () => {
    await run.end();
    const before = await snapshot(registry);
    await expect(run.end('failed')).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await snapshot(registry)).toEqual(before);
  });
});
