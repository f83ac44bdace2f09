import { z } from 'zod';
import { timestampSchema } from '../domain/types.js';
import { parseInput } from '../domain/parse.js';
import { ownRecordSchema } from '../domain/records.js';
import { featureSpecSchema } from './features.js';

/** A class label as it appeared in the data. */
export const labelSchema = z.union([z.string(), z.number(), z.boolean()]);

export const modelFileFormats = ['native', 'onnx'] as const;

/** A file of the model folder, as recorded in MODEL.json (written by the registry). */
export const manifestFileSchema = z.object({
  /** Relative to the model folder: `model.native.json`, `model.onnx`. */
  path: z.string().min(1),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().nonnegative(),
  format: z.enum(modelFileFormats),
});
export type ManifestFile = z.infer<typeof manifestFileSchema>;

export const signatureInputSchema = z.object({
  name: z.string(),
  type: z.enum(['number', 'integer', 'datetime', 'boolean', 'categorical']),
  /** Categorical inputs: the accepted values. */
  categories: z.array(z.string()).optional(),
  /** Whether `null` is accepted (and imputed). Always true for trained models. */
  nullable: z.boolean(),
});
export type SignatureInput = z.infer<typeof signatureInputSchema>;

/** The model's input and output contract, for documentation (OpenAPI, UIs) and BYO models. */
export const modelSignatureSchema = z.object({
  inputs: z.array(signatureInputSchema),
  output: z.object({
    /** `label` for classifiers (one of `classes`), `number` for regressors. */
    type: z.enum(['label', 'number']),
    classes: z.array(labelSchema).optional(),
  }),
});
export type ModelSignature = z.infer<typeof modelSignatureSchema>;

/**
 * How prediction reads input values (see `valueReader` in `datasets/values.ts`): the version of the
 * value rules the model was trained under and the texts that mean "missing". A manifest without it
 * (written before modelreg recorded it) is read with version 1 and the default markers, which are
 * the rules its training used.
 */
export const valueRulesSchema = z.object({
  version: z.number().int().min(1),
  /** Lowercase texts that mean missing besides the empty cell, compared trimmed and case-insensitively. */
  missing: z.array(z.string()),
});

/** How the training rows were chosen; informative only. */
export const trainingInfoSchema = z.object({
  seed: z.number().int(),
  testSize: z.number(),
  trainRows: z.number().int().nonnegative(),
  testRows: z.number().int().nonnegative(),
  /** Rows left out because their target was missing. */
  droppedRows: z.number().int().nonnegative(),
  stratified: z.boolean(),
  /** Columns left out of the default features, with why. */
  excludedColumns: z.array(z.object({ name: z.string(), reason: z.string() })),
});
export type TrainingInfo = z.infer<typeof trainingInfoSchema>;

/** Feature importance measured at training (see training/importance.ts); values keyed by feature name. */
export const importanceSchema = z.object({
  /**
   * Impurity decrease of the splits on each feature (tree models) or |coefficient| on the standardised
   * scale (linear models), normalised to sum to 1.
   */
  gain: z.object({ method: z.string(), values: ownRecordSchema(z.string(), z.number()) }).optional(),
  /** The mean (and standard deviation) drop of the held-out `metric` when a feature's column is shuffled. */
  permutation: z
    .object({
      metric: z.string(),
      baseline: z.number(),
      rows: z.number().int().nonnegative(),
      repeats: z.number().int().min(1),
      mean: ownRecordSchema(z.string(), z.number()),
      std: ownRecordSchema(z.string(), z.number()),
    })
    .optional(),
});
export type FeatureImportance = z.infer<typeof importanceSchema>;

/**
 * The coefficients of a linear model, readable: one term per design column (a numeric feature with
 * the mean and scale it is standardised with, or one category of a categorical feature), with one
 * coefficient per output (`outputs`: the value, the positive class, or each class).
 */
export const coefficientsSchema = z.object({
  link: z.enum(['identity', 'logistic', 'softmax']),
  outputs: z.array(labelSchema),
  intercept: z.array(z.number()),
  terms: z.array(
    z.object({
      feature: z.string(),
      category: z.string().optional(),
      mean: z.number().optional(),
      scale: z.number().optional(),
      coef: z.array(z.number()),
    }),
  ),
});
export type LinearCoefficients = z.infer<typeof coefficientsSchema>;

/**
 * `MODEL.json`: everything needed to load a model and feed it — the task, the target, the feature
 * encoding (see `FeatureSpec`), the classes, the files with their sha256, the trainer and its
 * effective params, and the test metrics.
 */
export const modelManifestSchema = z
  .object({
    formatVersion: z.literal(1),
    task: z.enum(['classification', 'regression']),
    target: z.string(),
    /** In model input order. */
    features: z.array(featureSpecSchema).min(1),
    /** Classification: the labels, sorted; class index `i` is `classes[i]`. */
    classes: z.array(labelSchema).min(2).optional(),
    files: z.array(manifestFileSchema),
    trainer: z.object({
      name: z.string(),
      params: ownRecordSchema(z.string(), z.json()),
      /** What the fit found, e.g. gradient boosting's `rounds` and `bestIteration` (early stopping). */
      info: ownRecordSchema(z.string(), z.union([z.number(), z.string(), z.boolean()])).optional(),
    }),
    metrics: ownRecordSchema(z.string(), z.number()),
    createdAt: timestampSchema,
    signature: modelSignatureSchema.optional(),
    /** How to feed `model.onnx`: its input name (modelreg exports use `input`). */
    onnx: z.object({ inputName: z.string().min(1) }).optional(),
    training: trainingInfoSchema.optional(),
    /** How prediction reads input values; absent in manifests written before it was recorded. */
    values: valueRulesSchema.optional(),
    /** Feature importance (built-in trainers): gain and permutation on the test split. */
    importance: importanceSchema.optional(),
    /** Linear models: the coefficients. */
    coefficients: coefficientsSchema.optional(),
  })
  .refine((m) => (m.task === 'classification') === (m.classes !== undefined), {
    message: 'classes must be given for classification and only for it',
    path: ['classes'],
  });
export type ModelManifest = z.infer<typeof modelManifestSchema>;

/**
 * Parses MODEL.json content (already JSON-parsed); `INVALID_ARGUMENT` naming the first bad field,
 * prefixed with `label` (e.g. `model "iris" version 2`) when given.
 */
export function parseManifest(json: unknown, label?: string, where = 'model'): ModelManifest {
  return parseInput(modelManifestSchema, json, {
    what: label ? `${label}: MODEL.json` : 'MODEL.json',
    where,
  });
}

/** The JSON signature of a model, derived from its manifest (stored as `MODEL.json#signature`). */
export function describeSignature(
  manifest: Pick<ModelManifest, 'task' | 'features' | 'classes'>,
): ModelSignature {
  return {
    inputs: manifest.features.map((f) =>
      f.type === 'categorical'
        ? { name: f.name, type: f.type, categories: [...f.categories], nullable: true }
        : { name: f.name, type: f.type, nullable: true },
    ),
    output:
      manifest.task === 'classification'
        ? { type: 'label', classes: [...(manifest.classes ?? [])] }
        : { type: 'number' },
  };
}
