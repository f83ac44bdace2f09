import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { invalidInput, isRegistryError, parseInput, parseStoreOptions } from '../../src/index.js';

const schema = z.strictObject({ name: z.string().min(1, 'must not be empty'), size: z.number().optional() });

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

describe('one translation of validation failures into RegistryError', () => {
  it('returns the parsed value when it is valid', () => {
    expect(parseInput(schema, { name: 'x' }, { what: 'thing' })).toEqual({ name: 'x' });
  });

  it('an argument is INVALID_ARGUMENT naming what, the value, the path and the issue, with the zod error as cause', () => {
    const error = thrown(() =>
      parseInput(schema, { name: '' }, { what: 'thing', where: 'here', value: 'v' }),
    );
    expect(isRegistryError(error, 'INVALID_ARGUMENT')).toBe(true);
    const e = error as Error & { details?: Record<string, unknown> };
    expect(e.message).toBe('[modelreg] [here] thing "v" is invalid at name: must not be empty');
    expect(e.details).toEqual({ path: 'name' });
    expect(e.cause).toBeInstanceOf(z.ZodError);
  });

  it('without a value the message names only what; at the root it has no path', () => {
    const error = thrown(() => parseInput(schema, 3, { what: 'thing' })) as Error;
    expect(error.message).toMatch(/^\[modelreg\] thing is invalid: /);
  });

  it('an unknown key is named as the path', () => {
    const error = thrown(() => parseInput(schema, { name: 'x', colour: 1 }, { what: 'thing' })) as Error & {
      details?: Record<string, unknown>;
    };
    expect(error.message).toContain('thing is invalid at colour: ');
    expect(error.details).toEqual({ path: 'colour' });
  });

  it('options are INVALID_CONFIG "invalid option <path>" with details.option', () => {
    const error = thrown(() =>
      parseInput(schema, { name: 1 }, { code: 'INVALID_CONFIG', what: 'option', where: 'store' }),
    ) as Error & { details?: Record<string, unknown> };
    expect(isRegistryError(error, 'INVALID_CONFIG')).toBe(true);
    expect(error.message).toMatch(/^\[modelreg\] \[store\] invalid option "name": /);
    expect(error.details).toEqual({ path: 'name', option: 'name' });
    const root = thrown(() => parseStoreOptions(schema, undefined, 'store')) as Error;
    expect(root.message).toMatch(/^\[modelreg\] \[store\] invalid options: /);
  });

  it('invalidInput builds the same error from a ZodError the caller already has', () => {
    const result = schema.safeParse({ name: '' });
    expect(result.success).toBe(false);
    const error = invalidInput(result.error!, { what: 'thing' });
    expect(error.message).toBe('[modelreg] thing is invalid at name: must not be empty');
  });
});
