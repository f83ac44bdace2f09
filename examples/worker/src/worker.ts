#!/usr/bin/env node
import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { createPredictionConsumer } from '@modelreg/bus-nats';
import type { ModelRegistry } from '@modelreg/core';
import { formatModelUri, isRegistryError } from '@modelreg/core';
import { openRegistryFromEnv } from '@modelreg/example-config';
import type { LogEntry } from './run-worker.js';
import { PredictionWorker, watchLogs } from './run-worker.js';
import { runTrainingJobs } from './train-jobs.js';

const usage = `modelreg prediction worker

Usage: node dist/worker.js --model <name> --input <file.ndjson | ->  [--output <file>]
       node dist/worker.js --model <name> --watch-dir <dir> [--poll-ms 500]
       node dist/worker.js --model <name> --nats <url> --input-subject <s> --output-subject <s>
       node dist/worker.js --train-jobs [--concurrency <n>]

  --model <name>     serve models:/<name>/<stage> (stage: --stage, default production)
  --uri <uri>        or serve any model URI, e.g. models:/iris@champion
  --input <path|->   read NDJSON jobs from a file, or from stdin with "-"; results go to stdout
                     (or --output) and the worker exits at the end of the input
  --watch-dir <dir>  process each new *.ndjson file in <dir> into <name>.out.ndjson and move it
                     to <dir>/done/; runs until SIGINT/SIGTERM
  --nats <url>       read jobs from a durable JetStream consumer on --input-subject (one job per
                     message) and publish each result to --output-subject with Nats-Msg-Id = the
                     job id; the input is acknowledged once JetStream stored the result. Streams and
                     the consumer are created when missing. Runs until SIGINT/SIGTERM. Also:
                     --consumer <name> (durable name), --max-in-flight <n> (64), --max-deliver <n>
                     (5 failed deliveries, then --dead-letter-subject, default <input>.dead),
                     --ack-wait-ms <ms> (30000: a killed worker's messages come back after it)
  --train-jobs       run training jobs from the queue (MODELREG_QUEUE: embedded or pgboss), at most
                     --concurrency at a time (default MODELREG_TRAIN_CONCURRENCY, else 1), until
                     SIGINT/SIGTERM; jobs still running then go back to the queue

Jobs: one JSON object per line, a record of features or { "id": ..., "rows": [...] }.
Results: one JSON line per job: { id?, line, model, version, prediction | predictions, latencyMs }
or { id?, line, model, error: { code, message } }. On NATS a result has no "line" and always an
"id" (the job's, else the message's Nats-Msg-Id, else <stream>:<seq>); a job that fails goes to the
dead-letter subject instead of an error result. While no version serves the model (nothing in the
stage yet), jobs wait for one. Logs (hot swaps...) are JSON lines on stderr.
Storage follows MODELREG_DIR (default ./.modelreg where the command is run), MODELREG_METADATA_URL,
MODELREG_PG_SCHEMA, MODELREG_ARTIFACTS_URL and MODELREG_STAGES; the job queue follows MODELREG_QUEUE
and MODELREG_QUEUE_URL.`;

const log = (entry: LogEntry): void => {
  process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
};

const options = {
  model: { type: 'string' },
  uri: { type: 'string' },
  stage: { type: 'string', default: 'production' },
  input: { type: 'string' },
  output: { type: 'string' },
  'watch-dir': { type: 'string' },
  'poll-ms': { type: 'string', default: '500' },
  nats: { type: 'string' },
  'input-subject': { type: 'string' },
  'output-subject': { type: 'string' },
  'dead-letter-subject': { type: 'string' },
  consumer: { type: 'string' },
  'max-in-flight': { type: 'string' },
  'max-deliver': { type: 'string' },
  'ack-wait-ms': { type: 'string' },
  'train-jobs': { type: 'boolean', default: false },
  concurrency: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ options }));
  } catch (e) {
    // An unknown flag or a positional: one line and the usage, exit 2 (as for missing options).
    console.error(
      `error: ${e instanceof Error ? (e.message.split('\n')[0] ?? e.message) : String(e)}\n\n${usage}`,
    );
    return 2;
  }
  if (values['train-jobs']) return trainJobs(values.concurrency, values.help);
  const uri = values.uri ?? (values.model ? formatModelUri(values.model, values.stage) : undefined);
  const dir = values['watch-dir'];
  const pollMs = Number(values['poll-ms']);
  const modes = [values.input, dir, values.nats].filter((v) => v !== undefined).length;
  const natsSubjects = values['input-subject'] !== undefined && values['output-subject'] !== undefined;
  if (values.help || !uri || modes !== 1 || !(pollMs >= 10) || (values.nats !== undefined && !natsSubjects)) {
    (values.help ? console.log : console.error)(usage);
    return values.help ? 0 : 2;
  }

  const { registry, describe } = await openRegistryFromEnv();
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log({ event: 'worker.stopping', signal });
      controller.abort();
    });
  }
  if (values.nats !== undefined) {
    try {
      return await natsMode(registry, uri, values, describe, controller.signal);
    } finally {
      await registry.close();
    }
  }
  const worker = new PredictionWorker({ registry, uri, log });
  log({
    event: 'worker.started',
    uri,
    registry: describe,
    mode: dir ? 'watch-dir' : 'input',
    pid: process.pid,
  });
  try {
    if (dir !== undefined) {
      await worker.watchDir(dir, { signal: controller.signal, pollMs });
    } else {
      const input = values.input === '-' ? process.stdin : createReadStream(values.input!);
      const output = values.output ? createWriteStream(values.output) : process.stdout;
      const summary = await worker.processStream(input, output, controller.signal);
      if (output !== process.stdout) {
        output.end();
        await once(output, 'finish');
      }
      log({ event: 'worker.finished', ...summary });
    }
    return 0;
  } finally {
    await worker.close();
    await registry.close();
  }
}

/** A whole number flag, or undefined when absent (the consumer's option parsing reports bad ones). */
const intFlag = (value: string | undefined): number | undefined =>
  value === undefined ? undefined : Number(value);

async function natsMode(
  registry: ModelRegistry,
  uri: string,
  values: Record<string, string | boolean | undefined>,
  describe: unknown,
  signal: AbortSignal,
): Promise<number> {
  const flag = (name: string): string | undefined => values[name] as string | undefined;
  const optional = {
    deadLetterSubject: flag('dead-letter-subject'),
    consumer: flag('consumer'),
    maxInFlight: intFlag(flag('max-in-flight')),
    maxDeliver: intFlag(flag('max-deliver')),
    ackWaitMs: intFlag(flag('ack-wait-ms')),
  };
  const consumer = await createPredictionConsumer({
    registry,
    servers: flag('nats')!,
    inputSubject: flag('input-subject')!,
    outputSubject: flag('output-subject')!,
    uri,
    ...Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined)),
    watch: watchLogs(log),
    log,
  });
  log({
    event: 'worker.started',
    uri,
    registry: describe,
    mode: 'nats',
    input: flag('input-subject'),
    output: flag('output-subject'),
    streams: consumer.streams,
    consumer: consumer.consumer,
    pid: process.pid,
  });
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener('abort', () => resolve(), { once: true });
    consumer.done.then(resolve, resolve);
  });
  await consumer.stop();
  await consumer.done;
  log({ event: 'worker.finished', ...consumer.stats() });
  return 0;
}

async function trainJobs(concurrencyArg: string | undefined, help: boolean): Promise<number> {
  const concurrency = concurrencyArg === undefined ? undefined : Number(concurrencyArg);
  if (
    help ||
    (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 256))
  ) {
    (help ? console.log : console.error)(usage);
    return help ? 0 : 2;
  }
  const { registry, describe, queue } = await openRegistryFromEnv();
  if (queue.warning) log({ event: 'worker.warning', message: queue.warning });
  const controller = new AbortController();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log({ event: 'worker.stopping', signal });
      controller.abort();
    });
  }
  log({ event: 'worker.started', registry: describe, mode: 'train-jobs', pid: process.pid });
  try {
    await runTrainingJobs({
      registry,
      concurrency: concurrency ?? Math.max(1, queue.concurrency),
      signal: controller.signal,
      log,
    });
    return 0;
  } finally {
    await registry.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    log({
      event: 'worker.failed',
      ...(isRegistryError(error) ? { code: error.code } : {}),
      error: error instanceof Error ? error.message : String(error),
    });
    process.exit(1);
  },
);
