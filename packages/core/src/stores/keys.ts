import { RegistryError } from '../errors.js';

/**
 * Throws `INVALID_ARGUMENT` unless `key` is a safe relative artifact key: non-empty `/`-separated
 * segments, none `.` or `..`, no leading `/`, no backslash, no control character (NUL included),
 * no `%` escape of a dot, slash or backslash, at most 1024 characters.
 */
export function assertArtifactKey(key: unknown, where = 'artifacts'): asserts key is string {
  const fail = (why: string): never => {
    throw new RegistryError('INVALID_ARGUMENT', `artifact key ${JSON.stringify(key)} is refused: ${why}`, {
      where,
    });
  };
  if (typeof key !== 'string') return fail('it must be a string');
  if (key.length === 0) return fail('it is empty');
  if (key.length > 1024) return fail('it is longer than 1024 characters');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(key)) return fail('it contains a control character');
  if (key.includes('\\')) return fail('it contains a backslash');
  if (key.startsWith('/')) return fail('it is absolute');
  if (/^[A-Za-z]:/.test(key)) return fail('it starts with a drive letter');
  if (/%(2e|2f|5c)/i.test(key)) return fail('it contains a percent-encoded dot or slash');
  for (const segment of key.split('/')) {
    if (segment === '') return fail('it has an empty segment');
    if (segment === '.' || segment === '..') return fail(`it has a "${segment}" segment`);
  }
}

/** Like {@link assertArtifactKey} for list/delete prefixes: `''` is allowed, and a trailing `/` is. */
export function assertArtifactPrefix(prefix: unknown, where = 'artifacts'): asserts prefix is string {
  if (prefix === '') return;
  if (typeof prefix === 'string' && prefix.endsWith('/')) {
    assertArtifactKey(prefix.slice(0, -1), where);
    return;
  }
  assertArtifactKey(prefix, where);
}

/** Whether `key` passes {@link assertArtifactKey}: for listings that skip foreign objects instead of failing. */
export function isArtifactKey(key: string): boolean {
  try {
    assertArtifactKey(key);
    return true;
  } catch {
    return false;
  }
}
