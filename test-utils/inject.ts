import { createHash } from 'node:crypto';
import { expect } from 'vitest';

/** One store call of an operation: which store, which method, and which call of that method (1-based). */
export interface Step {
  store: string;
  method: string;
  nth: number;
}

export const describeStep = (s: Step): string => `${s.store}.${s.method} #${s.nth}`;

/** Background event reads run on their own schedule; they are neither counted nor failed. */
const untracked = new Set(['readEvents', 'lastEventSeq', 'subscribe', 'init', 'close']);

/**
 * Records the store calls made inside `during`, and can throw at one chosen call: a store that
 * fails at the Nth call of a given method, as a lost connection or a full disk would.
 */
export class Injector {
  private armed = false;
  private readonly counts = new Map<string, number>();
  readonly steps: Step[] = [];
  constructor(private readonly failAt?: Step) {}

  wrap<S extends object>(label: string, store: S): S {
    return new Proxy(store, {
      get: (target, prop, receiver) => {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if (typeof value !== 'function') return value;
        const fn = value as (...args: unknown[]) => unknown;
        if (typeof prop !== 'string' || untracked.has(prop)) return fn.bind(target);
        return (...args: unknown[]) => {
          if (this.armed) {
            const id = `${label}.${prop}`;
            const nth = (this.counts.get(id) ?? 0) + 1;
            this.counts.set(id, nth);
            const step = { store: label, method: prop, nth };
            this.steps.push(step);
            const f = this.failAt;
            if (f && f.store === label && f.method === prop && f.nth === nth) {
              return Promise.reject(new Error(`injected failure at ${describeStep(step)}`));
            }
          }
          return fn.apply(target, args);
        };
      },
    });
  }

  /** Counts (and fails) only inside `fn`, so setup and snapshots are not part of the operation. */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    this.armed = true;
    try {
      return await fn();
    } finally {
      this.armed = false;
    }
  }
}

interface Named {
  name: string;
}
interface WithId {
  id: string;
}
/** The store reads a snapshot needs (structural, so any build of core fits). */
export interface SnapshotStores {
  metadata: {
    listModels(query: { limit: number; offset: number }): Promise<Named[]>;
    listVersions(name: string, options: { includeDeleted: boolean }): Promise<unknown[]>;
    getHistory(name: string): Promise<unknown[]>;
    listExperiments(): Promise<WithId[]>;
    searchRuns(query: { experimentIds: string[]; limit: number; offset: number }): Promise<WithId[]>;
    listRunArtifacts(runId: string): Promise<unknown[]>;
    listDatasets(): Promise<unknown[]>;
    listReferencedKeys(): Promise<string[]>;
    readEvents(afterSeq: number, limit: number): Promise<unknown[]>;
  };
  artifacts: { get(key: string): Promise<Uint8Array | null> };
}

/**
 * Everything a user can observe through metadata (models, versions, history, experiments, runs with
 * params and metrics, run files, datasets, the event log) plus the sha256 of every referenced file:
 * a full snapshot without the unreferenced files a failure may leave for gc.
 */
export async function registryState(registry: { stores: SnapshotStores }): Promise<unknown> {
  const { metadata, artifacts } = registry.stores;
  const models = [];
  for (const model of await metadata.listModels({ limit: 1000, offset: 0 })) {
    models.push({
      model,
      versions: await metadata.listVersions(model.name, { includeDeleted: true }),
      history: await metadata.getHistory(model.name),
    });
  }
  const experiments = await metadata.listExperiments();
  const runs = experiments.length
    ? await metadata.searchRuns({ experimentIds: experiments.map((e) => e.id), limit: 1000, offset: 0 })
    : [];
  const runArtifacts = [];
  for (const run of runs) runArtifacts.push(await metadata.listRunArtifacts(run.id));
  const referenced: Record<string, string | null> = {};
  for (const key of (await metadata.listReferencedKeys()).sort()) {
    const bytes = await artifacts.get(key);
    referenced[key] = bytes ? createHash('sha256').update(bytes).digest('hex') : null;
  }
  return {
    models,
    experiments,
    runs,
    runArtifacts,
    datasets: await metadata.listDatasets(),
    referenced,
    events: await metadata.readEvents(0, 100_000),
  };
}

/** Runs `operation` once to list its store calls, then once per call with a failure injected there. */
export async function everyStep<R extends { stores: SnapshotStores }>(
  setup: (injector: Injector) => Promise<{ target: R; operation: () => Promise<unknown> }>,
  check: (target: R, before: unknown, step: Step) => Promise<void>,
): Promise<Step[]> {
  const dry = new Injector();
  const { operation } = await setup(dry);
  await dry.during(operation);
  const found = dry.steps.findIndex((s) => s.store.endsWith('.metadata') && s.method === 'createVersion');
  const commit = found === -1 ? dry.steps.length : found;
  for (const [index, step] of dry.steps.entries()) {
    const injector = new Injector(step);
    const { target, operation: op } = await setup(injector);
    const before = await registryState(target);
    const error = await injector.during(op).then(
      () => null,
      (e: unknown) => e,
    );
    // After the commit only a read-back is left; its failure does not turn the success into an error.
    if (index > commit) {
      expect(error, `a failure at ${describeStep(step)}, after the commit`).toBeNull();
      continue;
    }
    expect(error, `a failure at ${describeStep(step)} must reject the call`).toMatchObject({
      name: 'RegistryError',
      message: expect.stringContaining(`injected failure at ${describeStep(step)}`),
    });
    await check(target, before, step);
  }
  return dry.steps;
}

/** What the train-with-register scenario needs of a registry (any build of core). */
export interface TrainingRegistry {
  datasets: { upload(name: string, body: Uint8Array): Promise<unknown> };
  train(options: {
    experiment: string;
    dataset: string;
    target: string;
    model: { type: string; params: Record<string, unknown> };
    register: { name: string; stage: string; alias: string; archiveExisting?: boolean };
  }): Promise<unknown>;
}

/**
 * The train-with-register scenario of the atomicity tests: iris uploaded and `iris` v1 trained into
 * production with the alias `champion`; returns the operation under test, a second training that
 * would create v2 in production (archiving v1) and move the alias.
 */
export async function trainRegisterScenario(
  target: TrainingRegistry,
  iris: Uint8Array,
): Promise<() => Promise<unknown>> {
  const options = {
    experiment: 'iris',
    dataset: 'iris',
    target: 'species',
    model: { type: 'decision-tree', params: { maxDepth: 4 } },
  };
  await target.datasets.upload('iris.csv', iris);
  await target.train({ ...options, register: { name: 'iris', stage: 'production', alias: 'champion' } });
  return () =>
    target.train({
      ...options,
      register: { name: 'iris', stage: 'production', archiveExisting: true, alias: 'champion' },
    });
}
