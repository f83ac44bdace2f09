// Streaming prediction throughput on NATS JetStream (issue 15, acceptance 3).
//
//   npm run build && node bench/nats-worker.mjs [--messages 20000] [--runs 3] [--nats nats://127.0.0.1:4222]
//
// One process, one in-memory registry with a small iris decision tree in production. For each mode,
// `--messages` jobs (one iris record each, with an id) are published to a fresh input stream first,
// then the clock runs from the start of consuming until every job's result is stored. Modes:
//   - jetstream only: the same pull consumer, publish-with-ack and ack per message, no model
//     (the transport's ceiling on this machine);
//   - predict only: live.predictWithVersion on each job's row, one at a time, no NATS
//     (the model's ceiling, as the worker's file mode runs it);
//   - createPredictionConsumer with maxInFlight 16, 64 (the default) and 256.
// Prints the median messages/s of `--runs` runs, and the machine's load average. Streams are deleted.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { AckPolicy, connect, nanos } from 'nats';
import { ModelRegistry, createMemoryArtifactStore, createMemoryMetadataStore } from '@modelreg/core';
import { createPredictionConsumer } from '@modelreg/bus-nats';
import { printTable } from './lib/table.mjs';

const { values: args } = parseArgs({
  options: {
    messages: { type: 'string', default: '20000' },
    runs: { type: 'string', default: '3' },
    nats: { type: 'string', default: process.env.MODELREG_TEST_NATS_URL ?? 'nats://127.0.0.1:4222' },
  },
});
const N = Number(args.messages);
const RUNS = Number(args.runs);

const nc = await connect({ servers: args.nats });
const jsm = await nc.jetstreamManager();
const js = nc.jetstream();
const registry = await ModelRegistry.open({
  metadata: createMemoryMetadataStore(),
  artifacts: createMemoryArtifactStore(),
});
const csv = readFileSync(
  new URL('../packages/core/test/fixtures/datasets/iris.csv', import.meta.url),
  'utf8',
);
await registry.train({
  dataset: { csv },
  target: 'species',
  model: { type: 'decision-tree' },
  split: { seed: 1 },
  register: { name: 'iris', stage: 'production' },
});
const rows = csv
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => {
    const [a, b, c, d] = line.split(',').map(Number);
    return { sepal_length_cm: a, sepal_width_cm: b, petal_length_cm: c, petal_width_cm: d };
  });
const job = (i) => JSON.stringify({ id: i, ...rows[i % rows.length] });

const tags = [];
/** A fresh input stream holding N jobs; returns its subjects. */
async function fill() {
  const tag = `mrbench_${randomBytes(4).toString('hex')}`;
  tags.push(tag);
  const subject = { in: `${tag}.in`, out: `${tag}.out` };
  for (const k of ['in', 'out']) {
    await jsm.streams.add({
      name: `${tag}_${k}`.toUpperCase(),
      subjects: [subject[k]],
      duplicate_window: nanos(120_000),
    });
  }
  for (let s = 0; s < N; s += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, N - s) }, (_, k) =>
        js.publish(subject.in, job(s + k), { msgID: `j${s + k}` }),
      ),
    );
  }
  return { tag, subject, input: `${tag}_IN`.toUpperCase() };
}

async function until(check) {
  while (!check()) await new Promise((r) => setTimeout(r, 2));
}

async function jetstreamOnly() {
  const { subject, input } = await fill();
  await jsm.consumers.add(input, {
    durable_name: 'raw',
    ack_policy: AckPolicy.Explicit,
    max_ack_pending: 64,
  });
  const consumer = await js.consumers.get(input, 'raw');
  const t0 = performance.now();
  const messages = await consumer.consume({ max_messages: 64 });
  let done = 0;
  for await (const m of messages) {
    const { id } = m.json();
    void js
      .publish(subject.out, JSON.stringify({ id, prediction: 'setosa' }), { msgID: String(id) })
      .then(() => {
        m.ack();
        if (++done === N) void messages.close();
      });
  }
  return performance.now() - t0;
}

async function predictOnly() {
  const live = registry.watch('models:/iris/production');
  await live.ready();
  const t0 = performance.now();
  for (let i = 0; i < N; i++) {
    const { id, ...row } = JSON.parse(job(i));
    const { predictions, version } = await live.predictWithVersion([row]);
    JSON.stringify({ id, model: 'iris', version: version?.version, prediction: predictions[0] });
  }
  const ms = performance.now() - t0;
  await live.close();
  return ms;
}

async function consumerMode(maxInFlight) {
  const { subject } = await fill();
  const t0 = performance.now();
  const c = await createPredictionConsumer({
    registry,
    nats: nc,
    inputSubject: subject.in,
    outputSubject: subject.out,
    model: 'iris',
    maxInFlight,
  });
  await until(() => c.stats().results >= N);
  const ms = performance.now() - t0;
  await c.stop();
  return ms;
}

const modes = [
  ['jetstream only (no model), 64 in flight', jetstreamOnly],
  ['predict only (no NATS), one job at a time', predictOnly],
  ['createPredictionConsumer, maxInFlight 16', () => consumerMode(16)],
  ['createPredictionConsumer, maxInFlight 64', () => consumerMode(64)],
  ['createPredictionConsumer, maxInFlight 256', () => consumerMode(256)],
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const table = [];
try {
  for (const [name, run] of modes) {
    const times = [];
    for (let r = 0; r < RUNS; r++) times.push(await run());
    const ms = median(times);
    table.push([
      name,
      N,
      (ms / 1000).toFixed(2) + 's',
      Math.round(N / (ms / 1000)),
      times.map((t) => Math.round(N / (t / 1000))).join(' / '),
    ]);
  }
  printTable(
    `NATS JetStream streaming prediction, ${N} messages, median of ${RUNS} (load average ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}, ${availableParallelism()} CPUs)`,
    ['mode', 'messages', 'time', 'msg/s', 'runs (msg/s)'],
    table,
  );
} finally {
  for (const tag of tags) {
    for (const k of ['IN', 'OUT', 'IN_DEAD'])
      await jsm.streams.delete(`${tag.toUpperCase()}_${k}`).catch(() => undefined);
  }
  await registry.close();
  await nc.close();
}
