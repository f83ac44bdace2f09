import { describe, expect, it } from 'vitest';
import { openDev, tempDir } from './registries.js';
import { startChild } from './spawn.js';

describe('several processes share one SQLite file and artifact folder', () => {
  it('4 processes x 50 registrations on one model give versions 1..200 with no duplicate and no error', async () => {
    const dir = tempDir('mp');
    const registry = await openDev(dir);
    const run = await registry.startRun({ experiment: 'mp' });
    await run.logArtifact('model/weights.bin', new Uint8Array([1, 2, 3]));
    await run.end();
    await registry.close();
    const children = Array.from({ length: 4 }, () => startChild('register-many', [dir, run.id, '50']));
    await new Promise((r) => setTimeout(r, 1500)); // let all four open the file before they race
    children.forEach((c) => c.go());
    const results = (await Promise.all(children.map((c) => c.result))) as {
      versions: number[];
      errors: string[];
    }[];
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    const all = results.flatMap((r) => r.versions).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    const check = await openDev(dir);
    expect((await check.listVersions('shared')).length).toBe(200);
    expect((await check.getModel('shared'))!.lastVersion).toBe(200);
    await check.close();
  });

  it('a model trained, registered and promoted in one process predicts in another', async () => {
    const dir = tempDir('two');
    const trained = (await startChild('train', [dir]).result) as { version: number };
    expect(trained.version).toBe(1);
    const rows = [
      { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 },
      { sepal_length_cm: 6.7, sepal_width_cm: 3.0, petal_length_cm: 5.2, petal_width_cm: 2.3 },
    ];
    const other = (await startChild('predict', [dir, 'models:/iris/production', JSON.stringify(rows)])
      .result) as {
      version: number;
      format: string;
      predictions: string[];
    };
    expect(other).toMatchObject({ version: 1, format: 'onnx', predictions: ['setosa', 'virginica'] });
    const here = await openDev(dir);
    expect(await here.predict('models:/iris/production', rows)).toEqual(other.predictions);
    await here.close();
  });
});
