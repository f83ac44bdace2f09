import { z } from 'zod';
import { nameSchema, parseArg } from '../domain/names.js';
import type { Cell } from '../domain/table.js';
import type { DatasetCatalog } from '../datasets/dataset-catalog.js';
import { RegistryError, isRegistryError } from '../errors.js';
import type { LoadedModel } from '../serving/load.js';
import { classificationMetrics, regressionMetrics } from '../training/metrics.js';

export const evaluateOptionsSchema = z
  .object({
    /** A catalog dataset: `'name'` (latest) or `{ name, version }`. It must hold the model's target column. */
    dataset: z.union([
      nameSchema,
      z.object({ name: nameSchema, version: z.number().int().min(1).optional() }).strict(),
    ]),
  })
  .strict();
export type EvaluateOptions = z.input<typeof evaluateOptionsSchema>;

export interface EvaluateResult {
  /** r2, rmse, mae (regression) or accuracy, f1_macro, log_loss (classification). */
  metrics: Record<string, number>;
  /** Rows scored. */
  rows: number;
  /** Rows left out: missing target, or (classification) a label the model does not know. */
  skippedRows: number;
}

/** Scores a loaded model on every row of a dataset that has the model's target. */
export async function evaluate(
  model: LoadedModel,
  datasets: DatasetCatalog,
  options: EvaluateOptions,
): Promise<EvaluateResult> {
  const opts = parseArg(evaluateOptionsSchema, options, 'evaluate options', 'evaluate');
  const name = typeof opts.dataset === 'string' ? opts.dataset : opts.dataset.name;
  const version = typeof opts.dataset === 'string' ? undefined : opts.dataset.version;
  const table = await datasets.load(name, version);
  const { target, features } = model.manifest;
  const column = (key: string): Cell[] | undefined =>
    Object.hasOwn(table.data, key) ? table.data[key] : undefined;
  const truth = column(target);
  const featureColumns = features.map((f) => column(f.name));
  if (!truth) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `dataset "${name}" has no column "${target}", the model's target`,
      { where: 'evaluate' },
    );
  }
  const classIndex = new Map((model.classes ?? []).map((c, i) => [String(c), i]));
  const records: Record<string, Cell>[] = [];
  const yTrue: number[] = [];
  let skipped = 0;
  for (let r = 0; r < table.rowCount; r++) {
    const t = truth[r];
    const y =
      t === null || t === undefined
        ? undefined
        : model.task === 'classification'
          ? classIndex.get(String(t))
          : Number(t);
    if (y === undefined || Number.isNaN(y)) {
      skipped++;
      continue;
    }
    // No prototype: a feature may be named `__proto__` or `constructor`.
    const record = Object.create(null) as Record<string, Cell>;
    features.forEach((f, j) => {
      record[f.name] = featureColumns[j]?.[r] ?? null;
    });
    records.push(record);
    yTrue.push(y);
  }
  if (records.length === 0) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `dataset "${name}" has no row with a usable "${target}" value`,
      { where: 'evaluate' },
    );
  }
  const predicted = await model.predict(records);
  if (model.task === 'regression') {
    return {
      metrics: regressionMetrics(yTrue, predicted as number[]),
      rows: records.length,
      skippedRows: skipped,
    };
  }
  const k = model.classes!.length;
  const yPred = predicted.map((p) => classIndex.get(String(p))!);
  // A model without probabilities (an ONNX file with no probability output) is scored without
  // log_loss; any other failure is the caller's to see.
  const probaRows = await model.predictProba(records).catch((e: unknown) => {
    if (isRegistryError(e, 'UNSUPPORTED')) return undefined;
    throw e;
  });
  const proba = probaRows
    ? Float64Array.from(probaRows.flatMap((row) => model.classes!.map((c) => row[String(c)] ?? 0)))
    : undefined;
  return {
    metrics: classificationMetrics(yTrue, yPred, k, proba),
    rows: records.length,
    skippedRows: skipped,
  };
}
