import { expect } from 'vitest';
import { isRegistryError } from '../../errors.js';
import type { RegistryErrorCode } from '../../errors.js';
import type {
  DatasetVersion,
  EventPayload,
  EventType,
  FileRecord,
  ModelVersion,
  Run,
} from '../../domain/types.js';
import type {
  AliasChange,
  MetadataStore,
  NewDatasetVersion,
  NewExperiment,
  NewModelVersion,
  NewRun,
  StageTransition,
} from '../../stores/metadata-store.js';

/** A fixed clock: `at(n)` is `n` seconds after a fixed epoch. */
export const T0 = 1_700_000_000_000;
export const at = (n: number): number => T0 + n * 1000;

const pad = (n: number): string => String(n).padStart(3, '0');

/** A valid lowercase hex sha256 derived from `seed`. */
export const sha = (seed: number): string => seed.toString(16).padStart(64, '0');

export const experiment = (n: number, overrides: Partial<NewExperiment> = {}): NewExperiment => ({
  id: `exp-${pad(n)}`,
  name: `experiment${n}`,
  tags: {},
  createdAt: at(n),
  ...overrides,
});

export const newRun = (n: number, overrides: Partial<NewRun> = {}): NewRun => ({
  id: `run-${pad(n)}`,
  experimentId: 'exp-001',
  name: `run${pad(n)}`,
  parentRunId: null,
  startTime: at(n),
  tags: {},
  ...overrides,
});

export const file = (path: string, seed = 1, owner = 'runs/run-001/artifacts'): FileRecord => ({
  path,
  key: `${owner}/${path}`,
  sha256: sha(seed),
  size: 10 + seed,
});

export const newVersion = (name: string, overrides: Partial<NewModelVersion> = {}): NewModelVersion => ({
  name,
  source: 'runs:/run-001/model',
  runId: 'run-001',
  files: [file('model/MODEL.json', 7)],
  description: '',
  tags: {},
  stage: 'none',
  createdAt: at(100),
  ...overrides,
});

export const newDataset = (
  name: string,
  seed: number,
  overrides: Partial<NewDatasetVersion> = {},
): NewDatasetVersion => ({
  name,
  sha256: sha(seed),
  size: 100 + seed,
  rows: 10,
  columns: [
    { name: 'x', type: 'number', nullCount: 0, distinctCount: 10, min: 0, max: 9 },
    { name: 'label', type: 'categorical', nullCount: 1, distinctCount: 2, categories: ['a', 'b'] },
  ],
  key: `datasets/${name}/${sha(seed)}.csv`,
  originalName: `${name}.csv`,
  createdAt: at(200 + seed),
  ...overrides,
});

export const stageChange = (
  name: string,
  version: number,
  toStage: string,
  overrides: Partial<StageTransition> = {},
): StageTransition => ({
  name,
  version,
  toStage,
  archiveExisting: false,
  archiveStage: 'archived',
  actor: 'alice',
  comment: '',
  time: at(300),
  ...overrides,
});

export const aliasChange = (
  name: string,
  alias: string,
  overrides: Partial<AliasChange> = {},
): AliasChange => ({
  name,
  alias,
  actor: 'alice',
  comment: '',
  time: at(400),
  ...overrides,
});

/** Creates experiment `exp-001` and runs `run-001`..`run-<count>` in it. */
export async function seedRuns(store: MetadataStore, count = 1): Promise<Run[]> {
  if (!(await store.getExperiment('exp-001'))) await store.createExperiment(experiment(1));
  const runs: Run[] = [];
  for (let n = 1; n <= count; n++) runs.push(await store.createRun(newRun(n)));
  return runs;
}

/** Creates model `name` with `versions` versions (numbers 1..versions). */
export async function seedModel(store: MetadataStore, name: string, versions = 0): Promise<ModelVersion[]> {
  await store.createModel({ name, description: '', tags: {}, createdAt: at(50) });
  const created: ModelVersion[] = [];
  for (let n = 1; n <= versions; n++) {
    created.push(await store.createVersion(newVersion(name, { createdAt: at(100 + n) })));
  }
  return created;
}

export async function seedDataset(store: MetadataStore, name: string, seed: number): Promise<DatasetVersion> {
  return (await store.createDatasetVersion(newDataset(name, seed))).dataset;
}

/** The events appended after `seq`, as `{ type, payload }`. */
export async function eventsAfter(
  store: MetadataStore,
  seq: number,
): Promise<Array<{ type: EventType; payload: EventPayload }>> {
  const events = await store.readEvents(seq, 1000);
  return events.map(({ type, payload }) => ({ type, payload }));
}

/** Awaits `promise` and asserts that it rejects with a RegistryError of `code`. */
export async function expectCode(promise: Promise<unknown>, code: RegistryErrorCode): Promise<void> {
  const outcome = await promise.then(
    (value: unknown) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
  if (outcome.ok) expect.fail(`expected a RegistryError ${code}, but the call succeeded`);
  const { error } = outcome;
  const shown = isRegistryError(error) ? `${error.code}: ${error.message}` : String(error);
  expect(isRegistryError(error, code), `expected a RegistryError ${code}, got ${shown}`).toBe(true);
}

export const ids = (runs: Array<{ id: string }>): string[] => runs.map((r) => r.id);
