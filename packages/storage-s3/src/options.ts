import type { S3Client, S3ClientConfig } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { assertArtifactKey, parseStoreOptions } from '@modelreg/core';

const MiB = 1024 * 1024;

const isValidPrefix = (prefix: string): boolean => {
  try {
    assertArtifactKey(prefix);
    return true;
  } catch {
    return false;
  }
};

/**
 * Options of {@link createS3ArtifactStore}. Pass either a `client` you built, or connection
 * settings (`endpoint`, `region`, `credentials`, `forcePathStyle`) from which the store builds one.
 *
 * ```ts
 * // AWS, with credentials and region from the environment
 * createS3ArtifactStore({ bucket: 'ml-artifacts', prefix: 'modelreg' });
 * // MinIO or another S3-compatible server
 * createS3ArtifactStore({
 *   bucket: 'modelreg', endpoint: 'http://localhost:9000', forcePathStyle: true,
 *   credentials: { accessKeyId: 'minio', secretAccessKey: 'minio123' },
 * });
 * ```
 */
export const s3ArtifactStoreOptionsSchema = z
  .object({
    /** The bucket; it must exist (`init()` checks it). */
    bucket: z.string().min(1, 'must not be empty'),
    /**
     * Keys live under `<prefix>/` in the bucket, so several registries can share one bucket.
     * Same rules as artifact keys; a trailing `/` is optional. Default: the bucket's top level.
     */
    prefix: z
      .string()
      .default('')
      .transform((p) => p.replace(/\/$/, ''))
      .refine((p) => p === '' || isValidPrefix(p), 'must be a relative path like an artifact key')
      .transform((p) => (p === '' ? '' : `${p}/`)),
    /**
     * An S3 client to use instead of building one; the store never destroys it. Build it with
     * `requestChecksumCalculation: 'WHEN_REQUIRED'` when the server is not AWS.
     */
    client: z
      .custom<S3Client>(
        (v) => typeof v === 'object' && v !== null && typeof (v as { send?: unknown }).send === 'function',
        'must be an S3Client',
      )
      .optional(),
    /** A custom endpoint such as `http://localhost:9000` (MinIO); default: AWS. */
    endpoint: z.url().optional(),
    /** Default: the AWS environment/config, or `us-east-1` when an `endpoint` is given. */
    region: z.string().min(1).optional(),
    /** Default: the AWS credential chain (environment, shared config, instance role). */
    credentials: z
      .union([
        z.object({
          accessKeyId: z.string().min(1),
          secretAccessKey: z.string().min(1),
          sessionToken: z.string().optional(),
        }),
        z.custom<NonNullable<S3ClientConfig['credentials']>>((v) => typeof v === 'function'),
      ])
      .optional(),
    /** Use `http://host/bucket/key` URLs; needed by MinIO and most S3-compatible servers. */
    forcePathStyle: z.boolean().optional(),
    /** Bodies of at least this many bytes are sent as a multipart upload. Default 8 MiB, minimum 5 MiB. */
    multipartThreshold: z
      .number()
      .int()
      .min(5 * MiB, 'must be at least 5 MiB')
      .default(8 * MiB),
    /** Size of each part of a multipart upload. Default 8 MiB; S3 allows 5 MiB to 5 GiB. */
    partSize: z
      .number()
      .int()
      .min(5 * MiB, 'must be at least 5 MiB')
      .max(5 * 1024 * MiB, 'must be at most 5 GiB')
      .default(8 * MiB),
    /** Attempts per request, retried with backoff on 5xx, throttling and network errors. Default 5. */
    maxAttempts: z.number().int().min(1).max(20).optional(),
  })
  .refine(
    (o) =>
      o.client === undefined ||
      (o.endpoint === undefined &&
        o.region === undefined &&
        o.credentials === undefined &&
        o.forcePathStyle === undefined &&
        o.maxAttempts === undefined),
    'pass either client or connection settings (endpoint, region, credentials, forcePathStyle, maxAttempts), not both',
  );

/** What callers pass to {@link createS3ArtifactStore}; see {@link s3ArtifactStoreOptionsSchema} for each field. */
export type S3ArtifactStoreOptions = z.input<typeof s3ArtifactStoreOptionsSchema>;
export type ResolvedS3ArtifactStoreOptions = z.output<typeof s3ArtifactStoreOptionsSchema>;

export function parseS3ArtifactStoreOptions(options: unknown): ResolvedS3ArtifactStoreOptions {
  return parseStoreOptions(s3ArtifactStoreOptionsSchema, options, 'storage-s3');
}
