import { describe, expect, it } from 'vitest';
import { externalReferenceModels, linearRegressionModel, zipMapClassifierModel } from '../onnx/fixtures.js';
import { openMemoryRegistry, snapshot } from './helpers.js';

describe('bring your own ONNX model', () => {
  it('a model modelreg did not produce, with another input name, registers, loads and predicts', async () => {
    const registry = await openMemoryRegistry();
    const run = await registry.startRun({ experiment: 'byo' });
    const logged = await run.logModel({ format: 'onnx', file: linearRegressionModel([2, -1, 0.5], 3) });
    expect(logged.manifest).toMatchObject({ task: 'regression', onnx: { inputName: 'float_input' } });
    expect(logged.manifest.features.map((f) => f.name)).toEqual(['x0', 'x1', 'x2']);
    await run.end();
    const version = await registry.registerModel('linear', { source: logged.uri });
    await registry.transitionStage('linear', version.version, 'production');
    const model = await registry.load('models:/linear/production');
    expect(model.format).toBe('onnx');
    const rows = [
      [1, 2, 3],
      [0, 0, 0],
      [-4, 1, 10],
    ];
    const expected = rows.map(([a, b, c]) => 2 * a! - b! + 0.5 * c! + 3);
    const predicted = (await model.predict(rows)) as number[];
    predicted.forEach((p, i) => expect(p).toBeCloseTo(expected[i]!, 4));
    expect(await registry.predict('models:/linear/1', [{ x0: 1, x1: 2, x2: 3 }])).toEqual([predicted[0]]);
  });

  it('a signature names the inputs and classes of a classifier with a ZipMap output', async () => {
    const registry = await openMemoryRegistry();
    const run = await registry.startRun({ experiment: 'byo' });
    const file = zipMapClassifierModel(
      [
        [1, 0],
        [0, 1],
        [-1, -1],
      ],
      [0, 0, 0],
      [10, 20, 30],
    );
    const logged = await run.logModel({
      format: 'onnx',
      file,
      signature: { inputs: [{ name: 'a' }, { name: 'b' }], classes: [10, 20, 30], target: 'kind' },
    });
    expect(logged.manifest).toMatchObject({ task: 'classification', classes: [10, 20, 30], target: 'kind' });
    const model = await registry.load(logged.uri);
    expect(
      await model.predict([
        { a: 5, b: 0 },
        { a: 0, b: 5 },
        { a: -5, b: -5 },
      ]),
    ).toEqual([10, 20, 30]);
  });

  it('a classifier without known classes asks for signature.classes', async () => {
    const registry = await openMemoryRegistry();
    const run = await registry.startRun({ experiment: 'byo' });
    const file = zipMapClassifierModel([[1], [-1]], [0, 0], [0, 1]);
    await expect(run.logModel({ format: 'onnx', file })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('signature.classes'),
    });
  });

  const valid = linearRegressionModel([1, 2], 0);
  const corpus: [string, Uint8Array][] = [
    ['empty bytes', new Uint8Array()],
    ['text', new TextEncoder().encode('this is not a model')],
    ['truncated', valid.subarray(0, Math.floor(valid.length / 2))],
    ['corrupt', Uint8Array.from(valid, (b, i) => (i % 7 === 3 ? b ^ 0xff : b))],
    ...Object.entries(externalReferenceModels()).map(([k, v]): [string, Uint8Array] => [
      `external data (${k})`,
      v,
    ]),
  ];

  it.each(corpus)(
    '%s logged as ONNX is INVALID_ARGUMENT at log time and writes nothing',
    async (_label, file) => {
      const registry = await openMemoryRegistry();
      const run = await registry.startRun({ experiment: 'byo' });
      const before = await snapshot(registry);
      await expect(run.logModel({ format: 'onnx', file })).rejects.toMatchObject({
        code: 'INVALID_ARGUMENT',
      });
      expect(await snapshot(registry)).toEqual(before);
    },
  );
});
