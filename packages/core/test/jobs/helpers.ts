import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import type { RegistryOptions } from '../../src/registry/options.js';
import type { JobQueue, JobRunner } from '../../src/stores/job-queue.js';
import { defineTrainer } from '../../src/training/trainer.js';
import { irisCsv } from '../../../../test-utils/iris.js';

export { irisCsv };

/** A queue that hands nothing out by itself: the test runs jobs with `runner.runJob(id)`. */
export function manualQueue(): JobQueue & { runner(): JobRunner; enqueued: string[] } {
  let runner: JobRunner | undefined;
  const enqueued: string[] = [];
  return {
    name: 'manual',
    enqueued,
    async enqueue(job) {
      enqueued.push(job.id);
    },
    async start(next) {
      runner = next;
    },
    async stop() {
      runner = undefined;
    },
    runner() {
      if (!runner) throw new Error('call registry.jobs.start() first');
      return runner;
    },
  };
}

export async function openJobsRegistry(options: Partial<RegistryOptions> = {}): Promise<ModelRegistry> {
  return ModelRegistry.open({
    metadata: createMemoryMetadataStore(),
    artifacts: createMemoryArtifactStore(),
    actor: 'tester',
    eventPollIntervalMs: 20,
    ...options,
  });
}

/** Train options of a small iris decision tree registered as `name`. */
export const irisJob = (name = 'iris') => ({
  dataset: { csv: irisCsv },
  target: 'species',
  model: { type: 'decision-tree' },
  split: { seed: 1 },
  register: { name },
});

const constantModel = () => ({
  kind: 'gated',
  predict: (_x: Float64Array, nRows: number) => new Float64Array(nRows),
  toJSON: () => ({ constant: 0 }),
});

/**
 * A trainer that fits nothing until `release()` is called (or its signal aborts): a training that
 * is surely running while the test looks at it.
 */
export function gatedTrainer() {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  let entered!: () => void;
  const started = new Promise<void>((resolve) => (entered = resolve));
  const trainer = defineTrainer({
    name: 'gated',
    tasks: ['classification', 'regression'],
    fit: async ({ signal, onProgress }) => {
      entered();
      onProgress?.({ fraction: 0.5 });
      await new Promise<void>((resolve, reject) => {
        void gate.then(resolve);
        signal?.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
      });
      return constantModel();
    },
    load: () => constantModel(),
  });
  return { trainer, release, started };
}
