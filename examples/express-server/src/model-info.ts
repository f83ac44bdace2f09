import type { ModelManifest, ModelRegistry, ModelSignature } from '@modelreg/core';
import { describeSignature } from '@modelreg/core/formats';
import type { z } from 'zod';
import type { modelInfoSchema } from './schemas.js';

/** What the UI shows of a logged model: task, target, classes, trainer, test metrics and signature. */
export type ModelInfo = z.infer<typeof modelInfoSchema>;

/** The signature stored in MODEL.json, or one derived from its features for manifests written without it. */
const signatureOf = (manifest: ModelManifest): ModelSignature =>
  manifest.signature ?? describeSignature(manifest);

/**
 * The model info of `uri` (`models:/name/version` or `runs:/id/model`) from its MODEL.json, which
 * core reads and checks against its recorded sha256; the model itself is not loaded.
 */
export async function readModelInfo(registry: ModelRegistry, uri: string): Promise<ModelInfo> {
  const manifest = await registry.readManifest(uri);
  return {
    task: manifest.task,
    target: manifest.target,
    classes: manifest.classes ?? null,
    trainer: manifest.trainer,
    metrics: manifest.metrics,
    signature: signatureOf(manifest),
  };
}
