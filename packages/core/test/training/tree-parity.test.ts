import { describe, expect, it } from 'vitest';
import { argmaxRows, predictEnsemble } from '../../src/formats/tree-ensemble.js';
import type { TreeEnsemble } from '../../src/formats/tree-ensemble.js';
import { encodeTable, fitFeatureSpecs, selectFeatures } from '../../src/formats/features.js';
import { encodeTarget } from '../../src/training/task.js';
import type { FitInput } from '../../src/training/trainer.js';
import { toRows } from '../../src/training/trainers/common.js';
import { trainLibraryTree } from '../../src/training/trainers/decision-tree.js';
import { trainLibraryForests } from '../../src/training/trainers/random-forest.js';
import { cartTreeToEnsemble, forestsToEnsemble } from '../../src/training/trainers/to-ensemble.js';
import { loadDataset, targetOf } from './helpers.js';

function prepare(name: string): FitInput<never> & { rows: number[][] } {
  const table = loadDataset(name);
  const target = targetOf(table);
  const enc = encodeTarget(table, target);
  const { features } = selectFeatures(table, target);
  const specs = fitFeatureSpecs(table, features, enc.rows, enc.rows);
  const x = encodeTable(table, specs, enc.rows);
  const nRows = enc.rows.length;
  return {
    x,
    y: enc.y,
    nRows,
    nFeatures: specs.length,
    featureNames: features,
    task: enc.task,
    nClasses: enc.classes?.length,
    params: undefined as never,
    seed: 42,
    rows: toRows(x, nRows, specs.length),
  };
}

/** Rows where the IR and the library disagree; for classification each must be a tied vote in the IR. */
function compare(
  ir: TreeEnsemble,
  x: Float64Array,
  nRows: number,
  lib: number[],
): { mismatches: number; ties: number } {
  const out = predictEnsemble(ir, x, nRows);
  if (ir.task === 'regression') {
    for (let i = 0; i < nRows; i++) expect(Math.abs(out[i]! - lib[i]!)).toBeLessThanOrEqual(1e-9);
    return { mismatches: 0, ties: 0 };
  }
  const labels = argmaxRows(out, ir.nOutputs);
  let mismatches = 0;
  let ties = 0;
  for (let i = 0; i < nRows; i++) {
    const row = Array.from(out.subarray(i * ir.nOutputs, (i + 1) * ir.nOutputs));
    const top = Math.max(...row);
    if (row.filter((v) => v === top).length > 1) ties++;
    if (labels[i] !== lib[i]) {
      mismatches++;
      expect(row[lib[i]!]).toBe(top); // the library's class is tied for the most votes
    }
  }
  return { mismatches, ties };
}

describe('tree IR parity with the libraries', () => {
  for (const name of ['iris', 'wine', 'breast_cancer', 'diabetes']) {
    it(`the IR of an ml-random-forest forest predicts like the library on ${name}`, async () => {
      const input = prepare(name);
      const params = { nEstimators: 10, maxFeatures: 0.7, minSamplesSplit: 4, bootstrap: true };
      const forests = await trainLibraryForests({ ...input, params });
      expect(forests).toHaveLength(1);
      const ir = forestsToEnsemble(forests, input.task, input.nFeatures, input.nClasses);
      expect(ir.mode).toBe('lt');
      expect(ir.trees).toHaveLength(10);
      const { mismatches, ties } = compare(ir, input.x, input.nRows, forests[0]!.predict(input.rows));
      if (input.task === 'classification') {
        expect(mismatches).toBeLessThanOrEqual(ties);
        console.log(
          `${name}: ${mismatches} label differences (all tied votes) among ${ties} tied rows of ${input.nRows}`,
        );
      }
    });

    it(`the IR of an ml-cart tree predicts exactly like the library on ${name}`, () => {
      const input = prepare(name);
      const tree = trainLibraryTree({ ...input, params: { minSamplesSplit: 4 } });
      const ir = cartTreeToEnsemble(tree, input.task, input.nFeatures, input.nClasses);
      const { mismatches } = compare(ir, input.x, input.nRows, tree.predict(input.rows));
      expect(mismatches).toBe(0);
    });
  }

  it('a forest of several chunks averages like the libraries on diabetes', async () => {
    const input = prepare('diabetes');
    const forests = await trainLibraryForests({
      ...input,
      params: { nEstimators: 13, maxFeatures: 0.5, minSamplesSplit: 8, bootstrap: true },
    });
    expect(forests.map((f) => f.estimators.length)).toEqual([10, 3]);
    const perForest = forests.map((f) => f.predict(input.rows));
    const lib = perForest[0]!.map((_, i) => (perForest[0]![i]! * 10 + perForest[1]![i]! * 3) / 13);
    compare(forestsToEnsemble(forests, 'regression', input.nFeatures, undefined), input.x, input.nRows, lib);
  });
});
