import type { z } from 'zod';
import { RegistryError } from './errors.js';

/**
 * Parses a store factory's options once, at construction: a bad option is `INVALID_CONFIG` naming
 * it (`invalid option "root": must not be empty`) or the unknown keys, with the zod error as cause
 * and `details.option`. Every adapter package parses its options with this.
 */
export function parseStoreOptions<S extends z.ZodType>(
  schema: S,
  options: unknown,
  where: string,
): z.output<S> {
  const result = schema.safeParse(options);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const option = issue && issue.path.length > 0 ? issue.path.join('.') : undefined;
  const unknownKeys = issue?.code === 'unrecognized_keys' ? issue.keys.join(', ') : undefined;
  const message = unknownKeys
    ? `invalid options: unknown option(s) ${unknownKeys}`
    : `invalid option${option ? ` "${option}"` : 's'}: ${issue?.message ?? 'invalid'}`;
  throw new RegistryError('INVALID_CONFIG', message, {
    where,
    cause: result.error,
    details: { option: option ?? unknownKeys ?? null },
  });
}
