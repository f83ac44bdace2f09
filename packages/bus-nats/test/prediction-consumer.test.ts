import type { JsMsg, NatsConnection } from 'nats';
import { AckPolicy, connect } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelRegistry, createMemoryArtifactStore, createMemoryMetadataStore } from '@modelreg/core';
import { createPredictionConsumer, deadLetterHeaders } from '../src/index.js';
import type { PredictionConsumer, PredictionResult } from '../src/index.js';
import { deleteStreams, natsReachable, natsUrl, runTag } from '../../../test-utils/nats-env.js';
import { irisRows, trainIris } from '../../../test-utils/iris.js';

const openRegistry = () =>
  ModelRegistry.open({ metadata: createMemoryMetadataStore(), artifacts: createMemoryArtifactStore() });

describe('createPredictionConsumer options', () => {
  it('a bad option is INVALID_CONFIG naming it, before any connection', async () => {
    const registry = await openRegistry();
    const base = { registry, servers: natsUrl, outputSubject: 'out' };
    await expect(
      createPredictionConsumer({ ...base, inputSubject: 'in.>', model: 'iris' }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/inputSubject/) });
    await expect(createPredictionConsumer({ ...base, inputSubject: 'in' })).rejects.toMatchObject({
      code: 'INVALID_CONFIG',
      message: expect.stringMatching(/exactly one of "uri" and "model"/),
    });
    await expect(
      createPredictionConsumer({ ...base, inputSubject: 'in', model: 'iris', maxInFlight: 0 }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/maxInFlight/) });
    await expect(
      createPredictionConsumer({
        ...base,
        inputSubject: 'in',
        model: 'iris',
        ackWaitMs: 500,
        waitRetryMs: 500,
      }),
    ).rejects.toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringMatching(/waitRetryMs/) });
    await registry.close();
  });
});

describe.skipIf(!natsReachable)('createPredictionConsumer on JetStream', () => {
  const tag = runTag('mrpred');
  let nc: NatsConnection;
  let registry: ModelRegistry;
  beforeAll(async () => {
    nc = await connect({ servers: natsUrl });
    registry = await openRegistry();
    // One training for the file (slow on a loaded machine): version 1 of "iris", in stage none.
    await trainIris(registry, 'iris');
  });
  afterAll(async () => {
    await registry?.close();
    await deleteStreams(nc, tag);
    await nc.close();
  });

  /** Reads `count` messages of `subject` from its stream, from the start. */
  async function read(stream: string, subject: string, count: number): Promise<JsMsg[]> {
    const jsm = await nc.jetstreamManager();
    const name = `r${Math.random().toString(36).slice(2, 8)}`;
    await jsm.consumers.add(stream, {
      durable_name: name,
      ack_policy: AckPolicy.None,
      filter_subject: subject,
    });
    const consumer = await nc.jetstream().consumers.get(stream, name);
    const out: JsMsg[] = [];
    while (out.length < count) {
      const batch = await consumer.fetch({ max_messages: count - out.length, expires: 2000 });
      let got = 0;
      for await (const m of batch) {
        out.push(m);
        got++;
      }
      if (got === 0) break;
    }
    await jsm.consumers.delete(stream, name);
    return out;
  }

  const publishJobs = async (subject: string, jobs: unknown[]): Promise<void> => {
    const js = nc.jetstream();
    await Promise.all(jobs.map((job) => js.publish(subject, JSON.stringify(job))));
  };

  async function until(what: string, check: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('waits while nothing is in production, then answers every job with its id and version', async () => {
    const s = `${tag}.a`;
    let consumer: PredictionConsumer | undefined;
    try {
      // Version 1 is in stage none: nothing serves models:/iris/production yet.
      consumer = await createPredictionConsumer({
        registry,
        nats: nc,
        inputSubject: `${s}.in`,
        outputSubject: `${s}.out`,
        model: 'iris',
        waitRetryMs: 20,
        maxInFlight: 4,
      });
      const c = consumer;
      expect(c.streams).toEqual({
        input: `${tag.toUpperCase()}_A_IN`,
        output: `${tag.toUpperCase()}_A_OUT`,
        deadLetter: `${tag.toUpperCase()}_A_IN_DEAD`,
      });
      await publishJobs(`${s}.in`, [
        ...irisRows.slice(0, 8).map((row, i) => ({ id: `r${i}`, ...row })),
        { id: 'batch', rows: irisRows.slice(0, 3) },
      ]);
      await until('held messages', () => c.stats().waiting === 4);
      expect(c.stats()).toMatchObject({ results: 0, deadLettered: 0, retried: 0, inFlight: 4 });
      await registry.transitionStage('iris', 1, 'production');
      await until('9 results', () => c.stats().results === 9);
      const results = (await read(c.streams.output, `${s}.out`, 9)).map((m) => ({
        msgId: m.headers?.get('Nats-Msg-Id'),
        body: m.json<PredictionResult>(),
      }));
      expect(results).toHaveLength(9);
      for (const { msgId, body } of results) expect(msgId).toBe(String(body.id));
      expect(results.find((r) => r.body.id === 'r0')?.body).toMatchObject({
        model: 'iris',
        version: 1,
        prediction: 'setosa',
      });
      expect(results.find((r) => r.body.id === 'batch')?.body).toMatchObject({
        version: 1,
        predictions: ['setosa', 'setosa', 'setosa'],
      });
      expect(c.stats()).toMatchObject({ retried: 0, deadLettered: 0, waiting: 0 });
    } finally {
      await consumer?.stop();
    }
  });

  it('a body that is not a job is dead-lettered at once; a failing one after maxDeliver deliveries', async () => {
    const s = `${tag}.b`;
    let consumer: PredictionConsumer | undefined;
    try {
      const { runId } = (await registry.getVersion('iris', 1))!;
      const broken = await registry.registerModel('broken', { runId: runId! });
      await registry.transitionStage('broken', broken.version, 'production');
      // The version resolves but its files are gone: every load fails (that is not "nothing serves").
      // Loaded runtimes are cached by content and format: ask for a format not loaded before.
      await registry.stores.artifacts.delete(`runs/${runId}/artifacts/model/MODEL.json`);
      consumer = await createPredictionConsumer({
        registry,
        nats: nc,
        inputSubject: `${s}.in`,
        outputSubject: `${s}.out`,
        model: 'broken',
        maxDeliver: 3,
        retryDelayMs: 0,
        watch: { format: 'onnx' },
      });
      const c = consumer;
      await nc.jetstream().publish(`${s}.in`, 'not json', { msgID: 'poison' });
      await publishJobs(`${s}.in`, [{ id: 'x', ...irisRows[0] }]);
      await until('2 dead letters', () => c.stats().deadLettered === 2);
      const dead = await read(c.streams.deadLetter, c.deadLetterSubject, 2);
      const byId = new Map(dead.map((m) => [m.headers?.get('Nats-Msg-Id'), m]));
      expect(byId.get('poison')?.string()).toBe('not json');
      expect(byId.get('poison')?.headers?.get(deadLetterHeaders.code)).toBe('INVALID_ARGUMENT');
      expect(byId.get('poison')?.headers?.get(deadLetterHeaders.deliveries)).toBe('1');
      expect(byId.get('x')?.headers?.get(deadLetterHeaders.deliveries)).toBe('3');
      expect(byId.get('x')?.headers?.get(deadLetterHeaders.subject)).toBe(`${s}.in`);
      expect(c.stats()).toMatchObject({ results: 0, retried: 2, deadLettered: 2 });
      // Terminated: nothing is pending on the consumer any more.
      const jsm = await nc.jetstreamManager();
      await until('no pending message', async () => {
        const info = await jsm.consumers.info(c.streams.input, c.consumer);
        return info.num_ack_pending + info.num_pending === 0;
      });
    } finally {
      await consumer?.stop();
    }
  });
});
