import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openMemoryRegistry } from '../registry/helpers.js';

const csv = (name: string): Buffer =>
  readFileSync(new URL(`../fixtures/datasets/${name}.csv`, import.meta.url));

describe('gradient-boosting through registry.train', () => {
  it('trains in the train worker, records gain importance and the best iteration, and predicts the same natively and in ONNX', async () => {
    const registry = await openMemoryRegistry();
    await registry.datasets.upload('wine.csv', csv('wine'));
    const result = await registry.train({
      experiment: 'wine',
      dataset: 'wine',
      target: 'cultivar',
      model: {
        type: 'gradient-boosting',
        params: {
          nEstimators: 60,
          maxDepth: 3,
          earlyStopping: true,
          validationFraction: 0.2,
          nIterNoChange: 5,
        },
      },
      split: { testSize: 0.25, seed: 3 },
      register: { name: 'wine_gb' },
    });
    expect(result.metrics.accuracy).toBeGreaterThan(0.85);
    expect(JSON.parse(result.run.tags['modelreg.onnx.parity']!)).toMatchObject({ mismatches: 0 });
    const native = await registry.load('models:/wine_gb/1', { format: 'native' });
    const onnx = await registry.load('models:/wine_gb/1');
    expect(onnx.format).toBe('onnx');
    const manifest = native.manifest;
    expect(manifest.trainer.info).toMatchObject({ objective: 'softmax' });
    const info = manifest.trainer.info!;
    expect(info.bestIteration).toBe(info.rounds);
    expect(Number(info.rounds)).toBeLessThanOrEqual(60);
    const gain = manifest.importance!.gain!.values;
    expect(manifest.importance!.gain!.method).toBe('gain');
    expect(manifest.importance!.permutation).toBeDefined();
    expect(Object.keys(gain)).toEqual(manifest.features.map((f) => f.name));
    expect(Object.values(gain).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    const table = await registry.datasets.load('wine');
    const rows = Array.from({ length: 30 }, (_, r) =>
      Object.fromEntries(manifest.features.map((f) => [f.name, table.data[f.name]![r * 5]])),
    );
    expect(await onnx.predict(rows)).toEqual(await native.predict(rows));
  });
});
