import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { copyModelVersion } from '../../src/registry/copy.js';
import {
  Injector,
  describeStep,
  everyStep,
  openInjectable,
  registryState,
  trainRegisterScenario,
} from './inject.js';

/**
 * Issue 11, acceptance 2: train with `register` and copyModelVersion are one metadata transaction.
 * A failure injected at each store call they make leaves the registry exactly as it was.
 */
const iris = readFileSync(new URL('../fixtures/datasets/iris.csv', import.meta.url));
const rows = [
  { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 },
  { sepal_length_cm: 6.7, sepal_width_cm: 3.0, petal_length_cm: 5.2, petal_width_cm: 2.3 },
];
const small = { type: 'decision-tree', params: { maxDepth: 4 } };

describe('train with register is all or nothing', () => {
  const setup = async (injector: Injector) => {
    const target = await openInjectable(injector, 'registry');
    const operation = await trainRegisterScenario(target, iris);
    return { target, operation };
  };

  it('a failure at any store call leaves no run, no version, no stage move and no alias move', async () => {
    const steps = await everyStep(setup, async (target, before, step) => {
      expect(await registryState(target), `state after a failure at ${describeStep(step)}`).toEqual(before);
      // The version it had is still the one serving.
      expect(await target.predict('models:/iris@champion', rows)).toEqual(['setosa', 'virginica']);
    });
    // The calls that write: the model files, then one metadata call for everything else.
    const writes = steps.filter((s) => ['put', 'createVersion', 'createRun', 'logParams'].includes(s.method));
    expect(writes.map((s) => s.method)).toEqual(['put', 'put', 'put', 'put', 'createVersion']);
  }, 240_000);

  it('the registration creates the finished run, the version in its stage, archives the old one and moves the alias', async () => {
    const { target, operation } = await setup(new Injector());
    await operation();
    expect((await target.listVersions('iris')).map((v) => [v.version, v.stage, v.aliases])).toEqual([
      [1, 'archived', []],
      [2, 'production', ['champion']],
    ]);
    const history = await target.getStageHistory('iris', { version: 2 });
    expect(history.map((h) => [h.kind, h.fromStage, h.toStage, h.alias])).toEqual([
      ['stage', 'none', 'production', null],
      ['alias_set', null, null, 'champion'],
    ]);
    const { runs } = await target.searchRuns({ experiment: 'iris' });
    expect(runs.map((r) => r.status)).toEqual(['finished', 'finished']);
  });
});

describe('copyModelVersion is all or nothing', () => {
  const setup = async (injector: Injector) => {
    const source = await openInjectable(injector, 'source');
    await source.datasets.upload('iris.csv', iris);
    await source.train({
      experiment: 'iris',
      dataset: 'iris',
      target: 'species',
      model: small,
      register: { name: 'iris', stage: 'staging' },
    });
    await source.train({
      experiment: 'iris',
      dataset: 'iris',
      target: 'species',
      model: { type: 'random-forest', params: { nEstimators: 5, maxDepth: 4 } },
      register: { name: 'iris' },
    });
    const target = await openInjectable(injector, 'target');
    await copyModelVersion(source, target, {
      name: 'iris',
      version: 1,
      stage: 'production',
      alias: 'champion',
    });
    const operation = () =>
      copyModelVersion(source, target, {
        name: 'iris',
        version: 2,
        stage: 'production',
        archiveExisting: true,
        alias: 'champion',
      });
    return { target, operation };
  };

  it('a failure at any store call of either registry leaves the target exactly as it was', async () => {
    const steps = await everyStep(setup, async (target, before, step) => {
      expect(await registryState(target), `state after a failure at ${describeStep(step)}`).toEqual(before);
      expect(await target.predict('models:/iris/production', rows)).toEqual(['setosa', 'virginica']);
    });
    expect(steps.filter((s) => s.store === 'target.metadata' && s.method === 'createVersion')).toHaveLength(
      1,
    );
    expect(steps.some((s) => s.store === 'source.artifacts' && s.method === 'getStream')).toBe(true);
  }, 240_000);

  it('the files a failed copy wrote are removed again', async () => {
    const injector = new Injector({ store: 'target.metadata', method: 'createVersion', nth: 1 });
    const { target, operation } = await setup(injector);
    const keys = (await target.stores.artifacts.list('')).map((o) => o.key);
    await expect(injector.during(operation)).rejects.toMatchObject({ code: 'STORE_FAILURE' });
    expect((await target.stores.artifacts.list('')).map((o) => o.key)).toEqual(keys);
  });
});
