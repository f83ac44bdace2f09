import { mkdir, mkdtemp, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { isRegistryError } from '@modelreg/core';
import type { ArtifactStore } from '@modelreg/core';
import { describeArtifactStoreConformance } from '@modelreg/core/testing';
import { createFsArtifactStore } from '../src/index.js';

/** Each store gets `<tmp>/artifacts` as its root; `<tmp>/outside` is for escape attempts. */
const bases = new WeakMap<ArtifactStore, string>();
const rootOf = (store: ArtifactStore): string => path.join(bases.get(store) as string, 'artifacts');

async function createStore(): Promise<ArtifactStore> {
  const base = await mkdtemp(path.join(tmpdir(), 'modelreg-fs-'));
  const store = createFsArtifactStore({ root: path.join(base, 'artifacts') });
  bases.set(store, base);
  return store;
}

/** Every file and folder under `dir`, relative, sorted. */
async function tree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map(String).sort();
}

async function expectCode(run: () => Promise<unknown>, code: string): Promise<void> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isRegistryError(error), `expected a RegistryError, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
}

async function* slowBody(parts: string[], delayMs: number): AsyncGenerator<Uint8Array> {
  for (const part of parts) {
    await sleep(delayMs);
    yield Buffer.from(part);
  }
}

describeArtifactStoreConformance({
  name: 'storage-fs',
  create: createStore,
  destroy: async (store) => {
    await rm(bases.get(store) as string, { recursive: true, force: true });
  },
  inspect: (store) => ({
    rawBytes: async (key) => {
      const bytes = await readFile(path.join(rootOf(store), ...key.split('/'))).catch(() => null);
      return bytes ? new Uint8Array(bytes) : null;
    },
  }),
  additionalTests: ({ create }) => {
    describe('storage-fs specifics', () => {
      it('a reader during a slow streamed put sees the whole old file or the whole new one, never a part', async () => {
        const store = await create();
        const oldText = 'old '.repeat(1000);
        const parts = Array.from({ length: 15 }, (_, i) => `part-${i};`.repeat(200));
        await store.put('slow/file', oldText);
        let finished = false;
        const writing = Promise.all([
          store.put('slow/file', slowBody(parts, 10)),
          store.put('slow/new', slowBody(parts, 10)),
        ]).finally(() => {
          finished = true;
        });
        const seen = new Set<string>();
        const seenNew = new Set<string>();
        while (!finished) {
          seen.add(Buffer.from((await store.get('slow/file')) as Uint8Array).toString());
          const fresh = await store.get('slow/new');
          seenNew.add(fresh ? Buffer.from(fresh).toString() : '<none>');
          await sleep(2);
        }
        await writing;
        const newText = parts.join('');
        for (const text of seen) expect([oldText, newText]).toContain(text);
        for (const text of seenNew) expect(['<none>', newText]).toContain(text);
        expect(seen.has(oldText)).toBe(true);
        expect(seenNew.has('<none>')).toBe(true);
        expect(Buffer.from((await store.get('slow/file')) as Uint8Array).toString()).toBe(newText);
      });

      it('a body stream that fails before put starts reading it is a rejection, not an uncaught error', async () => {
        const store = await create();
        const failing = new Readable({ read() {} });
        const pending = store.put('early/file', failing);
        failing.destroy(new Error('failed early')); // before put has created its folders and temp file
        await expect(pending).rejects.toThrow(/failed early/);
        expect(await store.head('early/file')).toBeNull();
      });

      it('a body stream that errors midway leaves neither the file nor a temp file', async () => {
        const store = await create();
        await store.put('keep/me', 'x');
        const failing = new Readable({ read() {} });
        failing.push(Buffer.alloc(300_000, 1));
        setTimeout(() => failing.destroy(new Error('network dropped')), 20);
        await expect(store.put('broken/deep/file', failing)).rejects.toThrow(/network dropped/);
        async function* iterableThatFails(): AsyncGenerator<Uint8Array> {
          yield Buffer.alloc(1000);
          throw new Error('generator failed');
        }
        await expect(store.put('keep/other', iterableThatFails())).rejects.toThrow(/generator failed/);
        expect(await tree(rootOf(store))).toEqual(['keep', path.join('keep', 'me')]);
      });

      it('folders are created 0o750 and files 0o640, never world-writable', async () => {
        const store = await create();
        await store.put('a/b/c.txt', 'x');
        const root = rootOf(store);
        for (const dir of [root, path.join(root, 'a'), path.join(root, 'a', 'b')]) {
          const mode = (await stat(dir)).mode & 0o777;
          expect(mode & 0o007, `mode of ${dir} is ${mode.toString(8)}`).toBe(0);
          expect(mode & 0o700).toBe(0o700);
        }
        const fileMode = (await stat(path.join(root, 'a', 'b', 'c.txt'))).mode & 0o777;
        expect(fileMode & 0o137, `file mode is ${fileMode.toString(8)}`).toBe(0);
        expect(fileMode & 0o600).toBe(0o600);
      });

      it('a symlinked folder pointing outside the root is never followed', async () => {
        const store = await create();
        const outside = path.join(bases.get(store) as string, 'outside');
        await mkdir(outside);
        await writeFile(path.join(outside, 'secret'), 'secret');
        await symlink(outside, path.join(rootOf(store), 'link'));
        await expectCode(() => store.put('link/x', 'pwned'), 'INVALID_ARGUMENT');
        await expectCode(() => store.put('link/deeper/x', 'pwned'), 'INVALID_ARGUMENT');
        await expectCode(() => store.get('link/secret'), 'INVALID_ARGUMENT');
        await expectCode(() => store.delete('link/secret'), 'INVALID_ARGUMENT');
        expect(await tree(outside)).toEqual(['secret']);
        expect(await store.list('')).toEqual([]);
        expect(await store.deletePrefix('link/')).toBe(0);
      });

      it('a symlinked file at the key is replaced by the put, not written through', async () => {
        const store = await create();
        const target = path.join(bases.get(store) as string, 'outside-file');
        await writeFile(target, 'original');
        await symlink(target, path.join(rootOf(store), 'file'));
        await store.put('file', 'replaced');
        expect(await readFile(target, 'utf8')).toBe('original');
        expect(Buffer.from((await store.get('file')) as Uint8Array).toString()).toBe('replaced');
      });

      it('temp files are never listed and their names are refused as keys', async () => {
        const store = await create();
        await store.put('a/real', 'x');
        await writeFile(path.join(rootOf(store), 'a', '.real.0123456789abcdef.tmp'), 'partial');
        expect((await store.list('')).map((i) => i.key)).toEqual(['a/real']);
        await expectCode(() => store.put('a/.real.0123456789abcdef.tmp', 'x'), 'INVALID_ARGUMENT');
      });

      it('listTemporary lists the temp files of killed writers, and deleteTemporary removes one with its emptied folders', async () => {
        const store = await create();
        await store.put('a/real', 'x');
        await mkdir(path.join(rootOf(store), 'b', 'c'), { recursive: true });
        await writeFile(path.join(rootOf(store), 'a', '.real.0123456789abcdef.tmp'), 'partial');
        await writeFile(path.join(rootOf(store), 'b', 'c', '.big.fedcba9876543210.tmp'), 'partial');
        const temps = await store.listTemporary!();
        expect(temps.map((t) => [t.key, t.size])).toEqual([
          ['a/.real.0123456789abcdef.tmp', 7],
          ['b/c/.big.fedcba9876543210.tmp', 7],
        ]);
        expect(await store.deleteTemporary!('b/c/.big.fedcba9876543210.tmp')).toBe(true);
        expect(await store.deleteTemporary!('b/c/.big.fedcba9876543210.tmp')).toBe(false);
        expect(await store.deleteTemporary!('a/.real.0123456789abcdef.tmp')).toBe(true);
        expect(await tree(rootOf(store))).toEqual(['a', path.join('a', 'real')]);
        expect(await store.listTemporary!()).toEqual([]);
      });

      it('deleteTemporary refuses a key that is not a temp file name, and leaves the object', async () => {
        const store = await create();
        await store.put('a/real', 'x');
        await expectCode(() => store.deleteTemporary!('a/real'), 'INVALID_ARGUMENT');
        await expectCode(() => store.deleteTemporary!('../.x.0123456789abcdef.tmp'), 'INVALID_ARGUMENT');
        expect((await store.list('')).map((i) => i.key)).toEqual(['a/real']);
      });

      it('deletePrefix and delete remove the folders they empty, but not the root', async () => {
        const store = await create();
        await store.put('gc/1/a/b', 'x');
        await store.put('gc/2/c', 'x');
        await store.put('other/d', 'x');
        expect(await store.deletePrefix('gc/')).toBe(2);
        expect(await tree(rootOf(store))).toEqual(['other', path.join('other', 'd')]);
        expect(await store.delete('other/d')).toBe(true);
        expect(await tree(rootOf(store))).toEqual([]);
      });

      it('a key below an existing file is a CONFLICT', async () => {
        const store = await create();
        await store.put('a/file', 'x');
        await expectCode(() => store.put('a/file/child', 'y'), 'CONFLICT');
        await expectCode(() => store.put('a', 'y'), 'CONFLICT');
        expect((await store.list('')).map((i) => i.key)).toEqual(['a/file']);
      });

      it('init of a root that is a file is INVALID_CONFIG', async () => {
        const base = await mkdtemp(path.join(tmpdir(), 'modelreg-fs-'));
        try {
          await writeFile(path.join(base, 'file'), 'x');
          const store = createFsArtifactStore({ root: path.join(base, 'file') });
          await expectCode(() => store.init(), 'INVALID_CONFIG');
        } finally {
          await rm(base, { recursive: true, force: true });
        }
      });
    });
  },
});

describe('fsArtifactStoreOptionsSchema', () => {
  const bad: Array<[string, unknown]> = [
    ['no options', undefined],
    ['no root', {}],
    ['an empty root', { root: '' }],
    ['a root that is not a string', { root: 42 }],
    ['a world-writable dirMode', { root: '/tmp/x', dirMode: 0o777 }],
    ['a world-writable fileMode', { root: '/tmp/x', fileMode: 0o666 }],
    ['a fileMode that is not a mode', { root: '/tmp/x', fileMode: 0o10000 }],
    ['a fractional dirMode', { root: '/tmp/x', dirMode: 1.5 }],
  ];

  it.each(bad)('%s is INVALID_CONFIG at construction', (_what, options) => {
    let error: unknown;
    try {
      createFsArtifactStore(options as never);
    } catch (e) {
      error = e;
    }
    expect(isRegistryError(error, 'INVALID_CONFIG')).toBe(true);
    expect(String((error as Error).message)).toContain('[storage-fs]');
  });

  it('accepts a root with custom modes and is named "storage-fs"', () => {
    const store = createFsArtifactStore({ root: './x', dirMode: 0o770, fileMode: 0o660 });
    expect(store.name).toBe('storage-fs');
  });
});
