import { useEffect, useState } from 'react';
import type { CanaryState, Experiment, ModelVersion, RegisteredModel, Run } from '../api.js';
import { ApiError, api, seg } from '../api.js';
import { useLiveEvents } from '../live.js';

// Lineage is read from the REST API as it is: a run names its dataset in its tags
// (`modelreg.dataset.name`, `.version`), a version names its run, a deployment names its versions by
// ref. The index is built in the browser from the list routes; it is made for registries the size a
// person browses (it reads at most 1000 models and 1000 runs per experiment).

export interface RunRef extends Run {
  experiment: string;
}

export interface DatasetRef {
  name: string;
  version: number | null;
}

export interface LineageIndex {
  runs: RunRef[];
  versions: ModelVersion[];
  models: RegisteredModel[];
  deployments: CanaryState[];
}

/** The dataset a run was trained on, from the tags `train` writes. */
export function datasetOf(run: Pick<Run, 'tags'>): DatasetRef | null {
  const name = Object.hasOwn(run.tags, 'modelreg.dataset.name')
    ? run.tags['modelreg.dataset.name']
    : undefined;
  if (!name) return null;
  const v = Number(run.tags['modelreg.dataset.version']);
  return { name, version: Number.isInteger(v) && v > 0 ? v : null };
}

/**
 * The version a deployment arm's ref names: a number, `latest`, a stage or `@alias` (or a bare alias),
 * resolved against the model's versions as they are now.
 */
export function resolveRef(
  ref: number | string,
  versions: ModelVersion[],
  aliases: Record<string, number>,
): number | null {
  if (typeof ref === 'number') return ref;
  if (/^\d+$/.test(ref)) return Number(ref);
  const live = versions.filter((v) => v.deletedAt === null);
  if (ref === 'latest') return live.at(-1)?.version ?? null;
  const alias = ref.startsWith('@') ? ref.slice(1) : ref;
  if (Object.hasOwn(aliases, alias)) return aliases[alias]!;
  const inStage = live.filter((v) => v.stage.toLowerCase() === ref.toLowerCase());
  return inStage.at(-1)?.version ?? null;
}

export const lineageQueries = {
  runsOfDataset: (ix: LineageIndex, name: string, version?: number | null): RunRef[] =>
    ix.runs.filter((r) => {
      const d = datasetOf(r);
      return d?.name === name && (version == null || d.version === version);
    }),
  versionsOfRun: (ix: LineageIndex, runId: string): ModelVersion[] =>
    ix.versions.filter((v) => v.runId === runId),
  run: (ix: LineageIndex, runId: string | null): RunRef | undefined =>
    runId ? ix.runs.find((r) => r.id === runId) : undefined,
  /** Deployments with an arm serving `name` v`version`, and which arm. */
  deploymentsOf: (ix: LineageIndex, name: string, version: number) =>
    ix.deployments.flatMap((d) => {
      if (d.model !== name) return [];
      const model = ix.models.find((m) => m.name === name);
      const versions = ix.versions.filter((v) => v.name === name);
      const arms = (['current', 'next'] as const).filter(
        (arm) => resolveRef(d[arm].ref, versions, model?.aliases ?? {}) === version,
      );
      return arms.length ? [{ deployment: d, arms }] : [];
    }),
};

async function loadIndex(): Promise<LineageIndex> {
  const [{ models }, { experiments }] = await Promise.all([
    api.get<{ models: RegisteredModel[] }>('models?limit=1000'),
    api.get<{ experiments: Experiment[] }>('experiments'),
  ]);
  const [versionLists, runLists, deployments] = await Promise.all([
    Promise.all(models.map((m) => api.get<{ versions: ModelVersion[] }>(`models/${seg(m.name)}/versions`))),
    Promise.all(
      experiments.map((e) =>
        api
          .get<{ runs: Run[] }>(`experiments/${seg(e.name)}/runs?limit=1000`)
          .then((d) => d.runs.map((r) => ({ ...r, experiment: e.name }))),
      ),
    ),
    Promise.all(
      models.map((m) =>
        api.get<CanaryState>(`models/${seg(m.name)}/canary`).then(
          (d) => [d],
          (e: unknown) => {
            if (e instanceof ApiError && (e.status === 404 || e.status === 403)) return [];
            throw e;
          },
        ),
      ),
    ),
  ]);
  return {
    models,
    versions: versionLists.flatMap((l) => l.versions),
    runs: runLists.flat(),
    deployments: deployments.flat(),
  };
}

/** The lineage index, loaded once per page and again when the registry changes (live events). */
export function useLineage(): { index: LineageIndex | undefined; error: unknown } {
  const [state, setState] = useState<{ index: LineageIndex | undefined; error: unknown }>({
    index: undefined,
    error: undefined,
  });
  const tick = useLiveEvents([
    'version.created',
    'version.stage_changed',
    'alias.set',
    'alias.deleted',
    'deployment.updated',
    'deployment.deleted',
    'run.created',
  ]);
  useEffect(() => {
    let live = true;
    loadIndex().then(
      (index) => live && setState({ index, error: undefined }),
      (error: unknown) => live && setState((s) => ({ index: s.index, error })),
    );
    return () => {
      live = false;
    };
  }, [tick]);
  return state;
}
