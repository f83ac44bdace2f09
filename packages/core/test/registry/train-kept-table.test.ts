// The train worker keeps the last catalog table it parsed: a next training on the same dataset
// version skips parsing, still checks the stored bytes against the record, and gives the same model.
import { describe, expect, it } from 'vitest';
import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import type { TrainOptions } from '../../src/registry/train.js';
import { openMemoryRegistry } from './helpers.js';

const csv = [
  'a,b,c,y',
  ...Array.from({ length: 400 }, (_, r) => {
    const a = (r * 7919) % 101;
    const b = (r * 104729) % 97;
    return `${a},${b},${r % 3 === 0 ? 'x' : 'z'},${a / 10 + b / 20 + (r % 3 === 0 ? 5 : 0)}`;
  }),
].join('\n');

const model = { type: 'random-forest', params: { nEstimators: 5, maxDepth: 5 } };

/** Trains and answers the result with the message of the end of the reading phase. */
async function trainReading(
  registry: Awaited<ReturnType<typeof openMemoryRegistry>>,
  options: Partial<TrainOptions> = {},
) {
  let read = '';
  const result = await registry.train({
    dataset: 'd',
    target: 'y',
    model,
    formats: ['native'],
    ...options,
    onProgress: (p) => {
      if (p.phase === 'reading' && p.message?.startsWith('read ')) read = p.message;
    },
  });
  return { result, read };
}

describe('the table kept by the train worker', () => {
  it('a second training on the same dataset version reuses the parsed table and gives the same model', async () => {
    const registry = await openMemoryRegistry();
    await registry.datasets.upload('d.csv', csv);
    const first = await trainReading(registry);
    const second = await trainReading(registry);
    expect(first.read).toBe('read 400 rows');
    expect(second.read).toMatch(/^read 400 rows \(parsed by the last training on this dataset version\)$/);
    expect(second.result.metrics).toEqual(first.result.metrics);
    const rows = [
      { a: 3, b: 40, c: 'x' },
      { a: 90, b: 7, c: 'z' },
    ];
    const predictions = async (runId: string) => (await registry.load(`runs:/${runId}/model`)).predict(rows);
    expect(await predictions(second.result.run.id)).toEqual(await predictions(first.result.run.id));

    // Another version of the dataset is parsed again.
    await registry.datasets.upload('d.csv', `${csv}\n1,2,x,3`);
    expect((await trainReading(registry)).read).toBe('read 401 rows');
    expect((await trainReading(registry, { dataset: { name: 'd', version: 1 } })).read).toBe('read 400 rows');
    await registry.close();
  });

  it('stored bytes changed behind the record are still INTEGRITY, also when the table was kept', async () => {
    const artifacts = createMemoryArtifactStore();
    const registry = await openMemoryRegistry({ artifacts });
    const ds = await registry.datasets.upload('d.csv', csv);
    await trainReading(registry);
    const stored = (await artifacts.get(ds.key)) as Uint8Array;
    const flipped = Uint8Array.from(stored);
    flipped[20] = flipped[20]! ^ 0x01;
    await artifacts.put(ds.key, flipped);
    await expect(trainReading(registry)).rejects.toMatchObject({ code: 'INTEGRITY' });
    await registry.close();
  });
});
