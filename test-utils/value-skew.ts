/**
 * The train/serve skew scenario of issue 11 (acceptance 1), shared by core's test and the express
 * server's: train on a CSV, then predict on that same CSV in every input form. Typed structurally so
 * it runs against core's source (core tests) and `@modelreg/core` (example tests) alike.
 */
import { readFileSync } from 'node:fs';
import Papa from 'papaparse';
import { MIXED_FEATURES, MIXED_TARGET, mixedValuesCsv } from './mixed-values.js';

/** Where the shared datasets live (as `packages/core/test/training/helpers.ts` finds them). */
export const SHARED_DATASETS_DIR = '/work/shared/datasets';

export interface SkewCase {
  name: string;
  csv: string;
  target: string;
  features?: readonly string[];
  classification: boolean;
}

/** iris, wine, breast_cancer, diabetes and the mixed-values CSV. */
export function skewCases(): SkewCase[] {
  const shared = (name: string, target: string, classification: boolean): SkewCase => ({
    name,
    csv: readFileSync(`${SHARED_DATASETS_DIR}/${name}.csv`, 'utf8'),
    target,
    classification,
  });
  return [
    shared('iris', 'species', true),
    shared('wine', 'cultivar', true),
    shared('breast_cancer', 'diagnosis', true),
    shared('diabetes', 'progression', false),
    {
      name: 'mixed_values',
      csv: mixedValuesCsv(),
      target: MIXED_TARGET,
      features: MIXED_FEATURES,
      classification: true,
    },
  ];
}

/** What a user gets from any CSV parser: one record per row, every cell a string. */
export function stringRecords(csv: string): Record<string, string>[] {
  return Papa.parse<Record<string, string>>(csv, { header: true, skipEmptyLines: true }).data;
}

interface SkewModel {
  predict(input: never): Promise<unknown[]>;
  predictProba(input: never): Promise<Record<string, number>[]>;
}

export interface SkewRegistry {
  datasets: {
    upload(name: string, body: string): Promise<unknown>;
    load(
      name: string,
    ): Promise<{ columns: { name: string }[]; rowCount: number; data: Record<string, unknown[]> }>;
  };
  train(options: never): Promise<unknown>;
  load(uri: string): Promise<SkewModel>;
}

/** The answers of one input form. */
export interface FormAnswer {
  predictions: unknown[];
  probabilities?: Record<string, number>[];
}

/** Uploads `c.csv` as dataset `c.name` and trains model `c.name` (version 1) on it. */
export async function trainSkewCase(registry: SkewRegistry, c: SkewCase): Promise<void> {
  await registry.datasets.upload(`${c.name}.csv`, c.csv);
  await registry.train({
    experiment: 'skew',
    dataset: c.name,
    target: c.target,
    ...(c.features ? { features: [...c.features] } : {}),
    model: { type: 'random-forest', params: { nEstimators: 10, maxDepth: 8 } },
    split: { seed: 7 },
    register: { name: c.name },
  } as never);
}

/**
 * Predicts `c.csv` with model `c.name` as `{ csv }`, as string records and as the typed records of
 * `datasets.load`, plus any `extra` forms (e.g. over HTTP). Probabilities too for classifiers.
 */
export async function predictEveryWay(
  registry: SkewRegistry,
  c: SkewCase,
  extra: Record<string, () => Promise<FormAnswer>> = {},
): Promise<Record<string, FormAnswer>> {
  const model = await registry.load(`models:/${c.name}/1`);
  const table = await registry.datasets.load(c.name);
  const typed = Array.from({ length: table.rowCount }, (_, r) =>
    Object.fromEntries(table.columns.map((col) => [col.name, table.data[col.name]![r]])),
  );
  const inputs: Record<string, unknown> = {
    csv: { csv: c.csv },
    stringRecords: stringRecords(c.csv),
    typedRecords: typed,
  };
  const answers: Record<string, FormAnswer> = {};
  for (const [form, input] of Object.entries(inputs)) {
    answers[form] = {
      predictions: await model.predict(input as never),
      ...(c.classification ? { probabilities: await model.predictProba(input as never) } : {}),
    };
  }
  for (const [form, answer] of Object.entries(extra)) answers[form] = await answer();
  return answers;
}
