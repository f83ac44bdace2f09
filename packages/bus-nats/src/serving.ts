import type { LiveModel, ModelRegistry, ModelVersion } from '@modelreg/core';
import { isRegistryError } from '@modelreg/core';

type Rows = Parameters<LiveModel['predict']>[0];

/**
 * True when `error` means that no version serves the URI now (e.g. nothing is in the production
 * stage yet): predicting again later may succeed. A version that resolves but whose files fail to
 * load is a real failure, not "nothing serves".
 */
export async function nothingServes(registry: ModelRegistry, uri: string, error: unknown): Promise<boolean> {
  if (!isRegistryError(error, 'NOT_FOUND')) return false;
  try {
    await registry.resolve(uri);
    return false;
  } catch (e) {
    return isRegistryError(e, 'NOT_FOUND');
  }
}

export interface PredictWhenServingOptions {
  /** How long to wait between tries while nothing serves. */
  retryMs: number;
  /** Stops waiting: the call rejects with the last NOT_FOUND. */
  signal?: AbortSignal;
  /** Called before each wait (once per try), e.g. to keep a message's lease or to log. */
  onWait?: (attempt: number) => void;
}

/**
 * Predicts with the live model (or runs `predict`, which predicts through it); while no version
 * serves its URI it waits (trying again every `retryMs`) instead of failing. Other errors reject.
 */
export async function predictWhenServing<T = { predictions: unknown[]; version: ModelVersion | null }>(
  registry: ModelRegistry,
  live: LiveModel,
  rows: Rows,
  options: PredictWhenServingOptions & { predict?: () => Promise<T> },
): Promise<T> {
  const predict = options.predict ?? (() => live.predictWithVersion(rows) as Promise<T>);
  for (let attempt = 1; ; attempt++) {
    try {
      return await predict();
    } catch (e) {
      if (options.signal?.aborted || !(await nothingServes(registry, live.uri, e))) throw e;
      options.onWait?.(attempt);
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, options.retryMs);
        options.signal?.addEventListener('abort', done, { once: true });
      });
      if (options.signal?.aborted) throw e;
    }
  }
}
