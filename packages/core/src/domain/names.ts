import { z } from 'zod';
import { parseInput } from './parse.js';

/** Names of models, experiments, datasets, aliases and tag keys: 1–128 of `[A-Za-z0-9._-]`, not `.` or `..`. */
export const nameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(128, 'must be at most 128 characters')
  .regex(/^[A-Za-z0-9._-]+$/, 'may contain only letters, digits, ".", "_" and "-"')
  .refine((s) => s !== '.' && s !== '..', 'must not be "." or ".."');

export type Name = z.infer<typeof nameSchema>;

/** A version number: an integer from 1. */
export const versionNumberSchema = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER);

/**
 * Parses `value` with `schema`, or throws `INVALID_ARGUMENT` naming `what` and the first issue.
 * Core validates every input this way before a store is called.
 */
export function parseArg<S extends z.ZodType>(
  schema: S,
  value: unknown,
  what: string,
  where?: string,
): z.output<S> {
  return parseInput(schema, value, { what, where, value });
}

/** Aliases look like names but may not be `latest` or a version (`3`, `v3`), which URIs already mean. */
export const aliasSchema = nameSchema.refine(
  (s) => s.toLowerCase() !== 'latest' && !/^v?\d+$/i.test(s),
  'must not be "latest" or look like a version number',
);
