import type { z } from 'zod';
import { parseInput } from './domain/parse.js';

/**
 * Parses a store factory's options once, at construction: a bad option is `INVALID_CONFIG` naming
 * it (`invalid option "root": must not be empty`, `invalid option "fileName": Unrecognized key: "fileName"`), with
 * the zod error as cause and `details.option`. Every adapter package parses its options with this.
 */
export function parseStoreOptions<S extends z.ZodType>(
  schema: S,
  options: unknown,
  where: string,
): z.output<S> {
  return parseInput(schema, options, { code: 'INVALID_CONFIG', what: 'option', where });
}

/**
 * True when `value` is an object whose `names` are all functions: the check a factory's option
 * schema makes on a client the caller built (`z.custom(v => hasMethods(v, ['connect', 'query']))`).
 */
export function hasMethods<K extends string>(
  value: unknown,
  names: readonly K[],
): value is Record<K, (...args: never[]) => unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Partial<Record<K, unknown>>;
  return names.every((name) => typeof record[name] === 'function');
}
