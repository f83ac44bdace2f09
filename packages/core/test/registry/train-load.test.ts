import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createMemoryArtifactStore } from '../../src/memory/memory-artifact-store.js';
import { createMemoryMetadataStore } from '../../src/memory/memory-metadata-store.js';
import { ModelRegistry } from '../../src/registry/model-registry.js';
import type { ArtifactStore } from '../../src/stores/artifact-store.js';
import { fakeClock, openMemoryRegistry, snapshot } from './helpers.js';
import { friedman } from '../native-trees/helpers.js';

const csv = (name: string): Buffer =>
  readFileSync(new URL(`../fixtures/datasets/${name}.csv`, import.meta.url));
const fast = { type: 'random-forest', params: { nEstimators: 10, maxDepth: 6 } };

describe('train, register, load and predict', () => {
  it('a CSV goes in and a registered model that predicts comes out', async () => {
    const registry = await openMemoryRegistry();
    await registry.datasets.upload('Iris.csv', csv('iris'));
    const result = await registry.train({
      experiment: 'iris',
      dataset: 'iris',
      target: 'species',
      model: fast,
      split: { testSize: 0.25, seed: 7 },
      register: { name: 'iris', stage: 'production', alias: 'champion' },
    });
    expect(result.version).toMatchObject({
      name: 'iris',
      version: 1,
      stage: 'production',
      aliases: ['champion'],
    });
    expect(result.metrics.accuracy).toBeGreaterThan(0.85);
    expect(result.run.status).toBe('finished');
    expect(result.run.tags).toMatchObject({
      'modelreg.dataset.name': 'iris',
      'modelreg.dataset.version': '1',
      'modelreg.trainer': 'random-forest',
    });
    expect(result.run.params).toMatchObject({
      model_type: 'random-forest',
      target: 'species',
      nEstimators: '10',
    });
    const artifacts = (await (await registry.openRun(result.run.id)).listArtifacts()).map((f) => f.path);
    expect(artifacts).toEqual([
      'confusion_matrix.json',
      'model/MODEL.json',
      'model/model.native.json',
      'model/model.onnx',
    ]);
    expect(JSON.parse(result.run.tags['modelreg.onnx.parity']!)).toMatchObject({ mismatches: 0 });

    const model = await registry.load('models:/iris@champion');
    expect(model.format).toBe('onnx');
    const native = await registry.load('models:/iris@champion', { format: 'native' });
    expect(native.format).toBe('native');
    expect(model.version?.version).toBe(1);
    expect(model.task).toBe('classification');
    const rows = [
      { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 },
      { sepal_length_cm: 6.7, sepal_width_cm: 3.0, petal_length_cm: 5.2, petal_width_cm: 2.3 },
    ];
    const header = Object.keys(rows[0]!);
    const labels = await model.predict(rows);
    expect(await native.predict(rows)).toEqual(labels);
    expect(labels).toHaveLength(2);
    expect(new Set(labels).size).toBe(2);
    expect(
      await registry.predict('models:/iris/production', {
        csv: `${header.join(',')}\n${header.map((h) => rows[0]![h as keyof (typeof rows)[0]]).join(',')}\n`,
      }),
    ).toEqual([labels[0]]);
    const proba = await model.predictProba(rows);
    expect(Object.values(proba[0]!).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5); // float32 from onnxruntime
    const evaluation = await registry.evaluate('models:/iris/1', { dataset: 'iris' });
    expect(evaluation.rows).toBe(150);
    expect(evaluation.metrics.accuracy).toBeGreaterThan(0.9);
  });

  it('a forest past PARITY_RUNTIME_NODES (64k nodes or so) is checked with onnxruntime on its first trees and the whole file read back', async () => {
    const registry = await openMemoryRegistry();
    const d = friedman(8000, 5, 21);
    const rows = Array.from({ length: d.nRows }, (_, r) => ({
      ...Object.fromEntries(Array.from({ length: 5 }, (_, f) => [`x${f}`, d.x[r * 5 + f]!])),
      y: d.y[r]!,
    }));
    const result = await registry.train({
      dataset: { rows },
      target: 'y',
      model: { type: 'random-forest', params: { nEstimators: 8 } },
      register: { name: 'deep' },
    });
    const parity = JSON.parse(result.run.tags['modelreg.onnx.parity']!) as Record<string, number>;
    expect(parity.trees).toBe(8);
    expect(parity.runtimeTrees).toBeGreaterThan(0);
    expect(parity.runtimeTrees).toBeLessThan(8);
    expect(parity.maxAbsDiff).toBeLessThanOrEqual(parity.allowed!);
    const onnx = await registry.load('models:/deep/1', { format: 'onnx' });
    const native = await registry.load('models:/deep/1', { format: 'native' });
    const some = rows.slice(0, 50).map(({ y: _, ...x }) => x);
    const [a, b] = [await onnx.predict(some), await native.predict(some)] as number[][];
    a!.forEach((v, i) => expect(v).toBeCloseTo(b![i]!, 3));
  });

  it('bad training input leaves no run and no version behind', async () => {
    const registry = await openMemoryRegistry();
    await registry.datasets.upload('iris.csv', csv('iris'));
    await registry.datasets.upload('one_class.csv', 'x,y\n1,a\n2,a\n3,a\n4,a\n');
    await registry.datasets.upload('one_row.csv', 'x,y\n1,2\n');
    const before = await snapshot(registry);
    // Started one at a time: each call fails on its own (and none is left unhandled meanwhile).
    const attempts = [
      () => registry.train({ dataset: 'iris', target: 'nope', model: fast, register: { name: 'm' } }),
      () => registry.train({ dataset: 'one_class', target: 'y', model: fast, register: { name: 'm' } }),
      () => registry.train({ dataset: 'one_row', target: 'y', model: fast, register: { name: 'm' } }),
      () =>
        registry.train({
          dataset: 'iris',
          target: 'species',
          model: { type: 'gbm' },
          register: { name: 'm' },
        }),
      () => registry.train({ dataset: 'iris', target: 'species', model: fast, split: { testSize: 1.5 } }),
      () =>
        registry.train({
          dataset: 'iris',
          target: 'species',
          model: fast,
          register: { name: 'm', stage: 'prod' },
        }),
      () => registry.train({ dataset: 'missing', target: 'y', model: fast }),
    ];
    const codes = [];
    for (const attempt of attempts)
      codes.push(
        await attempt().then(
          () => 'ok',
          (e: { code?: string }) => e.code,
        ),
      );
    expect(codes).toEqual([
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'INVALID_ARGUMENT',
      'NOT_FOUND',
    ]);
    expect(await snapshot(registry)).toEqual(before);
  });

  it('an all-null column, a BOM, CRLF and quoted newlines: the column is left out and recorded why', async () => {
    const registry = await openMemoryRegistry();
    const lines = ['x,empty,note,y'];
    for (let i = 0; i < 40; i++) lines.push(`${i},,"line one\nline ${i % 3}",${i % 2 === 0 ? 'a' : 'b'}`);
    await registry.datasets.upload('quirky.csv', `\uFEFF${lines.join('\r\n')}\r\n`);
    const dataset = await registry.datasets.get('quirky');
    expect(dataset!.columns.map((c) => [c.name, c.type, c.nullCount])).toEqual([
      ['x', 'integer', 0],
      ['empty', 'string', 40],
      ['note', 'categorical', 0],
      ['y', 'categorical', 0],
    ]);
    const { manifest } = await registry.train({ dataset: 'quirky', target: 'y', model: fast });
    expect(manifest.features.map((f) => f.name)).not.toContain('empty');
    expect(manifest.training!.excludedColumns).toContainEqual({
      name: 'empty',
      reason: expect.stringMatching(/no values/),
    });
  });

  it('a table too wide to list its features in one param logs their count instead', async () => {
    const registry = await openMemoryRegistry();
    const names = Array.from({ length: 400 }, (_, i) => `feature_with_a_long_name_${i}`);
    const rows = Array.from({ length: 30 }, (_, r) =>
      [...names.map((_, i) => (r * 7 + i) % 11), r % 2 ? 'a' : 'b'].join(','),
    );
    const { run, manifest } = await registry.train({
      dataset: { csv: [[...names, 'y'].join(','), ...rows].join('\n') },
      target: 'y',
      model: { type: 'decision-tree' },
    });
    expect(run.params.features).toBe('400 features (listed in MODEL.json)');
    expect(manifest.features).toHaveLength(400);
  });

  it('an aborted training leaves nothing behind', async () => {
    const registry = await openMemoryRegistry();
    await registry.datasets.upload('iris.csv', csv('iris'));
    const before = await snapshot(registry);
    const controller = new AbortController();
    const pending = registry.train({
      dataset: 'iris',
      target: 'species',
      model: { type: 'random-forest', params: { nEstimators: 200 } },
      signal: controller.signal,
      onProgress: (p) => {
        if (p.fraction > 0.1) controller.abort(new Error('stop'));
      },
    });
    await expect(pending).rejects.toThrow('stop');
    expect(await snapshot(registry)).toEqual(before);
  });

  it('the same seed gives the same model', async () => {
    const registry = await openMemoryRegistry();
    await registry.datasets.upload('wine.csv', csv('wine'));
    const a = await registry.train({ dataset: 'wine', target: 'cultivar', model: fast, split: { seed: 3 } });
    const b = await registry.train({ dataset: 'wine', target: 'cultivar', model: fast, split: { seed: 3 } });
    const nativeSha = (r: typeof a) => r.manifest.files.find((f) => f.format === 'native')!.sha256;
    expect(nativeSha(a)).toBe(nativeSha(b));
  });

  it.each(['MODEL.json', 'model.native.json', 'model.onnx'])(
    'flipping one byte of %s makes load fail with INTEGRITY',
    async (path) => {
      const artifacts = createMemoryArtifactStore();
      const registry = await ModelRegistry.open({
        metadata: createMemoryMetadataStore(),
        artifacts,
        now: fakeClock(),
      });
      const { version } = await registry.train({
        dataset: { csv: csv('iris') },
        target: 'species',
        model: fast,
        register: { name: 'iris' },
      });
      const file = version!.files.find((f) => f.path === path)!;
      const bytes = (await artifacts.get(file.key))!;
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      await artifacts.put(file.key, bytes);
      const format = path === 'model.onnx' ? 'onnx' : 'native';
      await expect(registry.load('models:/iris/1', { format })).rejects.toMatchObject({ code: 'INTEGRITY' });
    },
  );

  it('50 parallel loads of one version read the artifacts once', async () => {
    const inner = createMemoryArtifactStore();
    let gets = 0;
    const counting: ArtifactStore = {
      ...inner,
      name: 'counting',
      get: (key) => ((gets += 1), inner.get(key)),
    };
    const registry = await ModelRegistry.open({
      metadata: createMemoryMetadataStore(),
      artifacts: counting,
      now: fakeClock(),
    });
    await registry.train({
      dataset: { csv: csv('iris') },
      target: 'species',
      model: fast,
      register: { name: 'iris' },
    });
    gets = 0;
    const models = await Promise.all(Array.from({ length: 50 }, () => registry.load('models:/iris/1')));
    expect(gets).toBe(2); // MODEL.json and model.native.json, once each
    expect(new Set(models.map((m) => m.digest)).size).toBe(1);
  });

  it('predict errors name the row and the column', async () => {
    const registry = await openMemoryRegistry();
    await registry.train({
      dataset: { csv: csv('iris') },
      target: 'species',
      model: fast,
      register: { name: 'iris' },
    });
    const model = await registry.load('models:/iris/latest');
    const good = { sepal_length_cm: 5.1, sepal_width_cm: 3.5, petal_length_cm: 1.4, petal_width_cm: 0.2 };
    await expect(model.predict([good, { ...good, petal_width_cm: 'wide' }])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/row 1.*petal_width_cm|petal_width_cm.*row 1/),
    });
    const { petal_length_cm: _, ...missing } = good;
    await expect(model.predict([missing])).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('petal_length_cm'),
    });
  });
});
