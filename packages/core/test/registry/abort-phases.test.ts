import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import type { TrainOptions } from '../../src/registry/train.js';
import type { TrainPhase } from '../../src/training/trainer.js';
import { createRandom } from '../../src/training/random.js';
import { openMemoryRegistry, snapshot } from './helpers.js';

/** Friedman #1 as CSV text: 5 informative features of 10. */
function friedmanCsv(nRows: number, seed: number): string {
  const random = createRandom(seed);
  const lines = [[...Array.from({ length: 10 }, (_, i) => `x${i}`), 'y'].join(',')];
  for (let r = 0; r < nRows; r++) {
    const x = Array.from({ length: 10 }, () => random.next());
    const y =
      10 * Math.sin(Math.PI * x[0]! * x[1]!) +
      20 * (x[2]! - 0.5) ** 2 +
      10 * x[3]! +
      5 * x[4]! +
      random.next();
    lines.push([...x, y].map((v) => v.toFixed(6)).join(','));
  }
  return lines.join('\n');
}

/**
 * Trains, aborting a random 0–`maxDelayMs` ms after the first report of `phase` (at once for
 * `writing`, which is short); returns the error and the phases reported.
 */
async function abortIn(
  registry: ModelRegistry,
  options: TrainOptions,
  phase: TrainPhase,
  maxDelayMs: number,
  random: () => number,
): Promise<{ error: unknown; phases: TrainPhase[] }> {
  const controller = new AbortController();
  const phases: TrainPhase[] = [];
  const error = await registry
    .train({
      ...options,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.phase && phases.at(-1) !== p.phase) phases.push(p.phase);
        if (p.phase !== phase || phases.filter((x) => x === phase).length > 1) return;
        if (maxDelayMs === 0) controller.abort(new Error(`stop in ${phase}`));
        else setTimeout(() => controller.abort(new Error(`stop in ${phase}`)), random() * maxDelayMs);
      },
    })
    .then(
      () => null,
      (e: unknown) => e,
    );
  return { error, phases };
}

describe.each(['thread', 'process'] as const)(
  'trainIsolation %s: an abort at a random moment of any phase of train rejects with ABORTED and leaves nothing behind',
  (trainIsolation) => {
    let registry: ModelRegistry;
    const random = createRandom(2026);
    const next = (): number => random.next();

    beforeAll(async () => {
      registry = await openMemoryRegistry({ trainIsolation });
      await registry.datasets.upload('friedman.csv', new TextEncoder().encode(friedmanCsv(10_000, 7)));
      await registry.train({
        experiment: 'before',
        dataset: 'friedman',
        target: 'y',
        model: { type: 'random-forest', params: { nEstimators: 2, maxDepth: 3 } },
        register: { name: 'kept', stage: 'production' },
      });
    }, 180_000);

    afterAll(async () => {
      await registry.close();
    });

    // 30 trees of unlimited depth: the export and the parity check each take a noticeable time.
    const options = (dataset: TrainOptions['dataset']): TrainOptions => ({
      experiment: 'aborted',
      dataset,
      target: 'y',
      model: { type: 'random-forest', params: { nEstimators: 30 } },
      register: { name: 'never', stage: 'production' },
    });

    const cases: [TrainPhase, number][] = [
      ['reading', 30],
      ['fitting', 200],
      ['exporting', 15],
      ['checking', 15],
      ['writing', 0],
    ];

    it.each(cases)(
      'aborted while %s: ABORTED, registry unchanged',
      { timeout: 180_000 },
      async (phase, maxDelayMs) => {
        const before = await snapshot(registry);
        const { error, phases } = await abortIn(registry, options('friedman'), phase, maxDelayMs, next);
        expect(phases).toContain(phase);
        expect(isRegistryError(error, 'ABORTED')).toBe(true);
        expect(error).not.toBeInstanceOf(DOMException);
        expect((error as Error).message).toBe(`[modelreg] [train] train was aborted: stop in ${phase}`);
        expect(await snapshot(registry)).toEqual(before);
      },
    );

    it(
      'inline records aborted while they are being handed to the worker: ABORTED, registry unchanged',
      { timeout: 180_000 },
      async () => {
        const csv = friedmanCsv(5000, 3).split('\n');
        const header = csv[0]!.split(',');
        const rows = csv.slice(1).map((line) => {
          const values = line.split(',').map(Number);
          return Object.fromEntries(header.map((h, i) => [h, values[i]!]));
        });
        const before = await snapshot(registry);
        const { error } = await abortIn(registry, options({ rows }), 'reading', 0, next);
        expect(isRegistryError(error, 'ABORTED')).toBe(true);
        expect(await snapshot(registry)).toEqual(before);
      },
    );

    it(
      'train reports the phases in order, with an overall fraction that never decreases and ends at 1',
      { timeout: 180_000 },
      async () => {
        const reports: { phase?: TrainPhase; overall?: number; fraction: number }[] = [];
        await registry.train({
          experiment: 'progress',
          dataset: 'friedman',
          target: 'y',
          model: { type: 'random-forest', params: { nEstimators: 3, maxDepth: 4 } },
          onProgress: (p) => reports.push(p),
        });
        const order = reports.map((r) => r.phase).filter((p, i, all) => p !== all[i - 1]);
        expect(order).toEqual(['reading', 'fitting', 'exporting', 'checking', 'writing']);
        const overall = reports.map((r) => r.overall!);
        expect(overall.every((v, i) => i === 0 || v >= overall[i - 1]!)).toBe(true);
        expect(overall.at(-1)).toBe(1);
        expect(reports.filter((r) => r.phase === 'fitting').at(-1)!.fraction).toBe(1);
      },
    );
  },
);
