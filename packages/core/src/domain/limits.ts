import type { z } from 'zod';
import { RegistryError } from '../errors.js';
import { tagsSchema } from './types.js';

/**
 * Per-call limits, MLflow's batch limits (`log-batch`): a call above one of them is refused with
 * `INVALID_ARGUMENT` before anything is written, so one caller cannot hold a store's write lock for
 * seconds. Log more in several calls.
 */
export const callLimits = {
  /** Metrics per `logMetrics` call. */
  metricsPerCall: 1000,
  /** Params per `logParams` call. */
  paramsPerCall: 100,
  /** Tags per call (`setTags`, `startRun({ tags })`, `train({ tags })`, model and version tags). */
  tagsPerCall: 100,
  /** Characters of one param value. */
  paramValueLength: 6000,
  /** Characters of one tag value. */
  tagValueLength: 5000,
} as const;

/**
 * Throws `INVALID_ARGUMENT` when `value` is an object with more than `max` own keys. Runs before a
 * schema parses the object, so an oversized call is refused without walking all of it.
 */
export function assertMaxEntries(value: unknown, max: number, what: string, where: string): void {
  if (typeof value !== 'object' || value === null) return;
  let count = 0;
  for (const key in value) {
    if (Object.hasOwn(value, key) && ++count > max) {
      throw new RegistryError(
        'INVALID_ARGUMENT',
        `${what} holds more than ${max} entries; at most ${max} are accepted per call (log the rest in further calls)`,
        { where, details: { limit: max } },
      );
    }
  }
}

/** A record schema refusing more than `max` keys (for records inside option objects). */
export function maxEntries<S extends z.ZodType<Record<string, unknown>>>(
  schema: S,
  max: number,
  what: string,
): S {
  return schema.refine(
    (v) => Object.keys(v).length <= max,
    `${what} may hold at most ${max} entries per call`,
  ) as unknown as S;
}

/** Tags given to one call: names to strings, at most {@link callLimits}`.tagsPerCall` of them. */
export const tagsArgSchema = maxEntries(tagsSchema, callLimits.tagsPerCall, 'tags');
