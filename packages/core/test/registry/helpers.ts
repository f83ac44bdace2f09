import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import type { RegistryOptions } from '../../src/registry/options.js';

export function fakeClock(start = 1_700_000_000_000): () => number {
  let t = start;
  return () => (t += 1000);
}

export async function openMemoryRegistry(options: Partial<RegistryOptions> = {}): Promise<ModelRegistry> {
  return ModelRegistry.open({
    metadata: createMemoryMetadataStore(),
    artifacts: createMemoryArtifactStore(),
    now: fakeClock(),
    actor: 'tester',
    ...options,
  });
}

/** Logs a small fake model folder in a new run and returns the run id. */
export async function runWithModel(registry: ModelRegistry, experiment = 'exp'): Promise<string> {
  const run = await registry.startRun({ experiment });
  await run.logArtifact('model/MODEL.json', JSON.stringify({ formatVersion: 1 }));
  await run.logArtifact('model/model.native.json', JSON.stringify({ weights: [1, 2, 3] }));
  await run.end();
  return run.id;
}

/** Everything observable about a registry, to prove a failed call changed nothing. */
export async function snapshot(registry: ModelRegistry): Promise<unknown> {
  const { metadata, artifacts } = registry.stores;
  const models = await metadata.listModels({ limit: 1000, offset: 0 });
  const perModel = [];
  for (const m of models) {
    perModel.push({
      model: m,
      versions: await metadata.listVersions(m.name, { includeDeleted: true }),
      history: await metadata.getHistory(m.name),
    });
  }
  const experiments = await metadata.listExperiments({ lifecycle: 'all' });
  const runs = experiments.length
    ? await metadata.searchRuns({
        experimentIds: experiments.map((e) => e.id),
        limit: 1000,
        offset: 0,
        lifecycle: 'all',
      })
    : [];
  const runArtifacts = [];
  for (const r of runs) runArtifacts.push(await metadata.listRunArtifacts(r.id));
  return {
    seq: await metadata.lastEventSeq(),
    experiments,
    runs,
    runArtifacts,
    perModel,
    datasets: await metadata.listDatasets(),
    keys: (await artifacts.list('')).map((a) => a.key),
  };
}
