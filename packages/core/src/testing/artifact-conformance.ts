import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isRegistryError } from '../errors.js';
import type { RegistryErrorCode } from '../errors.js';
import type { ArtifactStore } from '../stores/artifact-store.js';

/** A backdoor into what a store really holds, for checks that do not trust the store's own reads. */
export interface ArtifactInspector {
  /** The bytes stored under `key` as the backend holds them (file on disk, object in the bucket), or `null`. */
  rawBytes(key: string): Promise<Uint8Array | null>;
}

export interface ArtifactConformanceOptions {
  /** Shown in the `describe` title. */
  name: string;
  /** Builds a fresh, empty store; called once per test. The suite calls `init()` and `close()`. */
  create: () => Promise<ArtifactStore> | ArtifactStore;
  /** Removes what the store left behind (temp folder, bucket prefix); called after `close()`. */
  destroy?: (store: ArtifactStore) => Promise<void>;
  /** Enables checks of the raw stored bytes. */
  inspect?: (store: ArtifactStore) => ArtifactInspector;
  /**
   * Adapter-specific tests, declared inside the suite's `describe`. `ctx.create()` returns a fresh
   * initialized store that the suite closes and destroys after the test.
   */
  additionalTests?: (ctx: { create: () => Promise<ArtifactStore> }) => void;
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const utf8 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'utf8'));

async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of stream) parts.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(parts);
}

/** Compares bytes by length and hash so a mismatch in megabytes prints a short message. */
function expectBytes(actual: Uint8Array | null, expected: Uint8Array): void {
  expect(actual).not.toBeNull();
  const got = actual as Uint8Array;
  expect(got.byteLength).toBe(expected.byteLength);
  expect(sha256(got)).toBe(sha256(expected));
}

async function expectRegistryError(run: () => Promise<unknown>, code: RegistryErrorCode): Promise<void> {
  let error: unknown;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  expect(error, 'expected the call to throw').toBeDefined();
  expect(isRegistryError(error, code), `expected RegistryError ${code}, got ${String(error)}`).toBe(true);
}

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

async function* failingBody(): AsyncGenerator<Uint8Array> {
  yield utf8('partial ');
  yield utf8('content');
  throw new Error('body failed midway');
}

const ESCAPING_KEYS = [
  '../x',
  'a/../../x',
  '/etc/passwd',
  'a\\b',
  'a\u0000b',
  '%2e%2e/x',
  'a/%2E%2e/b',
  '',
  'a//b',
  './a',
  'a/',
  '..',
  'a/b/..',
  'C:/x',
  'a\nb',
  'a%2fb',
];

const ESCAPING_PREFIXES = ['../', '/etc', 'a\\b', 'a/../', '%2e%2e/', 'a//', './'];

/**
 * The behaviour every {@link ArtifactStore} must show. Run it from an adapter's test file:
 * `describeArtifactStoreConformance({ name: 'storage-fs', create: () => createFsArtifactStore({ root }) })`.
 */
export function describeArtifactStoreConformance(options: ArtifactConformanceOptions): void {
  describe(`ArtifactStore conformance: ${options.name}`, () => {
    const opened: ArtifactStore[] = [];
    let store: ArtifactStore;

    const open = async (): Promise<ArtifactStore> => {
      const created = await options.create();
      opened.push(created);
      await created.init();
      return created;
    };

    beforeEach(async () => {
      store = await open();
    });

    afterEach(async () => {
      for (const created of opened.splice(0)) {
        await created.close();
        await options.destroy?.(created);
      }
    });

    describe('put and get', () => {
      it('round-trips bytes', async () => {
        const bytes = utf8('hello bytes');
        await store.put('a/bytes.bin', bytes);
        expectBytes(await store.get('a/bytes.bin'), bytes);
      });

      it('get answers bytes of the caller: changing them leaves the stored object as it was', async () => {
        const bytes = utf8('owned by the caller');
        await store.put('a/owned.bin', bytes);
        const first = (await store.get('a/owned.bin'))!;
        first.fill(0);
        const second = (await store.get('a/owned.bin'))!;
        expectBytes(second, bytes);
        second.fill(1);
        expectBytes(await store.get('a/owned.bin'), bytes);
        expectBytes(first, new Uint8Array(bytes.byteLength));
      });

      it('stores a string as its UTF-8 bytes', async () => {
        const text = 'héllo ✓ 模型';
        const result = await store.put('a/text.txt', text);
        expectBytes(await store.get('a/text.txt'), utf8(text));
        expect(result.size).toBe(Buffer.byteLength(text, 'utf8'));
      });

      it('stores a Node Readable body', async () => {
        const parts = [utf8('one,'), utf8('two,'), utf8('three')];
        const result = await store.put('a/readable.csv', Readable.from(parts.map((p) => Buffer.from(p))));
        const expected = utf8('one,two,three');
        expectBytes(await store.get('a/readable.csv'), expected);
        expect(result).toEqual({ size: expected.byteLength, sha256: sha256(expected) });
      });

      it('stores an async iterable body', async () => {
        const bytes = randomBytes(10_000);
        const result = await store.put('a/iterable.bin', chunked(bytes, 999));
        expectBytes(await store.get('a/iterable.bin'), bytes);
        expect(result).toEqual({ size: bytes.byteLength, sha256: sha256(bytes) });
      });

      it('returns the size and sha256 of the stored bytes for every body kind', async () => {
        const bytes = randomBytes(4096);
        const bodies = [bytes, Readable.from([bytes]), chunked(bytes, 100)];
        for (const [i, body] of bodies.entries()) {
          expect(await store.put(`sha/${i}`, body)).toEqual({ size: 4096, sha256: sha256(bytes) });
        }
        expect(await store.put('sha/text', 'abc')).toEqual({
          size: 3,
          sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
        });
      });

      it('stores an empty body', async () => {
        const result = await store.put('empty/file', new Uint8Array(0));
        expect(result).toEqual({
          size: 0,
          sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        });
        expectBytes(await store.get('empty/file'), new Uint8Array(0));
        expect((await store.head('empty/file'))?.size).toBe(0);
      });

      it('keeps every one of the 256 byte values intact', async () => {
        const bytes = new Uint8Array(512).map((_, i) => i % 256);
        await store.put('binary/all-bytes', bytes);
        const got = await store.get('binary/all-bytes');
        expect(Buffer.from(got as Uint8Array).equals(Buffer.from(bytes))).toBe(true);
      });

      it('round-trips a 5 MB streamed body through get and getStream', async () => {
        const bytes = randomBytes(5 * 1024 * 1024);
        const result = await store.put('big/five-mb.bin', chunked(bytes, 64 * 1024));
        expect(result).toEqual({ size: bytes.byteLength, sha256: sha256(bytes) });
        expectBytes(await store.get('big/five-mb.bin'), bytes);
        const stream = await store.getStream('big/five-mb.bin');
        expectBytes(await collect(stream as Readable), bytes);
      });

      it('overwriting a key replaces the whole object', async () => {
        await store.put('over/write', 'a much longer first version');
        const result = await store.put('over/write', 'short');
        expectBytes(await store.get('over/write'), utf8('short'));
        expect(result.size).toBe(5);
        expect((await store.head('over/write'))?.size).toBe(5);
        expect((await store.list('over/')).map((i) => i.key)).toEqual(['over/write']);
      });

      it('keys with spaces, unicode and dot-files round-trip', async () => {
        const keys = ['datasets/my data/ünïcode-ñ.csv', 'x/.hidden', 'x/a.b.c', 'x/-_~!'];
        for (const key of keys) await store.put(key, key);
        for (const key of keys) expectBytes(await store.get(key), utf8(key));
        expect((await store.list('')).map((i) => i.key)).toEqual([...keys].sort());
      });

      it('a body that fails midway rejects put and keeps the previous object', async () => {
        await store.put('fail/old', 'old content');
        await expect(store.put('fail/old', failingBody())).rejects.toThrow();
        await expect(store.put('fail/new', failingBody())).rejects.toThrow();
        expectBytes(await store.get('fail/old'), utf8('old content'));
        expect(await store.get('fail/new')).toBeNull();
        expect((await store.list('')).map((i) => i.key)).toEqual(['fail/old']);
      });

      it('a body that is not bytes is refused with INVALID_ARGUMENT', async () => {
        await expectRegistryError(() => store.put('bad/body', 42 as unknown as string), 'INVALID_ARGUMENT');
        expect(await store.list('')).toEqual([]);
      });

      it('changing the put buffer or a returned buffer does not change the stored object', async () => {
        const bytes = utf8('immutable');
        await store.put('copy/me', bytes);
        bytes.fill(0);
        const got = (await store.get('copy/me')) as Uint8Array;
        expectBytes(got, utf8('immutable'));
        got.fill(0);
        expectBytes(await store.get('copy/me'), utf8('immutable'));
      });

      it('concurrent puts of different keys all land', async () => {
        const keys = Array.from({ length: 40 }, (_, i) => `concurrent/${i % 4}/key-${i}`);
        const results = await Promise.all(keys.map((key) => store.put(key, key)));
        expect(results.map((r) => r.sha256)).toEqual(keys.map((key) => sha256(utf8(key))));
        for (const key of keys) expectBytes(await store.get(key), utf8(key));
        expect((await store.list('concurrent/')).length).toBe(40);
      });

      (options.inspect !== undefined ? it : () => undefined)(
        'the backend holds exactly the bytes that were put',
        async () => {
          const inspector = (options.inspect as (s: ArtifactStore) => ArtifactInspector)(store);
          const bytes = randomBytes(3000);
          await store.put('raw/check.bin', chunked(bytes, 700));
          expectBytes(await inspector.rawBytes('raw/check.bin'), bytes);
          expect(await inspector.rawBytes('raw/missing.bin')).toBeNull();
        },
      );
    });

    describe('missing keys', () => {
      it('get, getStream and head of a missing key return null', async () => {
        await store.put('present/file', 'x');
        for (const key of ['missing', 'present/missing', 'present/file/deeper', 'nothing/here/at/all']) {
          expect(await store.get(key)).toBeNull();
          expect(await store.getStream(key)).toBeNull();
          expect(await store.head(key)).toBeNull();
        }
      });
    });

    describe('head and getStream', () => {
      it('head reports the key, size and lastModified in milliseconds', async () => {
        const before = Date.now();
        await store.put('head/file', randomBytes(1234));
        const info = await store.head('head/file');
        expect(info?.key).toBe('head/file');
        expect(info?.size).toBe(1234);
        expect(Number.isInteger(info?.lastModified)).toBe(true);
        // Generous window: some backends keep whole seconds and their clock may differ a little.
        expect(Math.abs((info?.lastModified ?? 0) - before)).toBeLessThan(5 * 60_000);
      });

      it('getStream streams the whole object', async () => {
        const bytes = randomBytes(100_000);
        await store.put('stream/file', bytes);
        const stream = await store.getStream('stream/file');
        expect(stream).toBeInstanceOf(Readable);
        expectBytes(await collect(stream as Readable), bytes);
      });
    });

    describe('list', () => {
      const keys = ['runs/2/b', 'runs/1/a', 'datasets/x.csv', 'runs/1/b/c', 'running', 'run/x', 'runs/10/z'];

      it('returns the keys under a prefix, sorted', async () => {
        for (const key of keys) await store.put(key, key);
        expect((await store.list('runs/')).map((i) => i.key)).toEqual([
          'runs/1/a',
          'runs/1/b/c',
          'runs/10/z',
          'runs/2/b',
        ]);
        expect((await store.list('runs/1/')).map((i) => i.key)).toEqual(['runs/1/a', 'runs/1/b/c']);
      });

      it('"" lists everything, sorted', async () => {
        for (const key of keys) await store.put(key, key);
        expect((await store.list('')).map((i) => i.key)).toEqual([...keys].sort());
      });

      it('the prefix is a plain string prefix, not a folder', async () => {
        for (const key of keys) await store.put(key, key);
        expect((await store.list('run')).map((i) => i.key)).toEqual([
          'run/x',
          'running',
          'runs/1/a',
          'runs/1/b/c',
          'runs/10/z',
          'runs/2/b',
        ]);
        expect((await store.list('runs/1')).map((i) => i.key)).toEqual([
          'runs/1/a',
          'runs/1/b/c',
          'runs/10/z',
        ]);
        expect((await store.list('datasets/x.c')).map((i) => i.key)).toEqual(['datasets/x.csv']);
      });

      it('a prefix with no objects lists nothing', async () => {
        expect(await store.list('')).toEqual([]);
        await store.put('a/b', 'x');
        expect(await store.list('b')).toEqual([]);
        expect(await store.list('a/b/')).toEqual([]);
        expect(await store.list('a/bc')).toEqual([]);
      });

      it('lists 150 keys completely with their sizes and times', async () => {
        const many = Array.from({ length: 150 }, (_, i) => `many/${String(i).padStart(3, '0')}.txt`);
        for (let i = 0; i < many.length; i += 25) {
          await Promise.all(many.slice(i, i + 25).map((key) => store.put(key, key)));
        }
        const listed = await store.list('many/');
        expect(listed.map((i) => i.key)).toEqual(many);
        for (const entry of listed) {
          expect(entry.size).toBe(Buffer.byteLength(entry.key));
          expect(Number.isInteger(entry.lastModified)).toBe(true);
          expect(entry.lastModified).toBeGreaterThan(0);
        }
      });
    });

    describe('delete', () => {
      it('delete returns true when the object existed, then false', async () => {
        await store.put('del/one', 'x');
        expect(await store.delete('del/one')).toBe(true);
        expect(await store.delete('del/one')).toBe(false);
        expect(await store.get('del/one')).toBeNull();
        expect(await store.delete('del/never')).toBe(false);
      });

      it('delete removes only its key', async () => {
        for (const key of ['del/a', 'del/ab', 'del/a.txt', 'other/a']) await store.put(key, key);
        await store.delete('del/a');
        expect((await store.list('')).map((i) => i.key)).toEqual(['del/a.txt', 'del/ab', 'other/a']);
      });

      it('deletePrefix removes every object under the prefix and returns how many', async () => {
        for (const key of ['gc/1/a', 'gc/1/b/c', 'gc/2/d', 'gcx/e', 'keep/f']) await store.put(key, key);
        expect(await store.deletePrefix('gc/1/')).toBe(2);
        expect((await store.list('')).map((i) => i.key)).toEqual(['gc/2/d', 'gcx/e', 'keep/f']);
        expect(await store.deletePrefix('gc')).toBe(2);
        expect((await store.list('')).map((i) => i.key)).toEqual(['keep/f']);
      });

      it('deletePrefix of a prefix with no objects returns 0', async () => {
        await store.put('keep/f', 'x');
        expect(await store.deletePrefix('nothing/')).toBe(0);
        expect(await store.deletePrefix('keep/f/')).toBe(0);
        expect((await store.list('')).length).toBe(1);
      });

      it('a key can be written again after its prefix was deleted', async () => {
        await store.put('again/x/y', 'one');
        expect(await store.deletePrefix('again/')).toBe(1);
        await store.put('again/x/y', 'two');
        expectBytes(await store.get('again/x/y'), utf8('two'));
      });

      it('deletePrefix("") is refused with INVALID_ARGUMENT and deletes nothing', async () => {
        await store.put('keep/me', 'x');
        await expectRegistryError(() => store.deletePrefix(''), 'INVALID_ARGUMENT');
        expect((await store.list('')).length).toBe(1);
      });
    });

    describe('keys that could escape are refused', () => {
      it.each(ESCAPING_KEYS.map((key) => [JSON.stringify(key), key]))(
        'key %s is INVALID_ARGUMENT for every method',
        async (_shown, key) => {
          await expectRegistryError(() => store.put(key, 'x'), 'INVALID_ARGUMENT');
          await expectRegistryError(() => store.get(key), 'INVALID_ARGUMENT');
          await expectRegistryError(() => store.getStream(key), 'INVALID_ARGUMENT');
          await expectRegistryError(() => store.head(key), 'INVALID_ARGUMENT');
          await expectRegistryError(() => store.delete(key), 'INVALID_ARGUMENT');
        },
      );

      it('prefixes that could escape are INVALID_ARGUMENT for list and deletePrefix', async () => {
        for (const prefix of ESCAPING_PREFIXES) {
          await expectRegistryError(() => store.list(prefix), 'INVALID_ARGUMENT');
          await expectRegistryError(() => store.deletePrefix(prefix), 'INVALID_ARGUMENT');
        }
      });

      it('a refused put leaves nothing stored', async () => {
        for (const key of ESCAPING_KEYS) {
          await store.put(key, 'x').catch(() => undefined);
          await store.put(key, Readable.from([Buffer.from('x')])).catch(() => undefined);
        }
        expect(await store.list('')).toEqual([]);
        expect(await store.get('x')).toBeNull();
        expect(await store.get('etc/passwd')).toBeNull();
      });
    });

    options.additionalTests?.({ create: open });
  });
}
