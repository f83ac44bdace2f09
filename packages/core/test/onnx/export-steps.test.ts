import { describe, expect, it } from 'vitest';
import { isRegistryError } from '../../src/errors.js';
import {
  exportTreeEnsembleToOnnx,
  exportTreeEnsembleToOnnxAsync,
} from '../../src/formats/onnx/export-tree-ensemble.js';
import { decodeOnnxModel } from '../../src/formats/onnx/proto.js';
import { randomForest } from './fixtures.js';

describe('the stepwise ONNX export (used by train, so that an abort stops it)', () => {
  it.each([
    ['regression', { seed: 1, task: 'regression', mode: 'leq', nTrees: 40, maxDepth: 9 }],
    ['classification', { seed: 2, task: 'classification', mode: 'lt', nTrees: 40, maxDepth: 9, nClasses: 3 }],
  ] as const)('decodes to exactly the model of the one-call export (%s)', async (_task, spec) => {
    const model = randomForest(spec);
    const classes = spec.task === 'classification' ? { classes: ['a', 'b', 'c'] } : {};
    const steps = await exportTreeEnsembleToOnnxAsync(model, classes);
    expect(decodeOnnxModel(steps)).toEqual(decodeOnnxModel(exportTreeEnsembleToOnnx(model, classes)));
  });

  it('lets the event loop run while it works and stops with ABORTED when the signal fires', async () => {
    const model = randomForest({ seed: 3, task: 'regression', mode: 'leq', nTrees: 200, maxDepth: 10 });
    const controller = new AbortController();
    let ticks = 0;
    const timer = setInterval(() => {
      if (++ticks === 2) controller.abort();
    }, 0);
    const error = await exportTreeEnsembleToOnnxAsync(model, {}, controller.signal).then(
      () => null,
      (e: unknown) => e,
    );
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(2);
    expect(isRegistryError(error, 'ABORTED')).toBe(true);
  });
});
