import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Deployments } from '../../src/registry/deployments.js';
import { DatasetCatalog } from '../../src/datasets/dataset-catalog.js';
import type { RegistryErrorCode } from '../../src/errors.js';
import { isRegistryError } from '../../src/errors.js';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import type { RunHandle } from '../../src/registry/runs.js';
import { RunHandle as RunHandleClass } from '../../src/registry/runs.js';
import type { Canary } from '../../src/serving/canary.js';
import type { LiveModel } from '../../src/serving/live-model.js';
import type { LoadedModel } from '../../src/serving/load.js';
import { openMemoryRegistry, snapshot } from './helpers.js';

/**
 * Acceptance 6 of issue 11: every public method of the registry, a loaded model, a live model, a
 * canary, the dataset catalog and a run handle, called with malformed arguments (wrong types,
 * missing arguments, bad names, bad numbers, bad option objects, unknown keys), throws a
 * RegistryError with the right code — never a ZodError, a TypeError or a plain Error — and leaves the
 * registry as it was. Methods are enumerated from the objects, so a new public method without cases
 * fails the "has cases" test.
 */

const irisCsv = readFileSync(new URL('../fixtures/datasets/iris.csv', import.meta.url));
const IRIS = 'models:/iris/1';
const ROW = { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 };
const BAD = 'INVALID_ARGUMENT';

/** One malformed call: a label, the expected code, and the call on the object under test. */
type Case<T> = [label: string, code: RegistryErrorCode, call: (target: T) => unknown];
/** Per public method, its malformed calls; `[]` only for methods that take no arguments. */
type Cases<T> = Record<string, Case<T>[]>;

/** Methods on `object` and its prototypes (up to Object.prototype), minus the TypeScript-private ones. */
function methodsOf(object: object, notPublic: readonly string[] = []): string[] {
  const names = new Set<string>();
  for (
    let o: object | null = object;
    o && o !== Object.prototype;
    o = Object.getPrototypeOf(o) as object | null
  ) {
    for (const name of Object.getOwnPropertyNames(o)) {
      const d = Object.getOwnPropertyDescriptor(o, name);
      if (name !== 'constructor' && typeof d?.value === 'function') names.add(name);
    }
  }
  return [...names].filter((n) => !notPublic.includes(n)).sort();
}

/** The error of a call, whether it throws synchronously or rejects; `null` when it succeeds. */
async function errorOf(call: () => unknown): Promise<unknown> {
  try {
    await call();
    return null;
  } catch (e) {
    return e;
  }
}

let registry: ModelRegistry;
let run: RunHandle;
let loaded: LoadedModel;
let live: LiveModel;
let canary: Canary;
let before: unknown;

beforeAll(async () => {
  registry = await openMemoryRegistry();
  await registry.datasets.upload('iris.csv', irisCsv);
  await registry.train({
    experiment: 'iris',
    dataset: 'iris',
    target: 'species',
    model: { type: 'decision-tree' },
    register: { name: 'iris', stage: 'production', alias: 'champion' },
  });
  run = await registry.startRun({ experiment: 'iris' });
  await run.logMetric('acc', 0.9);
  loaded = await registry.load(IRIS);
  live = registry.watch('models:/iris/production');
  await live.ready();
  canary = registry.canary({ model: 'iris', current: 'production', next: 1, weight: 0.1 });
  await canary.ready();
  before = await snapshot(registry);
});

afterAll(async () => {
  await registry.close();
});

function describeCases<T extends object>(
  what: string,
  target: () => T,
  cases: () => Cases<T>,
  notPublic: readonly string[] = [],
): void {
  describe(`${what}: malformed arguments are RegistryErrors`, () => {
    it('every public method has cases (a new method needs its own)', () => {
      expect(Object.keys(cases()).sort()).toEqual(methodsOf(target(), notPublic));
    });

    const flat = (): [string, RegistryErrorCode, (t: T) => unknown][] =>
      Object.entries(cases()).flatMap(([method, list]) =>
        list.map(([label, code, call]): [string, RegistryErrorCode, (t: T) => unknown] => [
          `${method}: ${label}`,
          code,
          call,
        ]),
      );
    // The table is built lazily: the objects exist only after beforeAll.
    it('each malformed call throws a RegistryError with its code', async () => {
      const failures: string[] = [];
      for (const [label, code, call] of flat()) {
        const error = await errorOf(() => call(target()));
        if (!isRegistryError(error, code)) {
          const got = isRegistryError(error)
            ? `RegistryError ${error.code}: ${error.message}`
            : error === null
              ? 'no error'
              : `${(error as Error)?.name}: ${(error as Error)?.message}`;
          failures.push(`${label} -> expected ${code}, got ${got}`);
        } else if (!/^\[modelreg\] /.test(error.message)) {
          failures.push(`${label} -> message does not start with [modelreg]: ${error.message}`);
        }
      }
      expect(failures).toEqual([]);
    });
  });
}

const options = (o: unknown) => o as never;

describeCases<ModelRegistry>(
  'ModelRegistry',
  () => registry,
  () => ({
    startRun: [
      ['options not an object', BAD, (r) => r.startRun(options('iris'))],
      ['bad experiment name', BAD, (r) => r.startRun({ experiment: '../x' })],
      ['experiment a number', BAD, (r) => r.startRun(options({ experiment: 5 }))],
      ['unknown key', BAD, (r) => r.startRun(options({ experiment: 'iris', colour: 'red' }))],
      ['bad tag key', BAD, (r) => r.startRun({ tags: { 'a/b': 'x' } })],
    ],
    openRun: [
      ['missing id', BAD, (r) => r.openRun(options(undefined))],
      ['id a number', BAD, (r) => r.openRun(options(42))],
      ['empty id', BAD, (r) => r.openRun('')],
      ['unknown id', 'NOT_FOUND', (r) => r.openRun('0123456789abcdef0123456789abcdef')],
    ],
    getRun: [
      ['missing id', BAD, (r) => r.getRun(options(undefined))],
      ['id an object', BAD, (r) => r.getRun(options({}))],
    ],
    searchRuns: [
      ['missing options', BAD, (r) => r.searchRuns(options(undefined))],
      ['bad experiment name', BAD, (r) => r.searchRuns({ experiment: 'a b' })],
      ['limit 0', BAD, (r) => r.searchRuns({ experiment: 'iris', limit: 0 })],
      ['unknown key', BAD, (r) => r.searchRuns(options({ experiment: 'iris', sort: 'acc' }))],
    ],
    getMetricHistory: [
      ['key a number', BAD, (r) => r.getMetricHistory(run.id, options(42))],
      ['run id a number', BAD, (r) => r.getMetricHistory(options(42), 'acc')],
      ['missing arguments', BAD, (r) => r.getMetricHistory(options(undefined), options(undefined))],
    ],
    listExperiments: [
      ['options not an object', BAD, (r) => r.listExperiments(options('x'))],
      ['unknown lifecycle', BAD, (r) => r.listExperiments(options({ lifecycle: 'gone' }))],
      ['unknown key', BAD, (r) => r.listExperiments(options({ colour: 'red' }))],
    ],
    getExperiment: [
      ['name a number', BAD, (r) => r.getExperiment(options(42))],
      ['bad name', BAD, (r) => r.getExperiment('a b')],
    ],
    createExperiment: [
      ['missing name', BAD, (r) => r.createExperiment(options(undefined))],
      ['bad name', BAD, (r) => r.createExperiment('../x')],
      ['options not an object', BAD, (r) => r.createExperiment('ok', options('x'))],
      ['bad tag key', BAD, (r) => r.createExperiment('ok', { tags: { 'a/b': 'x' } })],
      ['unknown key', BAD, (r) => r.createExperiment('ok', options({ colour: 'red' }))],
    ],
    updateExperiment: [
      ['name a number', BAD, (r) => r.updateExperiment(options(42), {})],
      ['change not an object', BAD, (r) => r.updateExperiment('iris', options('x'))],
      ['bad new name', BAD, (r) => r.updateExperiment('iris', { name: 'a b' })],
      ['unknown key', BAD, (r) => r.updateExperiment('iris', options({ colour: 'red' }))],
      ['unknown experiment', 'NOT_FOUND', (r) => r.updateExperiment('nope', { tags: { k: 'v' } })],
    ],
    deleteExperiment: [
      ['name a number', BAD, (r) => r.deleteExperiment(options(42))],
      ['id a number', BAD, (r) => r.deleteExperiment(options({ id: 42 }))],
      ['unknown id', 'NOT_FOUND', (r) => r.deleteExperiment({ id: 'nope' })],
      ['unknown experiment', 'NOT_FOUND', (r) => r.deleteExperiment('nope')],
    ],
    restoreExperiment: [
      ['missing name', BAD, (r) => r.restoreExperiment(options(undefined))],
      ['unknown experiment', 'NOT_FOUND', (r) => r.restoreExperiment('nope')],
    ],
    deleteRun: [
      ['id a number', BAD, (r) => r.deleteRun(options(42))],
      ['empty id', BAD, (r) => r.deleteRun('')],
      ['unknown id', 'NOT_FOUND', (r) => r.deleteRun('0123456789abcdef0123456789abcdef')],
    ],
    restoreRun: [
      ['id an object', BAD, (r) => r.restoreRun(options({}))],
      ['unknown id', 'NOT_FOUND', (r) => r.restoreRun('0123456789abcdef0123456789abcdef')],
    ],
    getOrCreateExperiment: [
      ['missing name', BAD, (r) => r.getOrCreateExperiment(options(undefined))],
      ['name a number', BAD, (r) => r.getOrCreateExperiment(options(42))],
      ['bad name', BAD, (r) => r.getOrCreateExperiment('a b')],
    ],
    createModel: [
      ['name a number', BAD, (r) => r.createModel(options(42))],
      ['bad name', BAD, (r) => r.createModel('../x')],
      ['options not an object', BAD, (r) => r.createModel('ok', options('x'))],
      ['unknown key', BAD, (r) => r.createModel('ok', options({ colour: 'red' }))],
    ],
    getModel: [
      ['name a number', BAD, (r) => r.getModel(options(42))],
      ['bad name', BAD, (r) => r.getModel('a/b')],
    ],
    listModels: [
      ['options not an object', BAD, (r) => r.listModels(options('x'))],
      ['negative limit', BAD, (r) => r.listModels({ limit: -1 })],
      ['unknown key', BAD, (r) => r.listModels(options({ colour: 'red' }))],
    ],
    updateModel: [
      ['name a number', BAD, (r) => r.updateModel(options(42), {})],
      ['change not an object', BAD, (r) => r.updateModel('iris', options('x'))],
      ['unknown key', BAD, (r) => r.updateModel('iris', options({ colour: 'red' }))],
    ],
    deleteModel: [
      ['name a number', BAD, (r) => r.deleteModel(options(42))],
      ['empty name', BAD, (r) => r.deleteModel('')],
    ],
    renameModel: [
      ['name a number', BAD, (r) => r.renameModel(options(42), 'other')],
      ['missing new name', BAD, (r) => r.renameModel('iris', options(undefined))],
      ['bad new name', BAD, (r) => r.renameModel('iris', 'a/b')],
      ['same name', BAD, (r) => r.renameModel('iris', 'iris')],
      ['unknown model', 'NOT_FOUND', (r) => r.renameModel('nope', 'other')],
    ],
    registerModel: [
      ['missing options', BAD, (r) => r.registerModel('iris', options(undefined))],
      ['neither runId nor source', BAD, (r) => r.registerModel('iris', {})],
      ['runId a number', BAD, (r) => r.registerModel('iris', options({ runId: 42 }))],
      ['unknown key', BAD, (r) => r.registerModel('iris', options({ runId: run.id, colour: 'red' }))],
    ],
    getVersion: [
      ['version 0', BAD, (r) => r.getVersion('iris', 0)],
      ['version a string', BAD, (r) => r.getVersion('iris', options('1'))],
      ['name a number', BAD, (r) => r.getVersion(options(42), 1)],
    ],
    listVersions: [
      ['name a number', BAD, (r) => r.listVersions(options(42))],
      ['stage a number', BAD, (r) => r.listVersions('iris', options({ stage: 42 }))],
      ['unknown stage', BAD, (r) => r.listVersions('iris', { stage: 'prod' })],
      ['unknown key', BAD, (r) => r.listVersions('iris', options({ colour: 'red' }))],
    ],
    updateVersion: [
      ['change not an object', BAD, (r) => r.updateVersion('iris', 1, options('x'))],
      ['version 1.5', BAD, (r) => r.updateVersion('iris', 1.5, {})],
      ['unknown key', BAD, (r) => r.updateVersion('iris', 1, options({ colour: 'red' }))],
    ],
    deleteVersion: [
      ['version -1', BAD, (r) => r.deleteVersion('iris', -1)],
      ['version NaN', BAD, (r) => r.deleteVersion('iris', Number.NaN)],
    ],
    transitionStage: [
      ['stage a number', BAD, (r) => r.transitionStage('iris', 1, options(42))],
      ['unknown stage', BAD, (r) => r.transitionStage('iris', 1, 'prod')],
      ['options not an object', BAD, (r) => r.transitionStage('iris', 1, 'staging', options('x'))],
      ['unknown key', BAD, (r) => r.transitionStage('iris', 1, 'staging', options({ force: true }))],
    ],
    setAlias: [
      ['alias "latest"', BAD, (r) => r.setAlias('iris', 'latest', 1)],
      ['version 0', BAD, (r) => r.setAlias('iris', 'a', 0)],
      ['ifVersion a string', BAD, (r) => r.setAlias('iris', 'a', 1, options({ ifVersion: 'x' }))],
      ['unknown key', BAD, (r) => r.setAlias('iris', 'a', 1, options({ force: true }))],
    ],
    deleteAlias: [
      ['alias a number', BAD, (r) => r.deleteAlias('iris', options(42))],
      ['unknown key', BAD, (r) => r.deleteAlias('iris', 'champion', options({ force: true }))],
    ],
    getStageHistory: [
      ['name a number', BAD, (r) => r.getStageHistory(options(42))],
      ['version 0', BAD, (r) => r.getStageHistory('iris', { version: 0 })],
      ['unknown key', BAD, (r) => r.getStageHistory('iris', options({ stage: 'production' }))],
    ],
    readManifest: [
      ['uri a number', BAD, (r) => r.readManifest(options(42))],
      ['no scheme', BAD, (r) => r.readManifest('iris/1')],
      ['missing uri', BAD, (r) => r.readManifest(options(undefined))],
    ],
    copyVersionFrom: [
      ['source not a registry', BAD, (r) => r.copyVersionFrom(options({}), { name: 'iris', version: 1 })],
      ['missing options', BAD, (r) => r.copyVersionFrom(r, options(undefined))],
      ['version 0', BAD, (r) => r.copyVersionFrom(r, { name: 'iris', version: 0 })],
      ['unknown key', BAD, (r) => r.copyVersionFrom(r, options({ name: 'iris', version: 1, force: true }))],
    ],
    resolve: [
      ['uri a number', BAD, (r) => r.resolve(options(42))],
      ['no scheme', BAD, (r) => r.resolve('iris/1')],
      ['missing uri', BAD, (r) => r.resolve(options(undefined))],
    ],
    train: [
      ['missing options', BAD, (r) => r.train(options(undefined))],
      ['empty options', BAD, (r) => r.train(options({}))],
      [
        'nEstimators -1',
        BAD,
        (r) =>
          r.train({
            dataset: 'iris',
            target: 'species',
            model: { type: 'random-forest', params: { nEstimators: -1 } },
          }),
      ],
      [
        'unknown model type',
        BAD,
        (r) => r.train({ dataset: 'iris', target: 'species', model: { type: 'gbm' } }),
      ],
      [
        'unknown key',
        BAD,
        (r) =>
          r.train(
            options({ dataset: 'iris', target: 'species', model: { type: 'decision-tree' }, epochs: 3 }),
          ),
      ],
      [
        'signal not an AbortSignal',
        BAD,
        (r) =>
          r.train(
            options({ dataset: 'iris', target: 'species', model: { type: 'decision-tree' }, signal: 'stop' }),
          ),
      ],
    ],
    registerTrainer: [
      ['missing trainer', BAD, (r) => r.registerTrainer(options(undefined))],
      ['no name', BAD, (r) => r.registerTrainer(options({ tasks: ['regression'] }))],
      ['no fit', BAD, (r) => r.registerTrainer(options({ name: 'x', tasks: ['regression'] }))],
    ],
    load: [
      ['uri a number', BAD, (r) => r.load(options(42))],
      ['format "pt"', BAD, (r) => r.load(IRIS, options({ format: 'pt' }))],
      ['options not an object', BAD, (r) => r.load(IRIS, options('onnx'))],
      ['unknown key', BAD, (r) => r.load(IRIS, options({ device: 'gpu' }))],
      ['resolution "sometimes"', BAD, (r) => r.load(IRIS, options({ resolution: 'sometimes' }))],
      ['cached, format "pt"', BAD, (r) => r.load(IRIS, options({ resolution: 'cached', format: 'pt' }))],
      ['cached, unknown key', BAD, (r) => r.load(IRIS, options({ resolution: 'cached', device: 'gpu' }))],
    ],
    predict: [
      ['uri a number', BAD, (r) => r.predict(options(42), [ROW])],
      ['input a number', BAD, (r) => r.predict(IRIS, options(42))],
      ['a feature not a number', BAD, (r) => r.predict(IRIS, [{ ...ROW, sepal_length_cm: 'abc' }])],
    ],
    predictProba: [
      ['uri a number', BAD, (r) => r.predictProba(options(42), [ROW])],
      ['input missing', BAD, (r) => r.predictProba(IRIS, options(undefined))],
      ['a missing feature', BAD, (r) => r.predictProba(IRIS, [{ sepal_length_cm: 5 }])],
    ],
    evaluate: [
      ['missing options', BAD, (r) => r.evaluate(IRIS, options(undefined))],
      ['dataset a number', BAD, (r) => r.evaluate(IRIS, options({ dataset: 42 }))],
      ['unknown key', BAD, (r) => r.evaluate(IRIS, options({ dataset: 'iris', sample: 10 }))],
    ],
    watch: [
      ['uri a number', BAD, (r) => r.watch(options(42))],
      ['negative debounce', BAD, (r) => r.watch('models:/iris/production', { debounceMs: -1 })],
      ['unknown key', BAD, (r) => r.watch('models:/iris/production', options({ colour: 'red' }))],
    ],
    canary: [
      ['missing options', BAD, (r) => r.canary(options(undefined))],
      ['weight 2', BAD, (r) => r.canary({ model: 'iris', current: 'production', next: 1, weight: 2 })],
      [
        'unknown key',
        BAD,
        (r) =>
          r.canary(options({ model: 'iris', current: 'production', next: 1, weight: 0.1, colour: 'red' })),
      ],
    ],
    on: [
      ['unknown event type', BAD, (r) => r.on(options('model.exploded'), () => undefined)],
      ['handler not a function', BAD, (r) => r.on('*', options(42))],
    ],
    eventsReady: [],
    eventCursor: [
      ['name not a string', BAD, (r) => r.eventCursor(options(7))],
      ['empty name', BAD, (r) => r.eventCursor('')],
      ['negative lease', BAD, (r) => r.eventCursor('relay', { leaseMs: -1 })],
      ['unknown key', BAD, (r) => r.eventCursor('relay', options({ lease: 5 }))],
    ],
    gc: [
      ['options not an object', BAD, (r) => r.gc(options('now'))],
      ['negative grace period', BAD, (r) => r.gc({ gracePeriodMs: -1 })],
      ['unknown key', BAD, (r) => r.gc(options({ dryrun: true }))],
    ],
    as: [
      ['principal missing', BAD, (r) => r.as(options(undefined))],
      ['unknown role', BAD, (r) => r.as(options({ name: 'a', role: 'root', models: null, tokenId: null }))],
      ['bad name', BAD, (r) => r.as({ name: 'a b', role: 'reader', models: null, tokenId: null })],
      ['empty grants', BAD, (r) => r.as({ name: 'a', role: 'editor', models: [], tokenId: null })],
    ],
    close: [],
  }),
  ['served', 'loadNow'],
);

describeCases<ModelRegistry['auth']>(
  'RegistryAuth',
  () => registry.auth,
  () => ({
    createToken: [
      ['options missing', BAD, (a) => a.createToken(options(undefined))],
      ['unknown role', BAD, (a) => a.createToken(options({ name: 'ci', role: 'owner' }))],
      ['bad name', BAD, (a) => a.createToken({ name: '', role: 'reader' })],
      ['grants on a reader', BAD, (a) => a.createToken({ name: 'ci', role: 'reader', models: ['iris'] })],
      ['grants on an admin', BAD, (a) => a.createToken({ name: 'ci', role: 'admin', models: ['iris'] })],
      ['bad model name', BAD, (a) => a.createToken({ name: 'ci', role: 'editor', models: ['../x'] })],
      ['unknown key', BAD, (a) => a.createToken(options({ name: 'ci', role: 'editor', secret: 'x' }))],
    ],
    listTokens: [],
    revokeToken: [
      ['id a number', BAD, (a) => a.revokeToken(options(42))],
      ['malformed id', BAD, (a) => a.revokeToken('token-1')],
      ['unknown id', 'NOT_FOUND', (a) => a.revokeToken(`tok_${'0'.repeat(24)}`)],
    ],
    authenticate: [],
  }),
);

describeCases<LoadedModel>(
  'LoadedModel',
  () => loaded,
  () => ({
    predict: [
      ['input a number', BAD, (m) => m.predict(options(42))],
      ['input missing', BAD, (m) => m.predict(options(undefined))],
      ['csv not a string', BAD, (m) => m.predict(options({ csv: 42 }))],
    ],
    predictProba: [
      ['input a string', BAD, (m) => m.predictProba(options('rows'))],
      ['a row of the wrong width', BAD, (m) => m.predictProba([[1, 2]])],
    ],
  }),
);

describeCases<LiveModel>(
  'LiveModel (registry.watch)',
  () => live,
  () => ({
    ready: [],
    predict: [
      ['input a number', BAD, (m) => m.predict(options(42))],
      ['a feature not a number', BAD, (m) => m.predict([{ ...ROW, petal_width_cm: 'wide' }])],
    ],
    predictProba: [['input missing', BAD, (m) => m.predictProba(options(undefined))]],
    predictWithVersion: [['input an object', BAD, (m) => m.predictWithVersion(options({ rows: 1 }))]],
    refresh: [],
    close: [],
  }),
  // TypeScript-private methods and function-valued fields.
  ['check', 'serving', 'closedError', 'fail', 'onEvent', 'withModel', 'onClose', 'unsubscribe'],
);

describeCases<Canary>(
  'Canary (registry.canary)',
  () => canary,
  () => ({
    ready: [],
    predict: [
      ['input a number', BAD, (c) => c.predict(options(42))],
      ['a feature not a number', BAD, (c) => c.predict([{ ...ROW, petal_width_cm: 'wide' }])],
    ],
    setWeight: [
      ['weight 2', BAD, (c) => c.setWeight(2)],
      ['weight a string', BAD, (c) => c.setWeight(options('half'))],
    ],
    promote: [
      ['options not an object', BAD, (c) => c.promote(options('now'))],
      ['unknown key', BAD, (c) => c.promote(options({ force: true }))],
    ],
    rollback: [],
    stats: [],
    close: [],
  }),
  ['runArm', 'route', 'random', 'onClose'],
);

describeCases<DatasetCatalog>(
  'DatasetCatalog (registry.datasets)',
  () => registry.datasets,
  () => ({
    upload: [
      ['name a number', BAD, (d) => d.upload(options(42), 'a,b\n1,2\n')],
      ['body a number', BAD, (d) => d.upload('x.csv', options(42))],
      ['empty CSV', BAD, (d) => d.upload('x.csv', '')],
    ],
    get: [
      ['name a number', BAD, (d) => d.get(options(42))],
      ['version 0', BAD, (d) => d.get('iris', 0)],
    ],
    list: [],
    versions: [['bad name', BAD, (d) => d.versions('a/b')]],
    load: [
      ['name a number', BAD, (d) => d.load(options(42))],
      ['version 1.5', BAD, (d) => d.load('iris', 1.5)],
    ],
    loadRaw: [['bad name', BAD, (d) => d.loadRaw('..')]],
    delete: [
      ['name a number', BAD, (d) => d.delete(options(42))],
      ['version a string', BAD, (d) => d.delete('iris', options('1'))],
    ],
  }),
  ['openStored', 'removeUnreferenced', 'require', 'spoolFile', 'checkName', 'missingFile', 'now'],
);

describeCases<RunHandle>(
  'RunHandle (registry.startRun)',
  () => run,
  () => ({
    info: [],
    logParams: [
      ['params not an object', BAD, (r) => r.logParams(options('lr=1'))],
      ['a value that is an object', BAD, (r) => r.logParams(options({ lr: {} }))],
    ],
    logParam: [['key a number', BAD, (r) => r.logParam(options(42), 1)]],
    logMetric: [
      ['value a string', BAD, (r) => r.logMetric('acc', options('high'))],
      ['unknown option', BAD, (r) => r.logMetric('acc', 1, options({ epoch: 3 }))],
    ],
    logMetrics: [
      ['NaN', BAD, (r) => r.logMetrics({ acc: Number.NaN })],
      ['metrics missing', BAD, (r) => r.logMetrics(options(undefined))],
    ],
    setTags: [['a value that is a number', BAD, (r) => r.setTags(options({ a: 1 }))]],
    setTag: [['bad key', BAD, (r) => r.setTag('a b', 'x')]],
    deleteTag: [['key a number', BAD, (r) => r.deleteTag(options(42))]],
    logArtifact: [
      ['path a number', BAD, (r) => r.logArtifact(options(42), 'x')],
      ['body a number', BAD, (r) => r.logArtifact('a.txt', options(42))],
    ],
    logModel: [
      ['options missing', BAD, (r) => r.logModel(options(undefined))],
      ['format "pt"', BAD, (r) => r.logModel(options({ format: 'pt', file: new Uint8Array(1) }))],
    ],
    listArtifacts: [['prefix a number', BAD, (r) => r.listArtifacts(options(42))]],
    end: [['unknown status', BAD, (r) => r.end(options('done'))]],
  }),
);

describe('the malformed calls above changed nothing', () => {
  it('the registry snapshot is what it was before them', async () => {
    expect(await snapshot(registry)).toEqual(before);
  });

  it('the classes enumerated are the ones the registry hands out', () => {
    expect(registry).toBeInstanceOf(ModelRegistry);
    expect(registry.datasets).toBeInstanceOf(DatasetCatalog);
    expect(run).toBeInstanceOf(RunHandleClass);
  });
});

describeCases<Deployments>(
  'Deployments (registry.deployments)',
  () => registry.deployments,
  () => ({
    set: [
      ['bad model name', BAD, (d) => d.set('../x', { current: 1, next: 1, weight: 0 })],
      ['options not an object', BAD, (d) => d.set('iris', options('now'))],
      ['weight 2', BAD, (d) => d.set('iris', { current: 1, next: 1, weight: 2 })],
      ['unknown key', BAD, (d) => d.set('iris', options({ current: 1, next: 1, weight: 0, colour: 1 }))],
      ['stage unknown', BAD, (d) => d.set('iris', { current: 'nowhere', next: 1, weight: 0 })],
      [
        'stickyKey a function',
        BAD,
        (d) => d.set('iris', options({ current: 1, next: 1, weight: 0, stickyKey: () => 1 })),
      ],
    ],
    get: [['name a number', BAD, (d) => d.get(options(42))]],
    list: [],
    setWeight: [['weight a string', BAD, (d) => d.setWeight('iris', options('half'))]],
    promote: [['revision 0', BAD, (d) => d.promote('iris', { ifRevision: 0 })]],
    rollback: [['unknown key', BAD, (d) => d.rollback('iris', options({ force: true }))]],
    delete: [['bad name', BAD, (d) => d.delete('a/b')]],
    history: [['bad name', BAD, (d) => d.history('..')]],
  }),
  ['model', 'requireModel', 'require', 'versionOf', 'change'],
);
