import { z } from 'zod';

/**
 * Helpers for trainers whose params depend on an `engine` param: each engine has its own strict
 * params object, and the trainer's schema is their discriminated union on `engine`.
 */

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Fills in `engine` when the params do not name one (absent or `undefined`). */
export const withDefaultEngine =
  (engine: string) =>
  (params: unknown): unknown =>
    isRecord(params) && params.engine === undefined ? { ...params, engine } : params;

/**
 * A strict params object for one engine. A key it does not know is rejected with a message naming the
 * key and, when it is a param of another engine of the same trainer, that engine.
 */
export function engineParamsObject<S extends z.ZodRawShape>(
  trainer: string,
  engine: string,
  shape: S,
  others: () => Record<string, z.ZodRawShape>,
): z.ZodObject<S, z.core.$strict> {
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code !== 'unrecognized_keys') return undefined;
      const messages = issue.keys.map((key) => {
        const owners = Object.entries(others())
          .filter(([, s]) => Object.hasOwn(s, key))
          .map(([name]) => `"${name}"`);
        return owners.length
          ? `param "${key}" does not apply to engine "${engine}" (it is a param of engine ${owners.join(', ')})`
          : `unknown param "${key}" for ${trainer} engine "${engine}" (known: ${Object.keys(shape).join(', ')})`;
      });
      return messages.join('; ');
    },
  });
}
