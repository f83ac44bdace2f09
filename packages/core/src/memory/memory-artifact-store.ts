import { Readable } from 'node:stream';
import { RegistryError } from '../errors.js';
import type { ArtifactBody, ArtifactInfo, ArtifactStore, PutResult } from '../stores/artifact-store.js';
import { compareArtifactKeys, readBody } from '../stores/body.js';
import { assertArtifactKey, assertArtifactPrefix } from '../stores/keys.js';

interface StoredObject {
  bytes: Uint8Array;
  lastModified: number;
}

const NAME = 'memory';

/**
 * The reference {@link ArtifactStore}: objects live in a `Map` inside the closure. Bodies are read
 * whole (hashing as they stream) and swapped in only when complete, so a failed or partial body
 * never replaces what was there. Stored bytes are copied in and out, so callers cannot mutate them.
 */
export function createMemoryArtifactStore(): ArtifactStore {
  const objects = new Map<string, StoredObject>();

  const info = (key: string, stored: StoredObject): ArtifactInfo => ({
    key,
    size: stored.bytes.byteLength,
    lastModified: stored.lastModified,
  });

  const matching = (prefix: string): string[] =>
    [...objects.keys()].filter((key) => key.startsWith(prefix)).sort(compareArtifactKeys);

  return {
    name: NAME,

    async init(): Promise<void> {},

    async close(): Promise<void> {},

    async put(key: string, body: ArtifactBody): Promise<PutResult> {
      assertArtifactKey(key, NAME);
      const { bytes, size, sha256 } = await readBody(body, NAME);
      objects.set(key, { bytes, lastModified: Date.now() });
      return { size, sha256 };
    },

    async get(key: string): Promise<Uint8Array | null> {
      assertArtifactKey(key, NAME);
      const stored = objects.get(key);
      return stored ? stored.bytes.slice() : null;
    },

    async getStream(key: string): Promise<Readable | null> {
      assertArtifactKey(key, NAME);
      const stored = objects.get(key);
      return stored ? Readable.from([Buffer.from(stored.bytes)]) : null;
    },

    async head(key: string): Promise<ArtifactInfo | null> {
      assertArtifactKey(key, NAME);
      const stored = objects.get(key);
      return stored ? info(key, stored) : null;
    },

    async list(prefix: string): Promise<ArtifactInfo[]> {
      assertArtifactPrefix(prefix, NAME);
      return matching(prefix).map((key) => info(key, objects.get(key) as StoredObject));
    },

    async delete(key: string): Promise<boolean> {
      assertArtifactKey(key, NAME);
      return objects.delete(key);
    },

    async deletePrefix(prefix: string): Promise<number> {
      if (prefix === '') {
        throw new RegistryError('INVALID_ARGUMENT', 'deletePrefix needs a non-empty prefix', { where: NAME });
      }
      assertArtifactPrefix(prefix, NAME);
      const keys = matching(prefix);
      for (const key of keys) objects.delete(key);
      return keys.length;
    },
  };
}
