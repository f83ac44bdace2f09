import { describe, expect, it } from 'vitest';
import { isRegistryError, storeRules } from '../../src/index.js';

const file = (path: string, sha256: string) => ({ path, key: `runs/r/artifacts/${path}`, sha256, size: 3 });

function thrown(fn: () => unknown): Error & { code?: string; details?: Record<string, unknown> } {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('store rules shared by the memory store, meta-sqlite and meta-postgres', () => {
  it('alias compare-and-set passes without ifVersion or when it matches, else CONFLICT in one wording', () => {
    const change = { name: 'iris', alias: 'champion' };
    expect(() => storeRules.checkAliasCas('s', change, 3)).not.toThrow();
    expect(() => storeRules.checkAliasCas('s', { ...change, ifVersion: 3 }, 3)).not.toThrow();
    expect(() => storeRules.checkAliasCas('s', { ...change, ifVersion: null }, null)).not.toThrow();
    const lost = thrown(() => storeRules.checkAliasCas('meta-x', { ...change, ifVersion: 2 }, 3));
    expect(isRegistryError(lost, 'CONFLICT')).toBe(true);
    expect(lost.message).toBe(
      '[modelreg] [meta-x] alias "champion" of model "iris" points at version 3, not version 2',
    );
    expect(lost.details).toEqual({ alias: 'champion', current: 3, expected: 2 });
    expect(thrown(() => storeRules.checkAliasCas('s', { ...change, ifVersion: null }, 1)).message).toContain(
      'points at version 1, not nothing',
    );
    expect(thrown(() => storeRules.checkAliasCas('s', { ...change, ifVersion: 1 }, null)).message).toContain(
      'points at nothing, not version 1',
    );
  });

  it('archiveExisting archives only into a stage other than the target', () => {
    expect(storeRules.archiveStageFor('production', 'archived')).toBe('archived');
    expect(storeRules.archiveStageFor('archived', 'archived')).toBeUndefined();
    expect(storeRules.archiveStageFor('production', undefined)).toBeUndefined();
  });

  it('tag merge sets and removes keys, returns a new object and keeps prototype names as plain keys', () => {
    const tags = { a: '1', b: '2' };
    const merged = storeRules.mergeTags(tags, { b: null, c: '3', ['__proto__']: 'p' });
    expect(merged).toEqual(
      Object.fromEntries([
        ['a', '1'],
        ['c', '3'],
        ['__proto__', 'p'],
      ]),
    );
    expect(Object.getPrototypeOf(merged)).toBe(Object.prototype);
    expect(tags).toEqual({ a: '1', b: '2' });
    expect(storeRules.splitTagChange({ b: null, c: '3' })).toEqual({ set: { c: '3' }, removed: ['b'] });
    expect(storeRules.mergeTags(tags, undefined)).toEqual(tags);
  });

  it('text order is by code unit, as SQL binary collation', () => {
    expect(['b', 'B', 'a', '_', 'A'].sort(storeRules.compareText)).toEqual(['A', 'B', '_', 'a', 'b']);
    expect(storeRules.compareText('x', 'x')).toBe(0);
  });

  it('backoff grows exponentially with jitter between half and all of its ceiling, capped', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      const ceiling = Math.min(500, 10 * 2 ** attempt);
      for (let i = 0; i < 20; i++) {
        const wait = storeRules.backoffMs(attempt);
        expect(wait).toBeGreaterThanOrEqual(ceiling / 2);
        expect(wait).toBeLessThanOrEqual(ceiling);
      }
    }
  });

  it('params are write-once: the same value is a no-op, another value CONFLICT', () => {
    const stored: Record<string, string> = { lr: '0.1' };
    const current = (key: string) => stored[key];
    expect(storeRules.newParams('s', 'r1', { lr: '0.1', depth: '3' }, current)).toEqual([['depth', '3']]);
    const clash = thrown(() => storeRules.newParams('meta-x', 'r1', { lr: '0.2' }, current));
    expect(isRegistryError(clash, 'CONFLICT')).toBe(true);
    expect(clash.message).toBe(
      '[modelreg] [meta-x] param "lr" of run "r1" is already "0.1", cannot set "0.2"; params are write-once',
    );
  });

  it('artifact records are write-once per path, also within one batch', () => {
    const stored = new Map([['a.bin', 'aa']]);
    const added = storeRules.newArtifacts(
      's',
      'r1',
      [file('a.bin', 'aa'), file('b.bin', 'bb'), file('b.bin', 'bb')],
      (p) => stored.get(p),
    );
    expect(added).toEqual([file('b.bin', 'bb')]);
    const clash = thrown(() =>
      storeRules.newArtifacts('s', 'r1', [file('a.bin', 'zz')], (p) => stored.get(p)),
    );
    expect(isRegistryError(clash, 'ALREADY_EXISTS')).toBe(true);
    expect(clash.message).toContain('run "r1" already has artifact "a.bin" with another sha256');
    const inBatch = thrown(() =>
      storeRules.newArtifacts('s', 'r1', [file('c.bin', 'cc'), file('c.bin', 'dd')], () => undefined),
    );
    expect(isRegistryError(inBatch, 'ALREADY_EXISTS')).toBe(true);
  });

  it('not-found and exists errors have one wording and carry the store name', () => {
    const errors = storeRules.storeErrors('meta-x');
    expect(errors.versionNotFound('iris', 7).message).toBe(
      '[modelreg] [meta-x] model "iris" has no version 7',
    );
    expect(isRegistryError(errors.modelExists('iris'), 'ALREADY_EXISTS')).toBe(true);
    expect(errors.datasetNotFound('d').message).toContain('dataset "d" does not exist');
    expect(errors.datasetNotFound('d', 2).message).toContain('dataset "d" has no version 2');
  });
});
