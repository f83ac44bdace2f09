import type { z } from 'zod';
import { RegistryError } from '../errors.js';

/** A value shortened for an error message: strings quoted (40 characters at most), objects by type. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value == null) return String(value);
  return typeof value;
}

/** What a validation failure is about, for {@link invalidInput} and {@link parseInput}. */
export interface InputContext {
  /**
   * `INVALID_ARGUMENT` (default) for an argument of a call; `INVALID_CONFIG` for options given to
   * a factory, to `ModelRegistry.open` or through the environment.
   */
  code?: 'INVALID_ARGUMENT' | 'INVALID_CONFIG';
  /** What was parsed, as the message names it: `model name`, `option`, `MODEL.json`. */
  what: string;
  /** Where: the component or call, shown as `[where]`. */
  where?: string | undefined;
  /** For `INVALID_ARGUMENT`: show the value (shortened) after `what`. */
  value?: unknown;
}

/**
 * The one translation of a zod failure into a {@link RegistryError}: the first issue, where it is
 * (`details.path`, the dotted path; an unknown key is named as the path) and what is wrong.
 *
 * - `INVALID_ARGUMENT`: `<what> [<value>] is invalid[ at <path>]: <issue>`
 * - `INVALID_CONFIG`: `invalid <what> "<path>": <issue>` (`invalid <what>s: <issue>` at the root),
 *   with `details.option` set to the path.
 *
 * The zod error is the `cause`.
 */
export function invalidInput(error: z.ZodError, context: InputContext): RegistryError {
  const { code = 'INVALID_ARGUMENT', what, where } = context;
  const issue = error.issues[0];
  const parts = (issue?.path ?? []).map(String);
  const text = issue?.message ?? 'is invalid';
  if (issue?.code === 'unrecognized_keys') parts.push(issue.keys.join(', '));
  const path = parts.length > 0 ? parts.join('.') : null;
  if (code === 'INVALID_CONFIG') {
    const message = path === null ? `invalid ${what}s: ${text}` : `invalid ${what} "${path}": ${text}`;
    return new RegistryError(code, message, { where, cause: error, details: { path, option: path } });
  }
  const shown = 'value' in context ? ` ${describeValue(context.value)}` : '';
  const at = path === null ? '' : ` at ${path}`;
  return new RegistryError(code, `${what}${shown} is invalid${at}: ${text}`, {
    where,
    cause: error,
    details: { path },
  });
}

/** Parses `value` with `schema`, or throws {@link invalidInput}. Every validation in modelreg goes through this. */
export function parseInput<S extends z.ZodType>(
  schema: S,
  value: unknown,
  context: InputContext,
): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw invalidInput(result.error, context);
}
