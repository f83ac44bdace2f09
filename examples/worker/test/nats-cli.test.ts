import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JetStreamManager, NatsConnection } from 'nats';
import { connect, nanos } from 'nats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRegistry } from '@modelreg/core';
import { ModelRegistry as Registry } from '@modelreg/core';
import { createSqliteMetadataStore } from '@modelreg/meta-sqlite';
import { createFsArtifactStore } from '@modelreg/storage-fs';
import { bundleForChildProcess } from '../../../test-utils/bundle.js';
import { deleteStreams, natsReachable, natsUrl, runTag } from '../../../test-utils/nats-env.js';
import { irisRows, spawnWorker, trainIris } from './helpers.js';

const COUNT = 10_000;
const SECOND_BATCH = 6_000; // ids from here on are published after the worker swapped to version 2

describe.skipIf(!natsReachable)('the worker CLI --nats under faults', () => {
  const tag = runTag('mrworker');
  const subject = { in: `${tag}.in`, out: `${tag}.out` };
  const streams = { in: `${tag.toUpperCase()}_IN`, out: `${tag.toUpperCase()}_OUT` };
  let script: string;
  let dir: string;
  let registry: ModelRegistry;
  let nc: NatsConnection;
  let jsm: JetStreamManager;
  let env: Record<string, string>;
  beforeAll(async () => {
    script = await bundleForChildProcess(fileURLToPath(new URL('../src/worker.ts', import.meta.url)));
    dir = mkdtempSync(join(tmpdir(), 'modelreg-worker-nats-'));
    registry = await Registry.open({
      metadata: createSqliteMetadataStore({ filename: join(dir, 'registry.db') }),
      artifacts: createFsArtifactStore({ root: join(dir, 'artifacts') }),
    });
    await trainIris(registry, 'iris', { stage: 'production' });
    env = { MODELREG_DIR: dir, MODELREG_METADATA_URL: '', MODELREG_ARTIFACTS_URL: '' };
    nc = await connect({ servers: natsUrl });
    jsm = await nc.jetstreamManager();
    for (const key of ['in', 'out'] as const) {
      await jsm.streams.add({
        name: streams[key],
        subjects: [subject[key]],
        duplicate_window: nanos(120_000),
      });
    }
  });
  afterAll(async () => {
    await registry?.close();
    if (nc) {
      await deleteStreams(nc, tag);
      await nc.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  const publishJobs = async (from: number, to: number): Promise<void> => {
    const js = nc.jetstream();
    for (let start = from; start < to; start += 1000) {
      const end = Math.min(to, start + 1000);
      await Promise.all(
        Array.from({ length: end - start }, (_, k) => {
          const id = start + k;
          return js.publish(subject.in, JSON.stringify({ id, ...irisRows[id % irisRows.length] }), {
            msgID: `job-${id}`,
          });
        }),
      );
    }
  };
  const stored = async (): Promise<number> => (await jsm.streams.info(streams.out)).state.messages;
  async function until(what: string, check: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const start = () =>
    spawnWorker(
      script,
      [
        '--model',
        'iris',
        '--nats',
        natsUrl,
        '--input-subject',
        subject.in,
        '--output-subject',
        subject.out,
        '--ack-wait-ms',
        '1000',
      ],
      env,
    );
  const kill9 = async (w: ReturnType<typeof start>): Promise<void> => {
    w.proc.kill('SIGKILL');
    await w.exited;
  };
  const logged = (w: ReturnType<typeof start>, event: string, extra: Record<string, unknown> = {}) =>
    w.stderr.some(
      (l) =>
        typeof l.value === 'object' &&
        l.value.event === event &&
        Object.entries(extra).every(([k, v]) => (l.value as Record<string, unknown>)[k] === v),
    );

  it('10,000 jobs, kill -9 twice, a promotion mid-stream: one result per id, the new version after it', async () => {
    await publishJobs(0, SECOND_BATCH);
    let worker = start();
    await until('1,500 results', async () => (await stored()) >= 1500);
    await kill9(worker);

    worker = start();
    await until('3,000 results', async () => (await stored()) >= 3000);
    // Version 2 of the same run: a promotion the worker must follow (results name version 2).
    const { runId } = (await registry.getVersion('iris', 1))!;
    const v2 = await registry.registerModel('iris', { runId: runId! });
    await registry.transitionStage('iris', v2.version, 'production', { archiveExisting: true });
    const w2 = worker;
    await until('the swap to version 2', () => logged(w2, 'model.swapped', { to: 2 }));
    await publishJobs(SECOND_BATCH, COUNT);
    await until('7,000 results', async () => (await stored()) >= 7000);
    await kill9(worker);

    worker = start();
    await until('every input acknowledged', async () => {
      const info = await jsm.consumers.info(streams.in, `modelreg-predict-${streams.in}`);
      return info.num_pending + info.num_ack_pending === 0;
    });
    worker.proc.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(logged(worker, 'worker.finished')).toBe(true);

    // Read the whole output stream and count results by id.
    const total = await stored();
    expect(total).toBe(COUNT);
    // An ordered consumer reads the stream from its first message.
    const reader = await nc.jetstream().consumers.get(streams.out);
    const byId = new Map<number, Array<{ version: number; msgId: string | undefined }>>();
    let read = 0;
    const messages = await reader.consume({ max_messages: 1000 });
    for await (const m of messages) {
      const r = m.json<{ id: number; version: number; prediction: string }>();
      const list = byId.get(r.id) ?? [];
      list.push({ version: r.version, msgId: m.headers?.get('Nats-Msg-Id') });
      byId.set(r.id, list);
      if (++read === total) break;
    }
    await messages.close();
    expect(read).toBe(COUNT);
    expect(byId.size).toBe(COUNT);
    const counts = new Set([...byId.values()].map((l) => l.length));
    expect(counts).toEqual(new Set([1]));
    for (let id = 0; id < COUNT; id++) expect(byId.get(id)?.[0]?.msgId).toBe(String(id));
    const versionsAfter = new Set(
      Array.from({ length: COUNT - SECOND_BATCH }, (_, k) => byId.get(SECOND_BATCH + k)![0]!.version),
    );
    expect(versionsAfter).toEqual(new Set([2]));
    expect([...byId.values()].some((l) => l[0]!.version === 1)).toBe(true);
  }, 300_000);
});
