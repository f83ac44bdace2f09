// The shared public datasets, split exactly as registry.train splits them, for comparisons with scikit-learn.
import { readFileSync } from 'node:fs';
import { loadTable, profileCsv } from '@modelreg/core/datasets';
import { encodeTable, fitFeatureSpecs, selectFeatures } from '@modelreg/core/formats';
import { encodeTarget, trainTestSplit } from '@modelreg/core/training';

export const sharedDatasets = [
  { name: 'iris', target: 'species' },
  { name: 'wine', target: 'cultivar' },
  { name: 'breast_cancer', target: 'diagnosis' },
  { name: 'diabetes', target: 'progression' },
];

export function datasetPath(name) {
  return new URL(`../../../shared/datasets/${name}.csv`, import.meta.url);
}

/** The table, and the encoded train/test matrices of a stratified (classification) split, as fitModel makes them. */
export async function loadSplit(name, target, { testSize = 0.25, seed = 42 } = {}) {
  const csv = readFileSync(datasetPath(name));
  const profile = await profileCsv(csv);
  const table = await loadTable(csv, profile.columns);
  const encoded = encodeTarget(table, target);
  const classification = encoded.task === 'classification';
  const { features } = selectFeatures(table, target);
  const split = trainTestSplit({
    n: encoded.rows.length,
    testSize,
    seed,
    stratify: classification ? encoded.y : undefined,
  });
  const trainRows = split.train.map((p) => encoded.rows[p]);
  const testRows = split.test.map((p) => encoded.rows[p]);
  const specs = fitFeatureSpecs(table, features, encoded.rows, trainRows);
  const part = (rows, positions) => ({
    x: encodeTable(table, specs, rows),
    y: Float64Array.from(positions, (p) => encoded.y[p]),
    nRows: rows.length,
    nFeatures: specs.length,
  });
  return {
    table,
    task: encoded.task,
    train: part(trainRows, split.train),
    test: part(testRows, split.test),
    testSize,
    seed,
  };
}
