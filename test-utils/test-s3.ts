import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  /** Undefined when an external endpoint is used: the AWS_* variables apply. */
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
  region: string;
  stop(): Promise<void>;
}

const RUN_S3RVER = fileURLToPath(new URL('./fixtures/run-s3rver.mjs', import.meta.url));

/**
 * The S3 the tests talk to: the server at `MODELREG_TEST_S3_ENDPOINT` (bucket
 * `MODELREG_TEST_S3_BUCKET`, default `modelreg-test`, credentials from `AWS_*`), or else a fresh
 * s3rver on a random port with its files in a temp folder, in a child process (see run-s3rver.mjs).
 */
export async function startTestS3(): Promise<TestS3> {
  const external = process.env['MODELREG_TEST_S3_ENDPOINT'];
  if (external) {
    return {
      endpoint: external,
      bucket: process.env['MODELREG_TEST_S3_BUCKET'] ?? 'modelreg-test',
      credentials: undefined,
      region: process.env['AWS_REGION'] ?? 'us-east-1',
      stop: async () => {},
    };
  }
  const directory = await mkdtemp(path.join(tmpdir(), 'modelreg-s3rver-'));
  const bucket = 'modelreg-test';
  const child = spawn(process.execPath, ['--openssl-legacy-provider', RUN_S3RVER, directory, bucket], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = once(child, 'exit');
  const lines = createInterface({ input: child.stdout });
  const first = await Promise.race([
    once(lines, 'line').then(([line]) => String(line)),
    exited.then(([code]) => {
      throw new Error(`s3rver exited with code ${String(code)} before it listened`);
    }),
  ]);
  const { port } = JSON.parse(first) as { port: number };
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    // s3rver knows this one access key and does not verify v4 signatures.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    region: 'us-east-1',
    stop: async () => {
      lines.close();
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      await rm(directory, { recursive: true, force: true });
    },
  };
}
