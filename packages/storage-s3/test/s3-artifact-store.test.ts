import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { DeleteObjectsCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRegistryError } from '@modelreg/core';
import type { ArtifactStore } from '@modelreg/core';
import { describeArtifactStoreConformance } from '@modelreg/core/testing';
import { createS3ArtifactStore } from '../src/index.js';
import type { S3ArtifactStoreOptions } from '../src/index.js';
import { startTestS3 } from './test-s3.js';
import type { TestS3 } from './test-s3.js';

const MiB = 1024 * 1024;
/** s3rver writes each object as several files; thousands of them take a while on a busy machine. */
const BULK_TIMEOUT = 180_000;
let s3: TestS3;
let admin: S3Client;

beforeAll(async () => {
  s3 = await startTestS3();
  admin = newClient();
});

afterAll(async () => {
  admin?.destroy();
  await s3?.stop();
});

/** A client like the store builds, recording the name of every command it sends. */
function newClient(sent?: string[]): S3Client {
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: s3.region,
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...(s3.credentials ? { credentials: s3.credentials } : {}),
  });
  if (sent) {
    client.middlewareStack.add(
      (next, context) => (args) => {
        sent.push(String(context.commandName));
        return next(args);
      },
      { step: 'initialize' },
    );
  }
  return client;
}

const prefixes = new WeakMap<ArtifactStore, string>();

/** A store under a fresh prefix, so tests never share objects. */
function createStore(extra: Partial<S3ArtifactStoreOptions> = {}): ArtifactStore {
  const prefix = `t-${randomUUID()}`;
  const connection = extra.client
    ? {}
    : { endpoint: s3.endpoint, region: s3.region, forcePathStyle: true, credentials: s3.credentials };
  const store = createS3ArtifactStore({ bucket: s3.bucket, prefix, ...connection, ...extra });
  prefixes.set(store, prefix);
  return store;
}

async function removePrefix(prefix: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await admin.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}/`, ContinuationToken: token }),
    );
    const objects = (page.Contents ?? []).map((o) => ({ Key: o.Key as string }));
    if (objects.length > 0) {
      await admin.send(
        new DeleteObjectsCommand({ Bucket: s3.bucket, Delete: { Objects: objects, Quiet: true } }),
      );
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/** Runs `work` on an initialized store and closes and cleans it afterwards. */
async function withStore<T>(
  extra: Partial<S3ArtifactStoreOptions>,
  work: (store: ArtifactStore) => Promise<T>,
): Promise<T> {
  const store = createStore(extra);
  await store.init();
  try {
    return await work(store);
  } finally {
    await store.close();
    await removePrefix(prefixes.get(store) as string);
  }
}

async function putAll(store: ArtifactStore, keys: string[], concurrency: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++] as string;
      await store.put(key, key);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function expectCode(run: () => Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const error = await run().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isRegistryError(error), `expected a RegistryError, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  if (message) expect((error as Error).message).toMatch(message);
}

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

async function* chunked(bytes: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < bytes.byteLength; i += size) yield bytes.subarray(i, i + size);
}

describeArtifactStoreConformance({
  name: 'storage-s3',
  create: () => createStore(),
  destroy: (store) => removePrefix(prefixes.get(store) as string),
  inspect: (store) => ({
    rawBytes: async (key) => {
      try {
        const result = await admin.send(
          new GetObjectCommand({ Bucket: s3.bucket, Key: `${prefixes.get(store)}/${key}` }),
        );
        return result.Body ? await result.Body.transformToByteArray() : new Uint8Array(0);
      } catch (error) {
        if ((error as { name?: string }).name === 'NoSuchKey') return null;
        throw error;
      }
    },
  }),
  additionalTests: ({ create }) => {
    describe('storage-s3 specifics', () => {
      it('a streamed body above the multipart threshold is uploaded in parts and round-trips', async () => {
        const sent: string[] = [];
        const client = newClient(sent);
        try {
          await withStore({ client, multipartThreshold: 5 * MiB, partSize: 5 * MiB }, async (store) => {
            const bytes = randomBytes(12 * MiB);
            const result = await store.put('big/model.onnx', Readable.from(chunked(bytes, 256 * 1024)));
            expect(result).toEqual({ size: bytes.byteLength, sha256: sha256(bytes) });
            expect(sent.filter((c) => c === 'UploadPartCommand').length).toBe(3);
            expect(sent).toContain('CompleteMultipartUploadCommand');
            expect((await store.head('big/model.onnx'))?.size).toBe(bytes.byteLength);
            expect(sha256((await store.get('big/model.onnx')) as Uint8Array)).toBe(sha256(bytes));

            sent.length = 0;
            await store.put('small/file', randomBytes(MiB));
            expect(sent).toEqual(['PutObjectCommand']);
          });
        } finally {
          client.destroy();
        }
      });

      it('a multipart body that fails midway stores nothing', async () => {
        await withStore({ multipartThreshold: 5 * MiB, partSize: 5 * MiB }, async (store) => {
          async function* failing(): AsyncGenerator<Uint8Array> {
            for (let i = 0; i < 7; i++) yield randomBytes(MiB);
            throw new Error('source failed');
          }
          await expect(store.put('big/broken', failing())).rejects.toThrow(/source failed/);
          expect(await store.get('big/broken')).toBeNull();
          expect(await store.list('')).toEqual([]);
        });
      });

      it(
        'lists 1,001 keys completely, paging past 1000',
        async () => {
          const sent: string[] = [];
          const client = newClient(sent);
          try {
            await withStore({ client }, async (store) => {
              const keys = Array.from({ length: 1001 }, (_, i) => `page/${String(i).padStart(4, '0')}`);
              await putAll(store, keys, 32);
              sent.length = 0;
              expect((await store.list('page/')).map((i) => i.key)).toEqual(keys);
              // S3 pages hold at most 1000 keys: the last key is on a second page.
              expect(sent.filter((c) => c === 'ListObjectsV2Command').length).toBe(2);
            });
          } finally {
            client.destroy();
          }
        },
        BULK_TIMEOUT,
      );

      it(
        'deletePrefix removes more than 1000 keys in batches of 1000',
        async () => {
          const sent: string[] = [];
          const client = newClient(sent);
          try {
            await withStore({ client }, async (store) => {
              const keys = Array.from({ length: 1001 }, (_, i) => `gc/${i}`);
              await putAll(store, keys, 32);
              await store.put('keep/me', 'x');
              sent.length = 0;
              expect(await store.deletePrefix('gc/')).toBe(1001);
              expect(sent.filter((c) => c === 'DeleteObjectsCommand').length).toBe(2);
              expect((await store.list('')).map((i) => i.key)).toEqual(['keep/me']);
            });
          } finally {
            client.destroy();
          }
        },
        BULK_TIMEOUT,
      );

      it('keys live under "<prefix>/" in the bucket and stores with other prefixes do not see them', async () => {
        const store = await create();
        const other = await create();
        await store.put('a/b.txt', 'x');
        const prefix = prefixes.get(store) as string;
        const page = await admin.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: `${prefix}/` }));
        expect((page.Contents ?? []).map((o) => o.Key)).toEqual([`${prefix}/a/b.txt`]);
        expect(await other.list('')).toEqual([]);
        expect(await other.get('a/b.txt')).toBeNull();
      });

      it('init of a missing bucket is INVALID_CONFIG naming the bucket', async () => {
        const store = createStore({ bucket: `missing-${randomUUID().slice(0, 8)}` });
        await expectCode(() => store.init(), 'INVALID_CONFIG', /bucket "missing-[0-9a-f]{8}" does not exist/);
        await store.close();
      });

      it('init with credentials the server refuses is INVALID_CONFIG', async () => {
        const store = createStore({
          credentials: { accessKeyId: 'NOT-A-KEY', secretAccessKey: 'nope' },
          maxAttempts: 1,
        });
        await expectCode(() => store.init(), 'INVALID_CONFIG', /denied/);
        await store.close();
      });

      it('init of an unreachable endpoint is STORE_FAILURE', async () => {
        const store = createS3ArtifactStore({
          bucket: s3.bucket,
          endpoint: 'http://127.0.0.1:9',
          credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
          forcePathStyle: true,
          maxAttempts: 1,
        });
        await expectCode(() => store.init(), 'STORE_FAILURE', /\[storage-s3\]/);
        await store.close();
      });

      it('a client passed in is used and not destroyed by close', async () => {
        const sent: string[] = [];
        const client = newClient(sent);
        try {
          await withStore({ client }, async (store) => {
            await store.put('x', 'y');
          });
          expect(sent).toContain('PutObjectCommand');
          const store = createStore({ client });
          await store.init();
          await store.close();
        } finally {
          client.destroy();
        }
      });
    });
  },
});

describe('s3ArtifactStoreOptionsSchema', () => {
  const client = new S3Client({ region: 'us-east-1' });
  afterAll(() => client.destroy());

  const bad: Array<[string, unknown]> = [
    ['no options', undefined],
    ['no bucket', {}],
    ['an empty bucket', { bucket: '' }],
    ['an escaping prefix', { bucket: 'b', prefix: '../x' }],
    ['an absolute prefix', { bucket: 'b', prefix: '/x' }],
    ['a client and an endpoint', { bucket: 'b', client, endpoint: 'http://localhost:9000' }],
    ['a client that is not one', { bucket: 'b', client: {} }],
    ['an endpoint that is not a URL', { bucket: 'b', endpoint: 'localhost 9000' }],
    ['a multipart threshold under 5 MiB', { bucket: 'b', multipartThreshold: 1024 }],
    ['a part size under 5 MiB', { bucket: 'b', partSize: 1024 }],
    ['zero attempts', { bucket: 'b', maxAttempts: 0 }],
    ['credentials without a secret', { bucket: 'b', credentials: { accessKeyId: 'a' } }],
  ];

  it.each(bad)('%s is INVALID_CONFIG at construction', (_what, options) => {
    let error: unknown;
    try {
      createS3ArtifactStore(options as never);
    } catch (e) {
      error = e;
    }
    expect(isRegistryError(error, 'INVALID_CONFIG'), String(error)).toBe(true);
    expect((error as Error).message).toContain('[storage-s3]');
  });

  it('accepts a bucket with a prefix (trailing slash optional) and is named "storage-s3"', async () => {
    for (const prefix of ['team/models', 'team/models/', '']) {
      const store = createS3ArtifactStore({ bucket: 'b', prefix, region: 'eu-west-1' });
      expect(store.name).toBe('storage-s3');
      await store.close();
    }
  });
});
