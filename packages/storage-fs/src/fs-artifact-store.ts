import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { lstat, mkdir, open, readFile, readdir, realpath, rename, rmdir, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  RegistryError,
  assertArtifactKey,
  assertArtifactPrefix,
  compareArtifactKeys,
  hashChunks,
  isArtifactKey,
  isRegistryError,
  toAsyncChunks,
} from '@modelreg/core';
import type { ArtifactBody, ArtifactInfo, ArtifactStore, PutResult } from '@modelreg/core';
import { runBounded } from './bounded-queue.js';
import type { QueuedTask } from './bounded-queue.js';
import { parseFsArtifactStoreOptions } from './options.js';
import type { FsArtifactStoreOptions } from './options.js';

const NAME = 'storage-fs';
/** In-flight writes: `.<name>.<16 hex>.tmp` next to their target. Never listed; keys of this shape are refused. */
const TEMP_FILE = /^\..*\.[0-9a-f]{16}\.tmp$/;
const WRITE_BUFFER = 256 * 1024;
const DELETE_CONCURRENCY = 16;
const WALK_CONCURRENCY = 16;

const errno = (error: unknown): string | undefined => (error as NodeJS.ErrnoException | undefined)?.code;
/** Errors that mean "there is no file at this key". */
const isNotFoundError = (error: unknown): boolean =>
  ['ENOENT', 'ENOTDIR', 'EISDIR'].includes(errno(error) ?? '');
const ignore = (): void => undefined;

function storeFailure(operation: string, subject: string, error: unknown): RegistryError {
  if (isRegistryError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new RegistryError('STORE_FAILURE', `${operation} ${JSON.stringify(subject)} failed: ${message}`, {
    where: NAME,
    cause: error,
  });
}

function outsideRoot(key: string, why: string): RegistryError {
  return new RegistryError('INVALID_ARGUMENT', `artifact key ${JSON.stringify(key)} is refused: ${why}`, {
    where: NAME,
  });
}

async function writeAll(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.byteLength - offset);
    offset += bytesWritten;
  }
}

/** Makes a rename durable; best effort, since some platforms cannot fsync a folder. */
async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(ignore);
  await handle.close().catch(ignore);
}

/**
 * An {@link ArtifactStore} on a local folder. Each put streams into a temp file next to its target
 * (hashing as it goes), fsyncs it and renames it into place, so readers see the old file or the
 * whole new one. Symbolic links below the root are never followed.
 */
export function createFsArtifactStore(options: FsArtifactStoreOptions): ArtifactStore {
  const { root, fileMode, dirMode } = parseFsArtifactStoreOptions(options);
  const configuredRoot = path.resolve(root);
  let rootPromise: Promise<string> | undefined;

  /** The real path of the root, created on first use; every path below is built from it. */
  const realRoot = (): Promise<string> =>
    (rootPromise ??= (async () => {
      try {
        await mkdir(configuredRoot, { recursive: true, mode: dirMode });
        const real = await realpath(configuredRoot);
        if (!(await lstat(real)).isDirectory())
          throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
        return real;
      } catch (error) {
        rootPromise = undefined;
        const code = errno(error);
        if (['EEXIST', 'ENOTDIR', 'EACCES', 'EPERM', 'EROFS'].includes(code ?? '')) {
          const message = error instanceof Error ? error.message : String(error);
          throw new RegistryError(
            'INVALID_CONFIG',
            `root ${JSON.stringify(configuredRoot)} is unusable: ${message}`,
            {
              where: NAME,
              cause: error,
            },
          );
        }
        throw error;
      }
    })());

  /** The path of `key` below the root; throws if it would land anywhere else (defense in depth). */
  const pathOf = (rootReal: string, key: string): string => {
    const resolved = path.resolve(rootReal, ...key.split('/'));
    if (!resolved.startsWith(rootReal + path.sep)) throw outsideRoot(key, 'it resolves outside the root');
    return resolved;
  };

  /** The folder for `dirKey` if every part of it is a real folder (no links), else `null`. */
  const existingDir = async (rootReal: string, dirKey: string): Promise<string | null> => {
    let current = rootReal;
    for (const segment of dirKey === '' ? [] : dirKey.split('/')) {
      current = path.join(current, segment);
      const stats = await lstat(current).catch((error: unknown) => {
        if (isNotFoundError(error)) return null;
        throw error;
      });
      if (!stats?.isDirectory()) return null;
    }
    return current;
  };

  /** Creates the folders of `dirKey` one by one, refusing to pass through links or files. */
  const ensureDir = async (rootReal: string, key: string, dirKey: string): Promise<string> => {
    let current = rootReal;
    for (const segment of dirKey === '' ? [] : dirKey.split('/')) {
      current = path.join(current, segment);
      let stats: Stats | null = await lstat(current).catch(() => null);
      if (!stats) {
        try {
          await mkdir(current, { mode: dirMode });
          continue;
        } catch (error) {
          if (errno(error) !== 'EEXIST') throw error;
          stats = await lstat(current);
        }
      }
      if (stats.isSymbolicLink()) throw outsideRoot(key, 'a folder on its path is a symbolic link');
      if (!stats.isDirectory()) {
        throw new RegistryError(
          'CONFLICT',
          `cannot store ${JSON.stringify(key)}: a part of its path is a file`,
          {
            where: NAME,
          },
        );
      }
    }
    return current;
  };

  /** The path of an existing file at `key`, `null` when there is none; refuses paths through links. */
  const existingFile = async (key: string): Promise<{ file: string; stats: Stats } | null> => {
    const rootReal = await realRoot();
    const file = pathOf(rootReal, key);
    let real: string;
    try {
      real = await realpath(file);
    } catch (error) {
      if (isNotFoundError(error)) return null;
      throw error;
    }
    if (real !== file) throw outsideRoot(key, 'its path goes through a symbolic link');
    const stats = await lstat(file).catch((error: unknown) => {
      if (isNotFoundError(error)) return null;
      throw error;
    });
    return stats?.isFile() ? { file, stats } : null;
  };

  /** Removes now-empty folders from `dir` up to (not including) the root. */
  const pruneEmptyDirs = async (rootReal: string, dir: string): Promise<void> => {
    let current = dir;
    while (current.startsWith(rootReal + path.sep)) {
      try {
        await rmdir(current);
      } catch (error) {
        if (errno(error) !== 'ENOENT') return;
      }
      current = path.dirname(current);
    }
  };

  const writeTemp = async (handle: FileHandle, body: AsyncIterable<Uint8Array>): Promise<PutResult> => {
    const hashed = hashChunks(body);
    let pending: Uint8Array[] = [];
    let pendingBytes = 0;
    for await (const chunk of hashed.chunks) {
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
      if (pendingBytes >= WRITE_BUFFER) {
        await writeAll(handle, Buffer.concat(pending));
        pending = [];
        pendingBytes = 0;
      }
    }
    if (pendingBytes > 0) await writeAll(handle, Buffer.concat(pending));
    await handle.sync();
    return hashed.result();
  };

  const info = (key: string, stats: Stats): ArtifactInfo => ({
    key,
    size: stats.size,
    lastModified: Math.floor(stats.mtimeMs),
  });

  /**
   * Collects objects under `prefix` into `out`, and the temp files of writers into `temps` when given.
   * At most WALK_CONCURRENCY directory reads and stats are in flight, however wide or deep the tree.
   */
  const walk = (
    start: string,
    startKey: string,
    prefix: string,
    out: ArtifactInfo[],
    temps?: ArtifactInfo[],
  ): Promise<void> => {
    const visit =
      (dir: string, dirKey: string): QueuedTask =>
      async (add) => {
        const entries = await readdir(dir, { withFileTypes: true }).catch((error: unknown) => {
          if (isNotFoundError(error)) return [];
          throw error;
        });
        for (const entry of entries) {
          const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`;
          const full = path.join(dir, entry.name);
          if (entry.isDirectory()) {
            const asFolder = `${key}/`;
            if (asFolder.startsWith(prefix) || prefix.startsWith(asFolder)) add(visit(full, key));
            continue;
          }
          if (!entry.isFile() || !isArtifactKey(key)) continue;
          const collect = TEMP_FILE.test(entry.name) ? temps : key.startsWith(prefix) ? out : undefined;
          if (collect === undefined) continue;
          add(async () => {
            const stats = await lstat(full).catch(() => null);
            if (stats?.isFile()) collect.push(info(key, stats));
          });
        }
      };
    return runBounded(WALK_CONCURRENCY, visit(start, startKey));
  };

  const list = async (prefix: string): Promise<ArtifactInfo[]> => {
    assertArtifactPrefix(prefix, NAME);
    try {
      const rootReal = await realRoot();
      const slash = prefix.lastIndexOf('/');
      const dirKey = slash === -1 ? '' : prefix.slice(0, slash);
      const start = await existingDir(rootReal, dirKey);
      if (!start) return [];
      const out: ArtifactInfo[] = [];
      await walk(start, dirKey, prefix, out);
      return out.sort((a, b) => compareArtifactKeys(a.key, b.key));
    } catch (error) {
      throw storeFailure('list', prefix, error);
    }
  };

  return {
    name: NAME,

    async init(): Promise<void> {
      await realRoot();
    },

    async close(): Promise<void> {},

    async put(key: string, body: ArtifactBody): Promise<PutResult> {
      assertArtifactKey(key, NAME);
      const slash = key.lastIndexOf('/');
      const base = key.slice(slash + 1);
      const dirKey = slash === -1 ? '' : key.slice(0, slash);
      if (TEMP_FILE.test(base)) throw outsideRoot(key, 'its name has the shape of a temp file');
      const chunks = toAsyncChunks(body, NAME);
      try {
        const rootReal = await realRoot();
        const target = pathOf(rootReal, key);
        const tempName = `.${[...base].slice(0, 32).join('')}.${randomBytes(8).toString('hex')}.tmp`;
        let dir = '';
        let temp = '';
        let handle: FileHandle | undefined;
        // A concurrent delete may prune a folder between its creation and the open: create it again.
        for (let attempt = 1; !handle; attempt++) {
          dir = await ensureDir(rootReal, key, dirKey);
          temp = path.join(dir, tempName);
          handle = await open(temp, 'wx', fileMode).catch((error: unknown) => {
            if (errno(error) === 'ENOENT' && attempt < 3) return undefined;
            throw error;
          });
        }
        let renamed = false;
        try {
          const result = await writeTemp(handle, chunks);
          await handle.close();
          handle = undefined;
          await rename(temp, target).catch((error: unknown) => {
            if (errno(error) !== 'EISDIR' && errno(error) !== 'ENOTEMPTY') throw error;
            throw new RegistryError(
              'CONFLICT',
              `cannot store ${JSON.stringify(key)}: it is a folder of artifacts`,
              {
                where: NAME,
              },
            );
          });
          renamed = true;
          await syncDir(dir);
          return result;
        } finally {
          if (handle) await handle.close().catch(ignore);
          if (!renamed) {
            await unlink(temp).catch(ignore);
            await pruneEmptyDirs(rootReal, dir);
          }
        }
      } catch (error) {
        throw storeFailure('put', key, error);
      }
    },

    async get(key: string): Promise<Uint8Array | null> {
      assertArtifactKey(key, NAME);
      try {
        const found = await existingFile(key);
        if (!found) return null;
        return await readFile(found.file).catch((error: unknown) => {
          if (isNotFoundError(error)) return null;
          throw error;
        });
      } catch (error) {
        throw storeFailure('get', key, error);
      }
    },

    async getStream(key: string): Promise<Readable | null> {
      assertArtifactKey(key, NAME);
      try {
        const found = await existingFile(key);
        if (!found) return null;
        const handle = await open(found.file, 'r').catch((error: unknown) => {
          if (isNotFoundError(error)) return null;
          throw error;
        });
        return handle ? handle.createReadStream() : null;
      } catch (error) {
        throw storeFailure('getStream', key, error);
      }
    },

    async head(key: string): Promise<ArtifactInfo | null> {
      assertArtifactKey(key, NAME);
      try {
        const found = await existingFile(key);
        return found ? info(key, found.stats) : null;
      } catch (error) {
        throw storeFailure('head', key, error);
      }
    },

    list,

    async delete(key: string): Promise<boolean> {
      assertArtifactKey(key, NAME);
      try {
        const found = await existingFile(key);
        if (!found) return false;
        try {
          await unlink(found.file);
        } catch (error) {
          if (isNotFoundError(error)) return false;
          throw error;
        }
        await pruneEmptyDirs(await realRoot(), path.dirname(found.file));
        return true;
      } catch (error) {
        throw storeFailure('delete', key, error);
      }
    },

    async listTemporary(): Promise<ArtifactInfo[]> {
      try {
        const temps: ArtifactInfo[] = [];
        await walk(await realRoot(), '', '', [], temps);
        return temps.sort((a, b) => compareArtifactKeys(a.key, b.key));
      } catch (error) {
        throw storeFailure('listTemporary', '', error);
      }
    },

    async deleteTemporary(key: string): Promise<boolean> {
      assertArtifactKey(key, NAME);
      if (!TEMP_FILE.test(key.slice(key.lastIndexOf('/') + 1))) {
        throw outsideRoot(key, 'it is not the name of a temp file');
      }
      try {
        const rootReal = await realRoot();
        const slash = key.lastIndexOf('/');
        const dir = await existingDir(rootReal, slash === -1 ? '' : key.slice(0, slash));
        if (!dir) return false;
        try {
          await unlink(pathOf(rootReal, key));
        } catch (error) {
          if (isNotFoundError(error)) return false;
          throw error;
        }
        await pruneEmptyDirs(rootReal, dir);
        return true;
      } catch (error) {
        throw storeFailure('deleteTemporary', key, error);
      }
    },

    async deletePrefix(prefix: string): Promise<number> {
      if (prefix === '') {
        throw new RegistryError('INVALID_ARGUMENT', 'deletePrefix needs a non-empty prefix', { where: NAME });
      }
      assertArtifactPrefix(prefix, NAME);
      const entries = await list(prefix);
      try {
        const rootReal = await realRoot();
        const dirs = new Set<string>();
        let deleted = 0;
        for (let i = 0; i < entries.length; i += DELETE_CONCURRENCY) {
          await Promise.all(
            entries.slice(i, i + DELETE_CONCURRENCY).map(async ({ key }) => {
              const file = pathOf(rootReal, key);
              dirs.add(path.dirname(file));
              try {
                await unlink(file);
                deleted += 1;
              } catch (error) {
                if (!isNotFoundError(error)) throw error;
              }
            }),
          );
        }
        const deepestFirst = [...dirs].sort((a, b) => b.length - a.length);
        for (const dir of deepestFirst) await pruneEmptyDirs(rootReal, dir);
        return deleted;
      } catch (error) {
        throw storeFailure('deletePrefix', prefix, error);
      }
    },
  };
}
