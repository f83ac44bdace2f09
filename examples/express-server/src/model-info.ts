import { createHash } from 'node:crypto';
import type { FileRecord, ModelManifest, ModelRegistry, ModelSignature } from '@modelreg/core';
import { RegistryError } from '@modelreg/core';
import { describeSignature, parseManifest } from '@modelreg/core/formats';
import type { z } from 'zod';
import type { modelInfoSchema } from './schemas.js';

/** What the UI shows of a logged model: task, target, classes, trainer, test metrics and signature. */
export type ModelInfo = z.infer<typeof modelInfoSchema>;

/** The signature stored in MODEL.json, or one derived from its features for manifests written without it. */
const signatureOf = (manifest: ModelManifest): ModelSignature =>
  manifest.signature ?? describeSignature(manifest);

/**
 * Reads a MODEL.json (the record of a version's or run's files), checks its sha256 and parses it.
 * Reading the manifest alone is cheap: the model itself is not loaded.
 */
export async function readModelInfo(
  registry: ModelRegistry,
  record: FileRecord,
  label: string,
): Promise<ModelInfo> {
  const bytes = await registry.stores.artifacts.get(record.key);
  if (!bytes) {
    throw new RegistryError('INTEGRITY', `${label}: MODEL.json is recorded but its bytes are missing`, {
      where: 'express-server',
    });
  }
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== record.sha256) {
    throw new RegistryError('INTEGRITY', `${label}: MODEL.json does not match its recorded sha256`, {
      where: 'express-server',
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw new RegistryError('INVALID_ARGUMENT', `${label}: MODEL.json is not JSON`, {
      where: 'express-server',
      cause: e,
    });
  }
  const manifest = parseManifest(json);
  return {
    task: manifest.task,
    target: manifest.target,
    classes: manifest.classes ?? null,
    trainer: manifest.trainer,
    metrics: manifest.metrics,
    signature: signatureOf(manifest),
  };
}
