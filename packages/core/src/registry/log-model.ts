import { z } from 'zod';
import { parseArg } from '../domain/names.js';
import { ownRecordSchema } from '../domain/records.js';
import type { FileRecord } from '../domain/types.js';
import { RegistryError } from '../errors.js';
import type { ModelManifest } from '../formats/manifest.js';
import { labelSchema } from '../formats/manifest.js';
import { createOnnxPredictor } from '../formats/onnx/session.js';
import type { OnnxModelInfo } from '../formats/onnx/inspect.js';
import { describeSignature } from '../formats/manifest.js';
import { MISSING_MARKERS, VALUE_RULES_VERSION } from '../datasets/values.js';
import type { FeatureSpec } from '../formats/features.js';
import type { Label, Task } from '../training/trainer.js';
import type { RegistryContext } from './context.js';
import { logArtifacts } from './run-artifacts.js';

const where = 'logModel';

export const logModelOptionsSchema = z
  .object({
    format: z.literal('onnx'),
    /** The `.onnx` bytes (for example from scikit-learn through skl2onnx). */
    file: z.custom<Uint8Array>(
      (v) => v instanceof Uint8Array,
      'must be the model bytes (a Uint8Array or Buffer)',
    ),
    /** Folder in the run's artifacts. Default `model`. */
    path: z.string().min(1).default('model'),
    /**
     * What the model takes and gives. Every part is optional: input names default to `x0..x{n-1}` with
     * the width read from the model; the task defaults to classification when the model has a label
     * output (integer or string), regression otherwise; classes default to `0..k-1` from the width of
     * the probabilities output.
     */
    signature: z
      .object({
        inputs: z
          .array(
            z
              .object({
                name: z.string().min(1),
                type: z.enum(['number', 'integer', 'boolean']).default('number'),
              })
              .strict(),
          )
          .min(1)
          .optional(),
        task: z.enum(['classification', 'regression']).optional(),
        classes: z.array(labelSchema).min(2).optional(),
        /** The name of what it predicts, shown in MODEL.json. Default `prediction`. */
        target: z.string().min(1).default('prediction'),
      })
      .strict()
      .default({ target: 'prediction' }),
    /** Metrics to record in MODEL.json (they are not logged on the run; use `logMetrics` for that). */
    metrics: ownRecordSchema(z.string(), z.number()).default({}),
  })
  .strict();
export type LogModelOptions = z.input<typeof logModelOptionsSchema>;

export interface LoggedModel {
  /** `runs:/<runId>/<path>`: register it with `registerModel(name, { source })` or load it directly. */
  uri: string;
  manifest: ModelManifest;
  files: FileRecord[];
}

function inferTask(info: OnnxModelInfo): Task {
  const labelTypes = new Set(['int64', 'int32', 'string']);
  return info.outputs.some((o) => o.kind === 'tensor' && labelTypes.has(o.elemType))
    ? 'classification'
    : 'regression';
}

function inferClasses(info: OnnxModelInfo): Label[] | undefined {
  const proba = info.outputs.find(
    (o) =>
      o.kind === 'tensor' && o.elemType === 'float' && typeof o.shape?.[1] === 'number' && o.shape[1] >= 2,
  );
  const k = proba?.shape?.[1];
  return typeof k === 'number' ? Array.from({ length: k }, (_, i) => i) : undefined;
}

/**
 * Logs an ONNX model trained elsewhere under a run, with a MODEL.json that makes it loadable like a
 * built-in model. The bytes are checked at log time: corrupt, truncated or non-ONNX bytes, external
 * data and file references are `INVALID_ARGUMENT` here rather than failures at predict time.
 */
export async function logOnnxModel(
  ctx: RegistryContext,
  runId: string,
  options: LogModelOptions,
): Promise<LoggedModel> {
  const opts = parseArg(logModelOptionsSchema, options, 'model options', where);
  const path = opts.path.replace(/\/+$/, '');
  const predictor = await createOnnxPredictor(opts.file);
  const { info, inputName, nFeatures } = predictor;
  await predictor.release();
  const sig = opts.signature;
  const width = sig.inputs?.length ?? nFeatures;
  if (width === null || width === undefined) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `the input "${inputName}" has a symbolic width; give signature.inputs`,
      { where },
    );
  }
  if (nFeatures !== null && sig.inputs && sig.inputs.length !== nFeatures) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      `signature.inputs lists ${sig.inputs.length} inputs but the model's input "${inputName}" is ${nFeatures} wide`,
      { where },
    );
  }
  const features: FeatureSpec[] = (
    sig.inputs ?? Array.from({ length: width }, (_, i) => ({ name: `x${i}`, type: 'number' as const }))
  ).map((input) => ({ name: input.name, type: input.type, fill: 0 }));
  const task: Task = sig.task ?? (sig.classes ? 'classification' : inferTask(info));
  const classes = task === 'classification' ? (sig.classes ?? inferClasses(info)) : undefined;
  if (task === 'classification' && !classes) {
    throw new RegistryError(
      'INVALID_ARGUMENT',
      'the model looks like a classifier but its classes are unknown; give signature.classes',
      { where },
    );
  }
  const [onnxFile] = await logArtifacts(ctx, runId, [{ path: `${path}/model.onnx`, body: opts.file }]);
  const manifest: ModelManifest = {
    formatVersion: 1,
    task,
    target: sig.target,
    features,
    ...(classes ? { classes } : {}),
    files: [{ path: 'model.onnx', sha256: onnxFile!.sha256, size: onnxFile!.size, format: 'onnx' }],
    trainer: { name: 'external', params: {} },
    metrics: opts.metrics,
    createdAt: ctx.now(),
    signature: describeSignature({ task, features, classes }),
    values: { version: VALUE_RULES_VERSION, missing: [...MISSING_MARKERS] },
    onnx: { inputName },
  };
  const [manifestFile] = await logArtifacts(ctx, runId, [
    { path: `${path}/MODEL.json`, body: JSON.stringify(manifest, null, 2) },
  ]);
  return { uri: `runs:/${runId}/${path}`, manifest, files: [onnxFile!, manifestFile!] };
}
