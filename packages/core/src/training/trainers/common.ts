import { RegistryError, abortedError, isRegistryError } from '../../errors.js';

/** Row-major Float64Array -> the number[][] the ml-* libraries take. */
export function toRows(x: Float64Array, nRows: number, nFeatures: number): number[][] {
  const rows = new Array<number[]>(nRows);
  for (let i = 0; i < nRows; i++) rows[i] = Array.from(x.subarray(i * nFeatures, (i + 1) * nFeatures));
  return rows;
}

/** Runs a library call; its throws become `INVALID_ARGUMENT` saying what failed (`ABORTED` once the signal fired). */
export function callLibrary<T>(what: string, signal: AbortSignal | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (isRegistryError(e)) throw e;
    if (signal?.aborted) throw abortedError(signal, 'train');
    const message = e instanceof Error ? e.message : String(e);
    throw new RegistryError('INVALID_ARGUMENT', `${what} failed: ${message}`, { where: 'train', cause: e });
  }
}

/** Lets timers and abort events run between chunks of synchronous work. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Copies only the defined entries (the ml-* libraries treat an explicit `undefined` as a value). */
export function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
