import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
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
import { parseS3ArtifactStoreOptions } from './options.js';
import type { ResolvedS3ArtifactStoreOptions, S3ArtifactStoreOptions } from './options.js';

const NAME = 'storage-s3';
const DELETE_BATCH = 1000;
const CONTENT_TYPE = 'application/octet-stream';

interface AwsErrorShape {
  name?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
}

const awsError = (error: unknown): AwsErrorShape =>
  typeof error === 'object' && error !== null ? error : {};
const statusOf = (error: unknown): number | undefined => awsError(error).$metadata?.httpStatusCode;

/** The object is missing (not the bucket: a missing bucket is a failure, not `null`). */
function isMissingObject(error: unknown): boolean {
  const { name } = awsError(error);
  if (name === 'NoSuchBucket') return false;
  return name === 'NoSuchKey' || name === 'NotFound' || statusOf(error) === 404;
}

function storeFailure(operation: string, subject: string, error: unknown): RegistryError {
  if (isRegistryError(error)) return error;
  const { name, message } = awsError(error);
  const status = statusOf(error);
  const detail = [name, status ? `HTTP ${status}` : undefined].filter(Boolean).join(', ');
  return new RegistryError(
    'STORE_FAILURE',
    `${operation} ${JSON.stringify(subject)} failed: ${message ?? String(error)}${detail ? ` (${detail})` : ''}`,
    { where: NAME, cause: error },
  );
}

function bucketError(bucket: string, error: unknown): RegistryError {
  const { name, message } = awsError(error);
  const status = statusOf(error);
  const where = { where: NAME, cause: error };
  if (name === 'NoSuchBucket' || name === 'NotFound' || status === 404) {
    return new RegistryError('INVALID_CONFIG', `bucket "${bucket}" does not exist`, where);
  }
  if (
    status === 401 ||
    status === 403 ||
    ['Forbidden', 'AccessDenied', 'InvalidAccessKeyId'].includes(name ?? '')
  ) {
    return new RegistryError(
      'INVALID_CONFIG',
      `access to bucket "${bucket}" was denied (HTTP ${status ?? 403}): check the credentials and their permissions`,
      where,
    );
  }
  if (name === 'CredentialsProviderError') {
    return new RegistryError('INVALID_CONFIG', `no usable AWS credentials were found: ${message}`, where);
  }
  return storeFailure('checking bucket', bucket, error);
}

function buildClient(options: ResolvedS3ArtifactStoreOptions): S3Client {
  const config: S3ClientConfig = {
    maxAttempts: options.maxAttempts ?? 5,
    retryMode: 'standard',
    // Checksums only where S3 requires them: otherwise streamed bodies are sent with aws-chunked
    // framing that some S3-compatible servers store verbatim.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  };
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  const region = options.region ?? (options.endpoint !== undefined ? 'us-east-1' : undefined);
  if (region !== undefined) config.region = region;
  if (options.credentials !== undefined) config.credentials = options.credentials;
  if (options.forcePathStyle !== undefined) config.forcePathStyle = options.forcePathStyle;
  return new S3Client(config);
}

/**
 * An {@link ArtifactStore} on an S3 bucket (AWS, MinIO, or any S3-compatible server). Bodies stream
 * through a sha256 tap; small ones are one PutObject, those of `multipartThreshold` bytes or more a
 * multipart upload. Both become visible atomically when complete.
 */
export function createS3ArtifactStore(options: S3ArtifactStoreOptions): ArtifactStore {
  const resolved = parseS3ArtifactStoreOptions(options);
  const { bucket, prefix: root, multipartThreshold, partSize } = resolved;
  const client = resolved.client ?? buildClient(resolved);
  const ownsClient = resolved.client === undefined;
  const objectKey = (key: string): string => root + key;

  const head = async (key: string): Promise<ArtifactInfo | null> => {
    assertArtifactKey(key, NAME);
    try {
      const result = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
      return { key, size: result.ContentLength ?? 0, lastModified: result.LastModified?.getTime() ?? 0 };
    } catch (error) {
      if (isMissingObject(error)) return null;
      throw storeFailure('head', key, error);
    }
  };

  const list = async (prefix: string): Promise<ArtifactInfo[]> => {
    assertArtifactPrefix(prefix, NAME);
    const out: ArtifactInfo[] = [];
    let token: string | undefined;
    try {
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: objectKey(prefix), ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) {
          if (object.Key === undefined || !object.Key.startsWith(root)) continue;
          const key = object.Key.slice(root.length);
          if (!isArtifactKey(key)) continue;
          out.push({ key, size: object.Size ?? 0, lastModified: object.LastModified?.getTime() ?? 0 });
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    } catch (error) {
      throw storeFailure('list', prefix, error);
    }
    return out.sort((a, b) => compareArtifactKeys(a.key, b.key));
  };

  /** Sends a body below the threshold as one PutObject, anything larger as a multipart upload. */
  const upload = async (key: string, chunks: AsyncIterator<Uint8Array>): Promise<void> => {
    const first: Uint8Array[] = [];
    let firstBytes = 0;
    while (firstBytes < multipartThreshold) {
      const next = await chunks.next();
      if (next.done) {
        const body = Buffer.concat(first);
        await client.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: objectKey(key),
            Body: body,
            ContentLength: body.byteLength,
            ContentType: CONTENT_TYPE,
          }),
        );
        return;
      }
      first.push(next.value);
      firstBytes += next.value.byteLength;
    }
    async function* all(): AsyncGenerator<Uint8Array> {
      yield* first;
      for (let next = await chunks.next(); !next.done; next = await chunks.next()) yield next.value;
    }
    const stream = Readable.from(all(), { objectMode: false });
    const multipart = new Upload({
      client,
      params: { Bucket: bucket, Key: objectKey(key), Body: stream, ContentType: CONTENT_TYPE },
      partSize,
      queueSize: 4,
      leavePartsOnError: false,
    });
    try {
      await multipart.done();
    } finally {
      stream.destroy();
    }
  };

  return {
    name: NAME,

    async init(): Promise<void> {
      try {
        await client.send(new HeadBucketCommand({ Bucket: bucket }));
      } catch (error) {
        throw bucketError(bucket, error);
      }
    },

    async close(): Promise<void> {
      if (ownsClient) client.destroy();
    },

    async put(key: string, body: ArtifactBody): Promise<PutResult> {
      assertArtifactKey(key, NAME);
      const hashed = hashChunks(toAsyncChunks(body, NAME));
      const chunks = hashed.chunks[Symbol.asyncIterator]();
      // When the body fails, report that rather than what the upload did about it (e.g. its abort).
      let bodyError: unknown;
      const reading: AsyncIterator<Uint8Array> = {
        next: () =>
          chunks.next().catch((error: unknown) => {
            bodyError ??= error;
            throw error;
          }),
      };
      try {
        await upload(key, reading);
        return hashed.result();
      } catch (error) {
        throw storeFailure('put', key, bodyError ?? error);
      } finally {
        // Releases the caller's stream if the upload stopped reading it.
        await chunks.return?.().catch(() => undefined);
      }
    },

    async get(key: string): Promise<Uint8Array | null> {
      assertArtifactKey(key, NAME);
      try {
        const result = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
        return result.Body ? await result.Body.transformToByteArray() : new Uint8Array(0);
      } catch (error) {
        if (isMissingObject(error)) return null;
        throw storeFailure('get', key, error);
      }
    },

    async getStream(key: string): Promise<Readable | null> {
      assertArtifactKey(key, NAME);
      try {
        const result = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
        if (!result.Body) return Readable.from([]);
        if (result.Body instanceof Readable) return result.Body;
        return Readable.fromWeb(result.Body.transformToWebStream() as Parameters<typeof Readable.fromWeb>[0]);
      } catch (error) {
        if (isMissingObject(error)) return null;
        throw storeFailure('getStream', key, error);
      }
    },

    head,

    list,

    async delete(key: string): Promise<boolean> {
      // S3 deletes are idempotent and do not say whether the object existed, so ask first.
      const existing = await head(key);
      if (!existing) return false;
      try {
        await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: objectKey(key) }));
        return true;
      } catch (error) {
        throw storeFailure('delete', key, error);
      }
    },

    async deletePrefix(prefix: string): Promise<number> {
      if (prefix === '') {
        throw new RegistryError('INVALID_ARGUMENT', 'deletePrefix needs a non-empty prefix', { where: NAME });
      }
      const keys = (await list(prefix)).map((info) => info.key);
      let deleted = 0;
      try {
        for (let i = 0; i < keys.length; i += DELETE_BATCH) {
          const batch = keys.slice(i, i + DELETE_BATCH);
          const result = await client.send(
            new DeleteObjectsCommand({
              Bucket: bucket,
              Delete: { Objects: batch.map((key) => ({ Key: objectKey(key) })), Quiet: true },
            }),
          );
          const failed = result.Errors ?? [];
          deleted += batch.length - failed.length;
          if (failed.length > 0) {
            const firstFailure = failed[0];
            throw new RegistryError(
              'STORE_FAILURE',
              `deletePrefix ${JSON.stringify(prefix)} could not delete ${failed.length} objects, e.g. ` +
                `"${firstFailure?.Key ?? '?'}": ${firstFailure?.Code ?? ''} ${firstFailure?.Message ?? ''}`.trim(),
              { where: NAME, details: { deleted } },
            );
          }
        }
        return deleted;
      } catch (error) {
        throw storeFailure('deletePrefix', prefix, error);
      }
    },
  };
}
