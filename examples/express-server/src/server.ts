import { realpathSync } from 'node:fs';
import { isIPv4, isIPv6 } from 'node:net';
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import type { Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import { parseInput, RegistryError } from '@modelreg/core';
import { openRegistryFromEnv } from '@modelreg/example-config';
import { pino } from 'pino';
import { z } from 'zod';
import { createApp, createHttpServer, defaultAllowedHosts } from './app.js';
import type { AuditSink } from './audit.js';
import { createNdjsonAuditSink } from './audit.js';
import type { AuthOptions } from './auth.js';

/** The server's own variables; the registry's (`MODELREG_DIR`, …) are read by `openRegistryFromEnv`. */
const serverEnvSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8000),
  HOST: z.string().min(1).default('127.0.0.1'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  MODELREG_AUDIT_LOG: z.string().min(1).optional(),
  MODELREG_MAX_JSON_BYTES: z.coerce.number().int().min(1).optional(),
  MODELREG_MAX_UPLOAD_BYTES: z.coerce.number().int().min(1).optional(),
  MODELREG_MAX_PREDICT_CSV_BYTES: z.coerce.number().int().min(1).optional(),
  MODELREG_MAX_PREDICT_ROWS: z.coerce.number().int().min(1).optional(),
  MODELREG_ADMIN_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. `openssl rand -base64 32`)')
    .max(1024)
    .optional(),
  MODELREG_MAX_ARTIFACT_BYTES: z.coerce.number().int().min(1).optional(),
  MODELREG_MAX_MODEL_BYTES: z.coerce.number().int().min(1).optional(),
  /** Comma-separated `Host` names the server answers (`*`: any); default the loopback names. */
  MODELREG_ALLOWED_HOSTS: z
    .string()
    .min(1)
    .transform((v) =>
      v
        .split(',')
        .map((h) => h.trim())
        .filter(Boolean),
    )
    .optional(),
  /** Writes per client address and minute. */
  MODELREG_WRITE_RATE_LIMIT: z.coerce.number().int().min(1).optional(),
  MODELREG_MAX_TRAIN_TREES: z.coerce.number().int().min(1).optional(),
  MODELREG_MAX_TRAIN_WORKERS: z.coerce.number().int().min(1).optional(),
  /** `true` turns on adaptive batching of predict requests (see `AppOptions.predictBatching`). */
  MODELREG_PREDICT_BATCHING: z.stringbool().default(false),
  /** Longest a predict request waits for others to join its batch, in ms (with batching on). */
  MODELREG_PREDICT_BATCH_MS: z.coerce.number().min(0).max(1000).optional(),
  /** Rows per batched model call (with batching on). */
  MODELREG_PREDICT_BATCH_ROWS: z.coerce.number().int().min(1).max(1_000_000).optional(),
});

/** Whether `host` is a loopback address or name: only there may the server run without auth. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIPv4(h)) return h.startsWith('127.');
  if (isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h);
  return false;
}

/**
 * Token auth when `MODELREG_ADMIN_TOKEN` is set (that secret is the first admin token); without it,
 * open mode on a loopback `HOST`, and a refusal to start anywhere else.
 */
function authFromEnv(host: string, adminToken: string | undefined): AuthOptions {
  if (adminToken) return { mode: 'token', adminToken };
  if (isLoopbackHost(host)) return { mode: 'open' };
  throw new RegistryError(
    'INVALID_CONFIG',
    `HOST=${host} is not a loopback address, and the server refuses to serve it without authentication: set MODELREG_ADMIN_TOKEN (the first admin token, at least 32 random characters)`,
    { where: 'express-server' },
  );
}

const shutdownGraceMs = 10_000;

/** The `HOST` the server listens on is a name it answers to, unless it is a wildcard address. */
const hostNamesOf = (host: string): string[] =>
  ['0.0.0.0', '::', '[::]'].includes(host) ? [] : [host.includes(':') ? `[${host}]` : host];

export interface RunningServer {
  server: Server;
  url: string;
  /** Stops accepting connections, waits for requests in flight, then closes the audit log and the registry. */
  close(): Promise<void>;
}

/** Starts the server from environment variables. */
export async function startServer(
  env: Record<string, string | undefined> = process.env,
): Promise<RunningServer> {
  const nonEmpty = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const config = parseInput(serverEnvSchema, nonEmpty, {
    code: 'INVALID_CONFIG',
    what: 'setting',
    where: 'express-server',
  });
  const logger = pino({ level: config.LOG_LEVEL });
  const auth = authFromEnv(config.HOST, config.MODELREG_ADMIN_TOKEN);
  const { registry, describe, dir, queue } = await openRegistryFromEnv(env);
  if (queue.warning) logger.warn(queue.warning);
  let audit: AuditSink | undefined;
  try {
    audit = config.MODELREG_AUDIT_LOG ? createNdjsonAuditSink(config.MODELREG_AUDIT_LOG) : undefined;
    // Jobs queued before a restart (or by processes that only submit) run here, at most
    // MODELREG_TRAIN_CONCURRENCY at a time; 0 leaves training to worker processes.
    if (queue.concurrency > 0) await registry.jobs.start({ concurrency: queue.concurrency });
    // Webhook deliveries: every replica delivers, each webhook's cursor is leased to one at a time.
    await registry.webhooks.start();
  } catch (e) {
    await Promise.allSettled([audit?.close(), registry.close()]);
    throw e;
  }
  const app = createApp({
    registry,
    logger,
    auth,
    ...(audit ? { auditLog: audit } : {}),
    limits: {
      ...(config.MODELREG_MAX_JSON_BYTES ? { jsonBytes: config.MODELREG_MAX_JSON_BYTES } : {}),
      ...(config.MODELREG_MAX_UPLOAD_BYTES ? { datasetUploadBytes: config.MODELREG_MAX_UPLOAD_BYTES } : {}),
      ...(config.MODELREG_MAX_PREDICT_CSV_BYTES
        ? { predictCsvBytes: config.MODELREG_MAX_PREDICT_CSV_BYTES }
        : {}),
      ...(config.MODELREG_MAX_PREDICT_ROWS ? { predictRows: config.MODELREG_MAX_PREDICT_ROWS } : {}),
      ...(config.MODELREG_MAX_ARTIFACT_BYTES
        ? { artifactUploadBytes: config.MODELREG_MAX_ARTIFACT_BYTES }
        : {}),
      ...(config.MODELREG_MAX_MODEL_BYTES ? { modelUploadBytes: config.MODELREG_MAX_MODEL_BYTES } : {}),
      ...(config.MODELREG_MAX_TRAIN_TREES ? { trainEstimators: config.MODELREG_MAX_TRAIN_TREES } : {}),
      ...(config.MODELREG_MAX_TRAIN_WORKERS ? { trainWorkers: config.MODELREG_MAX_TRAIN_WORKERS } : {}),
    },
    ...(config.MODELREG_PREDICT_BATCHING
      ? {
          predictBatching: {
            ...(config.MODELREG_PREDICT_BATCH_MS !== undefined
              ? { maxWaitMs: config.MODELREG_PREDICT_BATCH_MS }
              : {}),
            ...(config.MODELREG_PREDICT_BATCH_ROWS ? { maxRows: config.MODELREG_PREDICT_BATCH_ROWS } : {}),
          },
        }
      : {}),
    security: {
      allowedHosts: config.MODELREG_ALLOWED_HOSTS ?? [...defaultAllowedHosts, ...hostNamesOf(config.HOST)],
      ...(config.MODELREG_WRITE_RATE_LIMIT
        ? { writeRateLimit: { limit: config.MODELREG_WRITE_RATE_LIMIT, windowMs: 60_000 } }
        : {}),
    },
  });

  const server = await new Promise<Server>((resolve, reject) => {
    // Requests and responses born with the app's prototypes; `Expect: 100-continue` left to the app,
    // which answers it once the declared length passed its limit (see http-server.ts).
    const s = createHttpServer(app);
    s.once('error', reject);
    s.listen(config.PORT, config.HOST, () => {
      s.off('error', reject);
      resolve(s);
    });
  }).catch(async (e: unknown) => {
    await Promise.allSettled([audit?.close(), registry.close()]);
    throw e;
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  const url = `http://${config.HOST.includes(':') ? `[${config.HOST}]` : config.HOST}:${port}`;
  logger.info(
    {
      url,
      registry: describe,
      dir,
      stages: registry.stages,
      audit: config.MODELREG_AUDIT_LOG ?? null,
      auth: auth.mode,
      trainConcurrency: queue.concurrency,
    },
    'listening',
  );
  if (auth.mode === 'open') {
    logger.warn(
      { url },
      'AUTHENTICATION IS OFF: every request to this server acts with full (admin) rights. This is allowed only on a loopback HOST; set MODELREG_ADMIN_TOKEN to require tokens.',
    );
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await new Promise<void>((resolve) => {
        // Requests in flight get `shutdownGraceMs` to finish; then their connections are cut.
        const force = setTimeout(() => server.closeAllConnections(), shutdownGraceMs);
        const endEventStreams: unknown = app.locals['endEventStreams'];
        if (typeof endEventStreams === 'function') (endEventStreams as () => void)();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      });
      await audit?.close();
      await registry.close();
      logger.info('stopped');
    })());
  return { server, url, close };
}

/**
 * Whether the server collects V8's young generation in one thread (`--no-parallel-scavenge`):
 * `MODELREG_PARALLEL_SCAVENGE=false` (or `true`) decides; unset, on machines of at most 2 cores. There
 * the collector's helper threads compete for the cores with a training and with the requests, and the
 * event loop waits for a helper the kernel has not run yet: in `bench/serving-under-training.mjs` on a
 * 2-core VM the server's worst event-loop delay during a training was 42–74 ms in six runs with
 * parallel scavenges and 24–44 ms in nine without. Other collector settings cannot change once V8
 * runs; `node --single-threaded-gc` (or `NODE_OPTIONS`) sets them all (17–29 ms in the same bench).
 */
export function scavengeInOneThread(
  env: NodeJS.ProcessEnv = process.env,
  cores: number = availableParallelism(),
): boolean {
  const parsed = z.stringbool().optional().safeParse(env['MODELREG_PARALLEL_SCAVENGE']);
  if (!parsed.success) throw new Error('MODELREG_PARALLEL_SCAVENGE must be true or false');
  return parsed.data === undefined ? cores <= 2 : !parsed.data;
}

const isMain =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;

if (isMain) {
  try {
    // Only as the process's entry: a flag of the whole process, which an embedding host decides.
    if (scavengeInOneThread()) setFlagsFromString('--no-parallel-scavenge');
    const running = await startServer();
    const stop = (signal: NodeJS.Signals) => {
      // A second signal exits at once.
      process.once(signal, () => process.exit(1));
      running.close().then(
        () => process.exit(0),
        (e: unknown) => {
          console.error(e);
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    process.exit(1);
  }
}
