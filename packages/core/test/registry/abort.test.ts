import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import type { ModelRegistry } from '../../src/registry/model-registry.js';
import type { TrainOptions } from '../../src/registry/train.js';
import { createRandom } from '../../src/training/random.js';
import { openMemoryRegistry, snapshot } from './helpers.js';

/** Friedman #1 (scikit-learn's make_friedman1) as records: 5 informative features of 10. */
function friedmanRows(nRows: number, seed: number): Record<string, number>[] {
  const random = createRandom(seed);
  const rows: Record<string, number>[] = [];
  for (let r = 0; r < nRows; r++) {
    const x = Array.from({ length: 10 }, () => random.next());
    const row: Record<string, number> = {};
    x.forEach((v, i) => (row[`x${i}`] = v));
    row.y =
      10 * Math.sin(Math.PI * x[0]! * x[1]!) +
      20 * (x[2]! - 0.5) ** 2 +
      10 * x[3]! +
      5 * x[4]! +
      random.next();
    rows.push(row);
  }
  return rows;
}

interface Measured {
  phase: string;
  msAfterAbort: number;
}

/**
 * Trains with a signal that a timer aborts once `when` says so (after a progress report); returns the
 * error and the time from the moment the abort was due to the rejection. The timer is what a user
 * has: it fires only when training lets the event loop run, so the figure includes that wait.
 */
async function trainAndAbort(
  registry: ModelRegistry,
  options: TrainOptions,
  when: (fraction: number) => boolean,
  delayMs: number,
): Promise<{ error: unknown; msAfterAbort: number }> {
  const controller = new AbortController();
  let dueAt = Number.POSITIVE_INFINITY;
  let armed = false;
  const started = registry.train({
    ...options,
    signal: controller.signal,
    onProgress: (p) => {
      if (armed || !when(p.fraction)) return;
      armed = true;
      dueAt = performance.now() + delayMs;
      setTimeout(() => controller.abort(), delayMs);
    },
  });
  const error = await started.then(
    () => null,
    (e: unknown) => e,
  );
  return { error, msAfterAbort: performance.now() - dueAt };
}

describe('an aborted train rejects promptly with ABORTED and leaves nothing behind', () => {
  let registry: ModelRegistry;
  const rows = friedmanRows(20_000, 7);
  const measured: Measured[] = [];

  beforeAll(async () => {
    registry = await openMemoryRegistry();
    await registry.train({
      experiment: 'before',
      dataset: { rows: rows.slice(0, 200) },
      target: 'y',
      model: { type: 'random-forest', params: { nEstimators: 3 } },
    });
  });

  afterAll(async () => {
    console.log('\nabort latency (20,000 Friedman rows x 10 features, timer-driven abort)');
    console.table(measured.map((m) => ({ phase: m.phase, 'ms after abort': m.msAfterAbort.toFixed(1) })));
    await registry.close();
  });

  const forest = (params: Record<string, unknown>): TrainOptions => ({
    experiment: 'aborted',
    dataset: { rows },
    target: 'y',
    model: { type: 'random-forest', params: { nEstimators: 60, ...params } },
    register: { name: 'never', stage: 'production' },
  });

  const phases: [string, TrainOptions, (fraction: number) => boolean, number][] = [
    ['mid-fit, trees on the main thread', forest({}), (f) => f > 0, 50],
    ['mid-fit, 2 worker threads', forest({ workers: 2 }), (f) => f > 0, 50],
    ['after the last tree, before the test rows are scored', forest({ nEstimators: 30 }), (f) => f === 1, 0],
    // 30 trees of unlimited depth: the export and parity check take about a second after the fit.
    ['during the ONNX export and parity check', forest({ nEstimators: 30 }), (f) => f === 1, 150],
  ];

  it.each(phases)(
    'aborted %s: ABORTED within 2 s, registry unchanged',
    async (phase, options, when, delay) => {
      const before = await snapshot(registry);
      const { error, msAfterAbort } = await trainAndAbort(registry, options, when, delay);
      measured.push({ phase, msAfterAbort });
      expect(isRegistryError(error, 'ABORTED')).toBe(true);
      expect((error as Error).message).toMatch(/^\[modelreg\] \[train\] train was aborted/);
      expect(msAfterAbort).toBeLessThan(2000);
      expect(await snapshot(registry)).toEqual(before);
    },
  );

  it('a signal aborted before the call rejects with ABORTED and creates no run', async () => {
    const before = await snapshot(registry);
    const error = await registry.train({ ...forest({}), signal: AbortSignal.abort() }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isRegistryError(error, 'ABORTED')).toBe(true);
    expect(await snapshot(registry)).toEqual(before);
  });

  it("the signal's reason is the cause, and a reason that is an Error is named in the message", async () => {
    const reason = new Error('deploy window closed');
    const error = await registry.train({ ...forest({}), signal: AbortSignal.abort(reason) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isRegistryError(error, 'ABORTED')).toBe(true);
    expect((error as Error).cause).toBe(reason);
    expect((error as Error).message).toContain('deploy window closed');
  });
});
