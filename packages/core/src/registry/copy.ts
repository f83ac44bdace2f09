import type { CopyModelVersionOptions, CopyModelVersionResult } from './copy-version.js';
import type { ModelRegistry } from './model-registry.js';

export { copyModelVersionOptionsSchema } from './copy-version.js';
export type { CopyModelVersionOptions, CopyModelVersionResult } from './copy-version.js';

/**
 * Copies one version from `source` into `target`: `target.copyVersionFrom(source, options)` (see there
 * for what is copied and what a failure leaves behind).
 */
export function copyModelVersion(
  source: ModelRegistry,
  target: ModelRegistry,
  options: CopyModelVersionOptions,
): Promise<CopyModelVersionResult> {
  return target.copyVersionFrom(source, options);
}
